"""What a call sounds like: the sentences of an announcement, from the `[voice]` templates.

Plain functions, no I/O. The server renders an announcement to a WAV
(`speech.py`) and the display agent speaks it (`agent.py`); both take the
words from here, so the hall hears the same sentence from either.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ..config import VoiceSettings

ANNOUNCED = ("ticket.called", "ticket.recalled")
CHINESE_DIGITS = "零一二三四五六七八九"
ENGLISH_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def spoken_number(number: str) -> str:
    """A001 → "A 零 零 一": letters kept, each digit a Chinese numeral, spaced so each is read alone."""
    return " ".join(CHINESE_DIGITS[int(c)] if c in "0123456789" else c for c in number.strip())


def spoken_number_en(number: str) -> str:
    """A001 → "A zero zero one", for English templates."""
    return " ".join(ENGLISH_DIGITS[int(c)] if c in "0123456789" else c for c in number.strip())


@dataclass(frozen=True)
class Sentence:
    text: str
    voice: str


@dataclass(frozen=True)
class Announcement:
    """One call spoken: a chime, then the sentences `repeat` times."""

    event_id: int
    kind: str  # "call" or "recall"
    sentences: tuple[Sentence, ...]
    repeat: int
    chime: bool
    rate: int

    @property
    def text(self) -> str:
        return " / ".join(s.text for s in self.sentences)

    def key(self) -> str:
        """Names the sound, not the event: equal announcements share one rendered file."""
        sound = {
            "sentences": [[s.text, s.voice] for s in self.sentences],
            "repeat": self.repeat,
            "chime": self.chime,
            "rate": self.rate,
        }
        return hashlib.sha256(json.dumps(sound, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:40]


def template_fields(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The placeholders of the templates, from a call's payload; None when the payload lacks them."""
    ticket, window = payload.get("ticket"), payload.get("window")
    if not isinstance(ticket, dict) or not isinstance(window, dict):
        return None
    number, no = ticket.get("number"), window.get("no")
    if not isinstance(number, str) or not number.strip() or isinstance(no, bool) or not isinstance(no, int):
        return None
    name = window.get("name")
    return {
        "number": spoken_number(number),
        "number_en": spoken_number_en(number),
        "ticket": number,
        "window": no,
        "window_name": name if isinstance(name, str) and name else f"{no}号窗口",
    }


def announcement_text(event_type: str, payload: dict[str, Any], settings: VoiceSettings) -> str | None:
    """The main (Mandarin) sentence of a call or recall; None for any other event."""
    fields = template_fields(payload) if event_type in ANNOUNCED else None
    if fields is None:
        return None
    return (settings.recall if event_type == "ticket.recalled" else settings.call).format(**fields)


def announcement_for(
    event_id: int, event_type: str, payload: dict[str, Any], settings: VoiceSettings
) -> Announcement | None:
    """The announcement of an event: the main sentence, then each of `also`; None for other events."""
    fields = template_fields(payload) if event_type in ANNOUNCED else None
    if fields is None:
        return None
    recall = event_type == "ticket.recalled"
    sentences = [Sentence((settings.recall if recall else settings.call).format(**fields), settings.voice)]
    for name in settings.also:
        extra = settings.templates[name]
        sentences.append(Sentence((extra.recall if recall else extra.call).format(**fields), extra.voice))
    return Announcement(
        event_id=event_id,
        kind="recall" if recall else "call",
        sentences=tuple(sentences),
        repeat=settings.repeat,
        chime=settings.chime,
        rate=settings.rate,
    )
