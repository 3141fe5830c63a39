"""pyttsx3, tamed: one engine per driver and process, one utterance at a time, each finished before the next.

The server renders announcements to files with it (`speech.py`) and the
display agent speaks through it (`agent_speaker.py`). What pyttsx3 2.99 and
its espeak driver do that this module absorbs:

* espeak runs asynchronously (`AUDIO_OUTPUT_RETRIEVAL` starts espeak's own
  thread), so `runAndWait()` may return before the file is written or the
  sound played; the driver finishes from espeak's thread. We wait for the
  `finished-utterance` notification, then `espeak_Synchronize()`, so espeak's
  thread is idle before the engine is touched again (it would otherwise pump
  our next command from its own thread).
* `runAndWait()` ends with the driver's `stop()`, which cancels whatever
  espeak still has queued: a rate set just before (`SetParameter` is queued
  too) was silently dropped about one time in two. Properties are set, then
  espeak synchronised, before the utterance; and an espeak engine is taken
  out of its initial "busy" state at once (espeak's callback leaves it idle
  after every utterance anyway), so properties are applied when set rather
  than inside the next `runAndWait()`.
* Only the last `say()`/`save_to_file()` before `runAndWait()` is spoken, a
  `runAndWait()` without a new one speaks the previous text again, and a
  `say()` after `save_to_file()` writes that file again: exactly one
  utterance per `runAndWait()`, and `say()` forgets the last file.
* Destroying an espeak engine unsets espeak's process-wide callback and
  silences every other engine: engines are kept for the life of the process.
* `setProperty()` errors are swallowed into an `error` notification: collected
  and raised. The driver `print()`s on stdout: sent to the debug log instead.
* An exception inside `runAndWait()` leaves the engine believing its loop
  still runs ("run loop already started" forever after): its state is reset.
* `runAndWait()` leaves the engine idle, so the next commands run at once,
  the next `runAndWait()`'s endLoop too, before the driver's loop starts: the
  dummy driver then loops for ever. Other drivers than espeak get each
  utterance queued for the loop, as on the first run.
"""

from __future__ import annotations

import logging
import sys
import threading
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

UTTERANCE_TIMEOUT_S = 60.0  # far longer than any announcement sentence takes to speak or render


class SpeechError(RuntimeError):
    """The speech engine failed on one utterance."""


class SpeechUnavailable(SpeechError):
    """No speech engine: pyttsx3 or its driver (espeak-ng) is missing, or the voice is unknown."""


def default_driver() -> str:
    return {"win32": "sapi5", "darwin": "nsss"}.get(sys.platform, "espeak")


@dataclass
class _Engine:
    """A pyttsx3 engine and what its notifications told us about the current utterance."""

    engine: Any
    driver: str
    done: threading.Event = field(default_factory=threading.Event)
    errors: list[BaseException] = field(default_factory=list)
    voices: dict[str, str] = field(default_factory=dict)  # asked for → the engine's voice id ("" when none fits)
    voice: str | None = None  # as last set
    rate: int | None = None


_LOCK = threading.Lock()  # one utterance at a time in the whole process: espeak is process-wide
_ENGINES: dict[str, _Engine] = {}


def _open(driver: str) -> _Engine:
    if driver in _ENGINES:
        return _ENGINES[driver]
    try:
        import pyttsx3
    except ImportError:
        raise SpeechUnavailable("pyttsx3 is not installed (pip install pyttsx3)") from None
    try:
        engine = pyttsx3.init(driver)
    except ModuleNotFoundError:
        raise SpeechUnavailable(f"pyttsx3 has no speech driver {driver!r}") from None
    except Exception as e:  # the driver's own failure: espeak-ng's library missing, SAPI not registered, …
        hint = " (apt-get install espeak-ng)" if driver == "espeak" else ""
        raise SpeechUnavailable(f"speech driver {driver!r} failed to start: {e}{hint}") from None
    if driver == "espeak":
        # After each utterance espeak's callback leaves the engine idle; make the first one alike,
        # so properties are applied when set, not inside the next runAndWait().
        engine.proxy.setBusy(False)
    state = _Engine(engine, driver)
    engine.connect("finished-utterance", lambda **_: state.done.set())
    engine.connect("error", lambda exception=None, **_: state.errors.append(exception or SpeechError("error")))
    if driver == "espeak":
        from pyttsx3.drivers import espeak as espeak_driver

        espeak_driver.print = lambda *args, **_: log.debug("espeak: %s", " ".join(map(str, args)))
    _ENGINES[driver] = state
    return state


def _voice_id(state: _Engine, wanted: str) -> str:
    """The engine's voice for a name like "cmn" (espeak) or "Huihui" (SAPI); "" when none fits."""
    if wanted not in state.voices:
        found = ""
        key = wanted.lower()
        for v in state.engine.getProperty("voices") or ():
            vid, name = str(v.id), str(v.name or "")
            languages = [str(x).lower() for x in (v.languages or ())]
            if key in (vid.lower(), name.lower()) or vid.lower().endswith("/" + key) or key in languages:
                found = vid
                break
            if not found and key in name.lower():
                found = vid
        state.voices[wanted] = found
    return state.voices[wanted]


class Speech:
    """Speaks or renders one sentence at a time with a pyttsx3 driver; call from one thread at a time.

    `strict`: an unknown voice is an error (the server: a Mandarin sentence in
    espeak's English voice is noise); otherwise the engine's default voice is
    used with a warning (an agent on Windows with a Chinese SAPI voice).
    """

    def __init__(self, driver: str = "", strict: bool = True, timeout: float = UTTERANCE_TIMEOUT_S) -> None:
        self.driver = driver or default_driver()
        self.strict = strict
        self.timeout = timeout

    def open(self) -> None:
        """Start the engine now, so a missing one is reported at start-up (SpeechUnavailable)."""
        with _LOCK:
            _open(self.driver)

    def check(self, voice: str) -> None:
        """Raise SpeechUnavailable unless the engine starts and (when strict) has the voice."""
        with _LOCK:
            state = _open(self.driver)
            if not _voice_id(state, voice) and self.strict:
                raise SpeechUnavailable(f"speech driver {self.driver!r} has no voice {voice!r}")

    def save(self, text: str, voice: str, rate: int, path: Path) -> None:
        """Render `text` to a WAV file at `path`."""
        self._utter(text, voice, rate, path)
        try:
            with wave.open(str(path), "rb") as w:
                frames = w.getnframes()
        except (OSError, EOFError, wave.Error) as e:
            raise SpeechError(f"the speech engine wrote no readable WAV: {e}") from None
        if frames == 0:
            raise SpeechError("the speech engine wrote an empty WAV")

    def say(self, text: str, voice: str, rate: int) -> None:
        """Speak `text` on the audio device; returns once it has been spoken."""
        self._utter(text, voice, rate, None)

    def _utter(self, text: str, voice: str, rate: int, path: Path | None) -> None:
        with _LOCK:
            state = _open(self.driver)
            engine = state.engine
            vid = _voice_id(state, voice)
            if not vid:
                if self.strict:
                    raise SpeechUnavailable(f"speech driver {self.driver!r} has no voice {voice!r}")
                if state.voice is None:
                    log.warning("voice %r not found in %s, speaking with its default voice", voice, self.driver)
                    state.voice = ""
            state.done.clear()
            state.errors.clear()
            if self.driver != "espeak":
                # Queue everything for the loop, as on pyttsx3's first run: runAndWait() leaves the
                # engine idle, and a synchronous driver (2.99's dummy) then ran our endLoop before
                # its loop began, and looped for ever.
                engine.proxy.setBusy(True)
            try:
                if vid and vid != state.voice:
                    engine.setProperty("voice", vid)
                    state.voice = vid
                if rate != state.rate:
                    engine.setProperty("rate", rate)
                    state.rate = rate
                _synchronize(state)  # the properties applied, before runAndWait() cancels what is queued
                if path is None:
                    _forget_file(engine)
                    engine.say(text)
                else:
                    engine.save_to_file(text, str(path))
                engine.runAndWait()
                finished = state.done.wait(self.timeout)
                _synchronize(state)
            except Exception as e:
                _reset(state)
                raise SpeechError(f"speech driver {self.driver!r} failed: {e}") from e
            if not finished:
                _reset(state)
                raise SpeechError(f"speech driver {self.driver!r} did not finish within {self.timeout:.0f} s")
            if state.errors:
                state.voice = state.rate = None  # a failed setProperty: set both again next time
                raise SpeechError(f"speech driver {self.driver!r} failed: {state.errors[0]}")


def _synchronize(state: _Engine) -> None:
    """Wait until espeak's own thread has done everything queued (other drivers are synchronous)."""
    if state.driver == "espeak":
        from pyttsx3.drivers import _espeak

        _espeak.Synchronize()


def _forget_file(engine: Any) -> None:
    """The espeak driver keeps the last save_to_file() target and would write it again instead of speaking."""
    driver = getattr(engine.proxy, "_driver", None)
    if getattr(driver, "_save_file", None) is not None:
        driver._save_file = None


def _reset(state: _Engine) -> None:
    """After a failure inside runAndWait(): the engine's loop flag and queue as if it had ended."""
    engine = state.engine
    engine._inLoop = False
    proxy = engine.proxy
    proxy._queue.clear()
    proxy._busy = False
    state.voice = state.rate = None
