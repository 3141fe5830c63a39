"""`python -m hall`: serving, accounts and devices from the command line."""

import json
import re
import sqlite3
import time
import urllib.request

import pytest

from .conftest import TEST_CONFIG
from .server_process import ServerProcess, hall_cli


def login(url: str, username: str, password: str) -> int:
    request = urllib.request.Request(
        f"{url}/api/auth/login",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


def test_user_add_reads_the_password_from_stdin(tmp_path):
    db = tmp_path / "h.db"
    done = hall_cli(
        "user",
        "add",
        "zhang",
        "--role",
        "staff",
        "--staff-no",
        "0101",
        "--display-name",
        "张伟",
        "--config",
        str(TEST_CONFIG),
        "--db",
        str(db),
        stdin="a-long-password\n",
    )
    assert done.returncode == 0, done.stderr
    assert "added staff zhang" in done.stdout
    listed = hall_cli("user", "list", "--config", str(TEST_CONFIG), "--db", str(db))
    assert "zhang" in listed.stdout and "张伟" in listed.stdout and "0101" in listed.stdout
    again = hall_cli(
        "user",
        "add",
        "zhang",
        "--role",
        "staff",
        "--config",
        str(TEST_CONFIG),
        "--db",
        str(db),
        stdin="a-long-password\n",
    )
    assert again.returncode == 1 and "username_taken" in again.stderr
    weak = hall_cli(
        "user", "add", "li", "--role", "staff", "--config", str(TEST_CONFIG), "--db", str(db), stdin="short\n"
    )
    assert weak.returncode == 1 and "weak_password" in weak.stderr
    bad_role = hall_cli("user", "add", "li", "--role", "boss", "--config", str(TEST_CONFIG), "--db", str(db))
    assert bad_role.returncode == 2


def test_device_add_prints_the_token_once(tmp_path):
    db = tmp_path / "h.db"
    done = hall_cli("device", "add", "一楼取号机", "--kind", "kiosk", "--config", str(TEST_CONFIG), "--db", str(db))
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert re.fullmatch(r"hd_[A-Za-z0-9_-]{40,}", token)
    listed = hall_cli("device", "list", "--config", str(TEST_CONFIG), "--db", str(db))
    assert "一楼取号机" in listed.stdout and token not in listed.stdout
    nowhere = hall_cli(
        "device", "add", "pad", "--kind", "pad", "--window", "99", "--config", str(TEST_CONFIG), "--db", str(db)
    )
    assert nowhere.returncode == 1 and "window_not_found" in nowhere.stderr


def test_a_broken_config_is_reported_not_traced(tmp_path):
    broken = tmp_path / "bad.toml"
    broken.write_text('[hall]\nname = "x"\n[[sections]]\nid = "a"\n', encoding="utf-8")
    done = hall_cli("user", "list", "--config", str(broken), "--db", str(tmp_path / "h.db"))
    assert done.returncode == 2 and "sections[0].id" in done.stderr and "Traceback" not in done.stderr


def test_settings_lists_every_setting_with_help(tmp_path):
    done = hall_cli("settings", "--config", str(TEST_CONFIG))
    assert done.returncode == 0
    assert "recall_limit = 3" in done.stdout and "How many times a window may recall" in done.stdout
    for table in ("[queue]", "[kiosk]", "[notify]", "[appointments]", "[voice]"):
        assert table in done.stdout


@pytest.mark.timeout(120)
def test_serve_prints_every_page_and_a_first_admin_login_once(tmp_path):
    server = ServerProcess(TEST_CONFIG, tmp_path / "h.db", env={"HALL_ADMIN_PASSWORD": ""})
    try:
        out = server.start()
        out = server.wait_for("first admin login")
        out = server.wait_for("password")
        for path in (
            "/",
            "/login",
            "/hall",
            "/kiosk",
            "/counter/{窗口号}",
            "/t/{号票查询码}",
            "/appointments",
            "/manage",
        ):
            assert f"{server.url}{path}\n" in out
        password = re.search(r"user admin\s+password (\S+)\s+\(generated", out).group(1)
        assert login(server.url, "admin", password) == 200
        assert server.stop() == 0
        out = server.start()
        out = server.wait_for("first admin login")
        out = server.wait_for("user admin")
        assert password not in out and "shown at first start" in out
        assert login(server.url, "admin", password) == 200
    finally:
        server.kill()


@pytest.mark.timeout(120)
def test_two_halls_run_side_by_side_and_the_env_password_wins(tmp_path):
    one = ServerProcess(TEST_CONFIG, tmp_path / "one.db", env={"HALL_ADMIN_PASSWORD": "first-hall-pw"})
    two = ServerProcess(TEST_CONFIG, tmp_path / "two.db", env={"HALL_ADMIN_PASSWORD": "second-hall-pw"})
    try:
        one.start()
        two.start()
        assert "password from HALL_ADMIN_PASSWORD" in one.wait_for("HALL_ADMIN_PASSWORD")
        assert login(one.url, "admin", "first-hall-pw") == 200
        assert login(two.url, "admin", "second-hall-pw") == 200
        assert login(one.url, "admin", "second-hall-pw") == 401
    finally:
        one.kill()
        two.kill()


def test_user_unlock_lifts_a_login_lock_when_no_admin_can_sign_in(tmp_path):
    db = tmp_path / "h.db"
    common = ("--config", str(TEST_CONFIG), "--db", str(db))
    assert hall_cli("user", "add", "admin2", "--role", "admin", *common, stdin="a-long-password\n").returncode == 0
    with sqlite3.connect(db) as conn:  # five wrong passwords: what the login would have written
        conn.execute(
            "INSERT INTO login_failures (key, failures, last_at, locked_until) VALUES ('user:admin2', 5, ?, ?)",
            (time.time(), time.time() + 1800),
        )
    done = hall_cli("user", "unlock", "admin2", *common)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "admin2: login lock lifted"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM login_failures").fetchone()[0] == 0
    assert hall_cli("user", "unlock", "admin2", *common).stdout.strip() == "admin2: was not locked"
    nobody = hall_cli("user", "unlock", "nobody", *common)
    assert nobody.returncode == 1 and "user_not_found" in nobody.stderr
    with sqlite3.connect(db) as conn:  # the admin's own office address, locked by a guesser next door
        conn.execute(
            "INSERT INTO login_failures (key, failures, last_at, locked_until) VALUES ('addr:10.1.2.3', 20, ?, ?)",
            (time.time(), time.time() + 1800),
        )
    done = hall_cli("user", "unlock", "--address", "10.1.2.3", *common)
    assert done.returncode == 0 and done.stdout.strip() == "address 10.1.2.3: login lock lifted", done.stderr
    neither = hall_cli("user", "unlock", *common)
    assert neither.returncode == 1 and "invalid_arguments" in neither.stderr
