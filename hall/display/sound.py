"""Sound as 16-bit mono PCM: the chime, pauses, and WAV files read, joined and written with `wave`."""

from __future__ import annotations

import functools
import math
import os
import struct
import tempfile
import wave
from pathlib import Path

SAMPLE_WIDTH = 2  # bytes: 16-bit
# The chime: two soft tones falling a major third (E5 → C5, the "ding-dong" of a station
# announcement), each with a short rise and a slow decay so it neither clicks nor startles.
CHIME_TONES = ((659.25, 0.45), (523.25, 0.75))  # (Hz, seconds)
CHIME_LEVEL = 0.28  # of full scale; espeak speaks at about 0.1-0.3 RMS, the chime sits below its peaks
PAUSE_AFTER_CHIME_S = 0.35
PAUSE_BETWEEN_S = 0.7  # between two repeats of the sentence
PAUSE_BETWEEN_SENTENCES_S = 0.4  # between the Mandarin sentence and an extra one


class SoundError(ValueError):
    """A WAV that is not 16-bit mono PCM, or of another sample rate than the rest."""


@functools.lru_cache(maxsize=4)
def chime(rate: int) -> bytes:
    """The chime at `rate` samples per second, as 16-bit mono frames."""
    out = bytearray()
    for frequency, seconds in CHIME_TONES:
        count = int(rate * seconds)
        attack = max(1, int(rate * 0.012))
        samples = []
        for i in range(count):
            t = i / rate
            envelope = min(1.0, i / attack) * math.exp(-4.0 * t / seconds)
            # A touch of the octave makes it a bell rather than a beep.
            value = math.sin(2 * math.pi * frequency * t) + 0.25 * math.sin(4 * math.pi * frequency * t)
            samples.append(int(32767 * CHIME_LEVEL * envelope * value / 1.25))
        out += struct.pack(f"<{count}h", *samples)
    return bytes(out)


def silence(rate: int, seconds: float) -> bytes:
    return bytes(SAMPLE_WIDTH * int(rate * seconds))


def read_frames(path: Path) -> tuple[int, bytes]:
    """(sample rate, frames) of a 16-bit mono WAV."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != SAMPLE_WIDTH or w.getnchannels() != 1:
                raise SoundError(f"{path.name}: {8 * w.getsampwidth()}-bit, {w.getnchannels()} channels")
            return w.getframerate(), w.readframes(w.getnframes())
    except (EOFError, wave.Error) as e:
        raise SoundError(f"{path.name}: not a WAV file ({e})") from None


def write_wav(path: Path, rate: int, frames: bytes) -> None:
    """Write a 16-bit mono WAV atomically: readers see the whole file or none."""
    fd, tmp = tempfile.mkstemp(suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            with wave.open(f, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(SAMPLE_WIDTH)
                w.setframerate(rate)
                w.writeframes(frames)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def assemble(rate: int, sentences: list[bytes], repeat: int, with_chime: bool) -> bytes:
    """The announcement: the chime, then the sentences (one after another) `repeat` times."""
    once = silence(rate, PAUSE_BETWEEN_SENTENCES_S).join(sentences)
    body = silence(rate, PAUSE_BETWEEN_S).join([once] * repeat)
    if with_chime:
        return chime(rate) + silence(rate, PAUSE_AFTER_CHIME_S) + body
    return body


def duration(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()
