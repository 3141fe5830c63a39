"""A pyttsx3 driver that records what it is told to say instead of sounding it: the agent tests' audio device.

pyttsx3 loads a driver as the module `pyttsx3.drivers.<name>`; `install()`
registers this one as `recording`, so `pyttsx3.init("recording")` builds it
and the agent's text travels the whole way through pyttsx3 to here.
"""

from __future__ import annotations

import sys
import threading

from pyttsx3.voice import Voice

NAME = "recording"
HEARD: list[tuple[str, ...]] = []  # ("say", text, voice id) and ("chime",), in the order they sounded
_lock = threading.Lock()


def install() -> str:
    sys.modules[f"pyttsx3.drivers.{NAME}"] = sys.modules[__name__]
    return NAME


def record(*entry: str) -> None:
    with _lock:
        HEARD.append(entry)


def heard() -> list[tuple[str, ...]]:
    with _lock:
        return list(HEARD)


def clear() -> None:
    with _lock:
        HEARD.clear()


def buildDriver(proxy):
    return RecordingDriver(proxy)


class RecordingDriver:
    """Follows pyttsx3's dummy driver (notifications, busy flag, loop), without its half-second sleeps."""

    voices = [Voice("rec/cmn", "Mandarin", ["cmn"]), Voice("rec/en", "English", ["en"])]

    def __init__(self, proxy) -> None:
        self._proxy = proxy
        self._looping = False
        self._config = {"voice": "rec/cmn", "rate": 200, "volume": 1.0}

    def destroy(self) -> None:
        pass

    def startLoop(self) -> None:
        self._looping = True
        self._proxy.setBusy(False)  # runs the queued commands, the last of which ends the loop
        self._looping = False  # everything queued has run: nothing else would end it

    def endLoop(self) -> None:
        self._looping = False

    def iterate(self):
        self._proxy.setBusy(False)
        yield

    def say(self, text: str) -> None:
        self._proxy.setBusy(True)
        self._proxy.notify("started-utterance")
        record("say", text, self._config["voice"])
        self._proxy.notify("finished-utterance", completed=True)
        self._proxy.setBusy(False)

    def stop(self) -> None:
        pass

    def getProperty(self, name: str):
        if name == "voices":
            return self.voices
        return self._config[name]

    def setProperty(self, name: str, value) -> None:
        if name not in self._config:
            raise KeyError(f"unknown property {name}")
        self._config[name] = value
