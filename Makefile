# Hall: `make run` starts the demo hall, `make test` runs every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
CONFIG ?= config.toml
# Debian packages the tests need (installed with apt-get when missing).
TEST_DEBS := chromium fonts-wqy-microhei espeak-ng dovecot-imapd nginx openssl
BENCH_DEBS := wrk

.PHONY: run test bench soak lint clean

$(VENV)/.runtime: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Hall needs Python 3.11 or newer")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.test: $(VENV)/.runtime requirements-test.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

# axe-core, which the browser tests inject into every page
tests/web/node_modules/.installed: tests/web/package-lock.json
	npm ci --prefix tests/web --no-audit --no-fund --loglevel=error
	touch $@

# Spoken calls need espeak-ng; without it (no apt, not root) the hall runs silent.
RUN_DEBS := espeak-ng

run: $(VENV)/.runtime
	-@scripts/apt-ensure $(RUN_DEBS) || echo "espeak-ng not installed: calls will not be spoken"
	$(PY) -m hall serve --config $(CONFIG)

test: $(VENV)/.test tests/web/node_modules/.installed
	scripts/apt-ensure $(TEST_DEBS)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

bench: $(VENV)/.test
	scripts/apt-ensure $(BENCH_DEBS)
	$(PY) bench/run.py
	$(PY) bench/screens.py
	$(PY) bench/wechat.py
	$(PY) bench/ami.py
	$(PY) bench/ratings.py

# An hour of a busy day at ten times its rate against one server: memory and open files stay flat.
soak: $(VENV)/.test
	$(PY) bench/soak.py

lint: $(VENV)/.test
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

clean:
	rm -rf $(VENV) var .pytest_cache
