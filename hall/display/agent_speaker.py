"""The display agent's voice: the loudspeakers, the speaking thread and the agent's saved position.

Announcements are spoken strictly in order by one thread, each to its end
before the next begins. The position (the last event handled) is saved
atomically after each announcement is spoken, so a crash or restart neither
repeats a call nor skips one (a call cut off mid-sentence by a crash is
spoken again: it was never heard whole).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from . import sound
from .tts import Speech, SpeechError
from .voice import Announcement

log = logging.getLogger("hall.agent")

CHIME_RATE = 22050
PLAYERS = (("aplay", "-q"), ("paplay",), ("afplay",))  # the first one installed plays the chime


class AudioDevice(Protocol):
    """What the agent needs of the hall's loudspeakers."""

    def open(self) -> None: ...

    def chime(self) -> None: ...

    def say(self, text: str, voice: str, rate: int) -> None: ...


def play_wav(path: Path) -> None:
    """Play a WAV on the default audio device, the simplest way the platform offers; skip without one."""
    if sys.platform == "win32":
        import winsound

        winsound.PlaySound(str(path), winsound.SND_FILENAME)
        return
    for command in PLAYERS:
        if shutil.which(command[0]):
            subprocess.run([*command, str(path)], check=False, timeout=30, capture_output=True)
            return


class Loudspeakers:
    """Speech through pyttsx3 (espeak-ng on Linux, SAPI on Windows) and the chime through `player`."""

    def __init__(self, driver: str = "", player: Callable[[Path], None] = play_wav) -> None:
        self.speech = Speech(driver, strict=False)
        self.player = player
        self._chime: Path | None = None
        self._chime_dir: tempfile.TemporaryDirectory[str] | None = None

    def open(self) -> None:
        self.speech.open()

    def chime(self) -> None:
        if self._chime is None:
            self._chime_dir = tempfile.TemporaryDirectory(prefix="hall-agent-")
            self._chime = Path(self._chime_dir.name) / "chime.wav"
            sound.write_wav(self._chime, CHIME_RATE, sound.chime(CHIME_RATE))
        self.player(self._chime)

    def close(self) -> None:
        """Remove the chime's temporary file: an agent restarted daily must not leave one behind each time."""
        if self._chime_dir is not None:
            self._chime_dir.cleanup()
        self._chime_dir = self._chime = None

    def say(self, text: str, voice: str, rate: int) -> None:
        self.speech.say(text, voice, rate)


class StateFile:
    """The last event id the agent handled, kept across restarts (written atomically)."""

    def __init__(self, path: Path, server: str) -> None:
        self.path = path
        self.server = server

    def load(self) -> int:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return 0
        except (OSError, ValueError) as e:
            log.warning("状态文件无法读取,从最新状态开始 / state file unreadable, starting afresh: %s", e)
            return 0
        if not isinstance(data, dict) or data.get("server") != self.server:
            return 0  # another server's event ids mean nothing here
        last = data.get("last_id")
        return last if isinstance(last, int) and last >= 0 else 0

    def save(self, last_id: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".state-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"server": self.server, "last_id": last_id}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class Item:
    """An event to handle in order: an announcement to speak, or (None) only a position to reach."""

    event_id: int
    announcement: Announcement | None


class Announcer:
    """The speaking thread: handles items strictly in order, then reports the position reached."""

    def __init__(self, device: AudioDevice, state: StateFile, on_handled: Callable[[int], None]) -> None:
        self.device = device
        self.state = state
        self.on_handled = on_handled
        self.handled = state.load()
        self._items: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._opened: tuple[bool, str] | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)

    def start(self, timeout: float = 30.0) -> None:
        """Start the thread and open the device in it (SAPI wants its engine used where it was made)."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise SpeechError("the speech engine did not start in time")
        assert self._opened is not None
        ok, why = self._opened
        if not ok:
            raise SpeechError(why)

    def put(self, item: Item) -> None:
        self._items.put(item)

    def request_stop(self) -> None:
        """Speak nothing more after the sentence being spoken (the rest waits for the next start)."""
        self._stopping.set()
        self._items.put(None)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop after the sentence being spoken, and wait for it."""
        self.request_stop()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            self.device.open()
            self._opened = (True, "")
        except Exception as e:
            self._opened = (False, str(e))
        self._ready.set()
        if not self._opened[0]:
            return
        while not self._stopping.is_set():
            item = self._items.get()
            if item is None or self._stopping.is_set():
                break
            if item.announcement is not None and not self._speak(item.announcement):
                break  # stopped mid-announcement: not heard whole, so not handled
            # Each spoken call is saved at once; positions of other events when the queue runs dry.
            if item.announcement is not None or self._items.empty():
                try:
                    self.state.save(item.event_id)
                except OSError as e:
                    log.error("状态文件写入失败 / cannot save state %s: %s", self.state.path, e)
                self.handled = item.event_id
                self.on_handled(self.handled)
            else:
                self.handled = item.event_id

    def _speak(self, announcement: Announcement) -> bool:
        """Speak one announcement; False when stopped before its end."""
        log.info("播报 announce #%d: %s", announcement.event_id, announcement.text)
        try:
            if announcement.chime:
                self.device.chime()
            for _ in range(announcement.repeat):
                for sentence in announcement.sentences:
                    if self._stopping.is_set():
                        return False
                    self.device.say(sentence.text, sentence.voice, announcement.rate)
        except (SpeechError, OSError, subprocess.SubprocessError) as e:
            # Retrying could block every later call behind a broken device: the failure is logged instead.
            log.error("播报失败 announcement #%d not spoken: %s", announcement.event_id, e)
            return True
        log.info("播报完毕 spoken #%d", announcement.event_id)
        return True
