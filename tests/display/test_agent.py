"""The display agent speaks every call once, in order, across restarts of the server and of itself.

The agent runs as it does in the hall, with pyttsx3 and the `websockets`
client; only the audio device is replaced: pyttsx3 is given a recording
driver (tests/display/recording_tts.py), so the exact text the agent hands to
pyttsx3 is checked, and the chime player records instead of playing.
"""

import asyncio
import itertools
import json
import threading
from pathlib import Path

import pytest

from hall.display import hub as hub_mod
from hall.display import sound
from hall.display.agent import Agent, backoff, ws_url
from hall.display.agent_speaker import Announcer, Item, Loudspeakers, StateFile
from hall.display.hub import for_screens
from hall.display.registry import REGISTRY
from hall.display.voice import Announcement, Sentence
from hall.keys import BUS

from ..helpers import HallClient
from . import recording_tts

DRIVER = recording_tts.install()


def chime_player(path: Path) -> None:
    rate, frames = sound.read_frames(path)
    assert frames == sound.chime(rate)  # the agent plays the same chime the server renders
    recording_tts.record("chime")


def announced(number: str, window: int, recall: bool = False, repeat: int = 2) -> list[tuple[str, ...]]:
    """What the hall hears for one call: the chime, then the sentence `repeat` times in the Mandarin voice."""
    digits = " ".join("零一二三四五六七八九"[int(c)] if c.isdigit() else c for c in number)
    again = "再次" if recall else ""
    return [("chime",)] + [("say", f"请 {digits} 号 {again}到 {window} 号窗口 办理", "rec/cmn")] * repeat


@pytest.fixture(autouse=True)
def silence():
    recording_tts.clear()
    yield
    recording_tts.clear()


class RunningAgent:
    """An agent running on the test's loop, as `python -m hall.display.agent` runs it."""

    def __init__(self, server: str, token: str, state: Path) -> None:
        self.speakers = Loudspeakers(DRIVER, chime_player)
        self.agent = Agent(server, token, StateFile(state, server), self.speakers, "测试播报机")
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.agent.run(self.stop))

    async def handled(self, event_id: int) -> None:
        """Wait (30 s at most) until everything up to `event_id` is handled; fail at once if the agent died."""
        waiter = asyncio.create_task(self.agent.wait_handled(event_id))
        try:
            async with asyncio.timeout(30):
                await asyncio.wait({waiter, self.task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if self.task.done():
            self.task.result()
            raise AssertionError("the agent stopped")
        assert self.agent.announcer.handled >= event_id

    async def close(self) -> None:
        self.stop.set()
        async with asyncio.timeout(20):
            await self.task
        self.speakers.close()


def token_of(headers: dict) -> str:
    return headers["Authorization"].split()[1]


async def last_event(hall: HallClient, event_type: str | None = None) -> int:
    if event_type is None:  # the last event a screen or agent is sent at all
        rows = await hall.db.fetchall("SELECT id, type FROM events ORDER BY id")
        return max(r[0] for r in rows if for_screens(r[1]))
    return await hall.db.fetchval("SELECT MAX(id) FROM events WHERE type = ?", (event_type,))


# -- against the app in this process (its real TCP server) -------------------------------------------


async def test_calls_are_spoken_in_order_once_each_and_acknowledged(hall: HallClient, tmp_path):
    staff = await hall.staff_at(1)
    await hall.issue("C")
    await hall.call(staff, 1)  # before the agent's first start: it begins at the present, silently
    display = await hall.device("display")
    url = str(hall.client.make_url("")).rstrip("/")
    running = RunningAgent(url, token_of(display), tmp_path / "state.json")
    try:
        await running.handled(await last_event(hall))
        assert recording_tts.heard() == []
        for section in "CA":
            await hall.issue(section)
        first = await hall.call_after_finish(staff, 1)
        await hall.act(staff, 1, "recall")
        second = await hall.call_after_finish(staff, 1)
        last = await last_event(hall, "ticket.called")
        await running.handled(last)
        assert {first["number"], second["number"]} == {"C002", "A001"}
        assert recording_tts.heard() == (
            announced(first["number"], 1) + announced(first["number"], 1, recall=True) + announced(second["number"], 1)
        )
        assert json.loads((tmp_path / "state.json").read_text()) == {"server": url, "last_id": last}
        # The hub hears how far the agent got (its acks), and knows it as an agent.
        device_id = await hall.db.fetchval("SELECT MAX(id) FROM devices WHERE kind = 'display'")
        live = hall.app[REGISTRY].live[device_id]
        for _ in range(500):  # the ack crosses the socket; nothing to await on this side of it
            if live.acked >= last:
                break
            await asyncio.sleep(0.01)
        assert (live.acked, live.kind) == (last, "agent")
    finally:
        await running.close()


async def test_after_too_long_away_old_calls_are_not_spoken(hall: HallClient, tmp_path, monkeypatch):
    monkeypatch.setattr(hub_mod, "REPLAY_LIMIT", 5)
    staff = await hall.staff_at(4)
    display = token_of(await hall.device("display"))
    url = str(hall.client.make_url("")).rstrip("/")
    state = tmp_path / "state.json"
    StateFile(state, url).save(hall.app[BUS].last_id)
    for _ in range(4):  # while the agent was away: more events than the hub replays
        await hall.issue("C")
    await hall.call(staff, 4)
    for _ in range(3):
        await hall.call_after_finish(staff, 4)
    running = RunningAgent(url, display, state)
    try:
        await running.handled(await last_event(hall))  # moved on by the snapshot
        assert recording_tts.heard() == []
        await hall.issue("C")
        await hall.call_after_finish(staff, 4)
        await running.handled(await last_event(hall, "ticket.called"))
        assert recording_tts.heard() == announced("C005", 4)
    finally:
        await running.close()


class SlowSpeaker:
    """An audio device whose first sentence lasts until the test lets it end."""

    def __init__(self) -> None:
        self.sentences: list[str] = []
        self.speaking = threading.Event()
        self.release = threading.Event()

    def open(self) -> None:
        pass

    def chime(self) -> None:
        self.sentences.append("chime")

    def say(self, text: str, voice: str, rate: int) -> None:
        self.sentences.append(f"{text} begins")
        self.speaking.set()
        assert self.release.wait(10)
        self.sentences.append(f"{text} ends")


def sentence(event_id: int, text: str, repeat: int = 1) -> Announcement:
    return Announcement(event_id, "call", (Sentence(text, "cmn"),), repeat=repeat, chime=False, rate=150)


async def test_a_new_call_never_cuts_off_the_one_being_spoken(tmp_path):
    device = SlowSpeaker()
    reached = {1: threading.Event(), 3: threading.Event()}
    announcer = Announcer(device, StateFile(tmp_path / "s.json", "x"), lambda i: i in reached and reached[i].set())
    await asyncio.to_thread(announcer.start)
    try:
        announcer.put(Item(1, sentence(1, "first")))
        assert await asyncio.to_thread(device.speaking.wait, 10)
        announcer.put(Item(2, None))
        announcer.put(Item(3, sentence(3, "second")))
        assert not await asyncio.to_thread(reached[1].wait, 0.2)  # still speaking: the next call waits
        assert device.sentences == ["first begins"] and announcer.handled == 0
        device.release.set()
        assert await asyncio.to_thread(reached[3].wait, 10)
    finally:
        await asyncio.to_thread(announcer.stop)
    assert device.sentences == ["first begins", "first ends", "second begins", "second ends"]
    assert StateFile(tmp_path / "s.json", "x").load() == 3


async def test_stopped_mid_announcement_it_is_spoken_again_next_time(tmp_path):
    device = SlowSpeaker()
    state = StateFile(tmp_path / "s.json", "x")
    state.save(6)
    announcer = Announcer(device, state, lambda _: None)
    await asyncio.to_thread(announcer.start)
    announcer.put(Item(7, sentence(7, "repeated", repeat=2)))
    assert await asyncio.to_thread(device.speaking.wait, 10)
    announcer.request_stop()  # Ctrl-C while the first of its two repeats is spoken
    device.release.set()
    await asyncio.to_thread(announcer.stop)
    assert device.sentences == ["repeated begins", "repeated ends"]  # the second time was never begun
    assert state.load() == 6 and announcer.handled == 6


def test_the_hub_address_and_the_reconnect_delays():
    assert (
        ws_url("http://192.168.10.2:8080", "hd_a+b", 41) == "ws://192.168.10.2:8080/ws/screen?token=hd_a%2Bb&after=41"
    )
    assert ws_url("https://hall.example/sub/", "t", 0) == "wss://hall.example/sub/ws/screen?token=t&after=0"
    delays = list(itertools.islice(backoff(), 8))
    assert 0.8 <= delays[0] <= 1.2 and 1.6 <= delays[1] <= 2.4 and 3.2 <= delays[2] <= 4.8
    assert all(d <= 30 for d in delays) and delays[-1] >= 24  # doubling up to 30 s, each ±20 %


async def test_calls_replayed_long_after_they_were_made_are_not_spoken(hall: HallClient, tmp_path):
    staff = await hall.staff_at(4)
    display = token_of(await hall.device("display"))
    url = str(hall.client.make_url("")).rstrip("/")
    state = tmp_path / "state.json"
    StateFile(state, url).save(hall.app[BUS].last_id)
    await hall.issue("C")
    await hall.call(staff, 4)  # made while the agent PC was off…
    hall.clock.advance(10 * 60)  # …and it comes back ten minutes later
    await hall.issue("C")
    fresh = await hall.call_after_finish(staff, 4)
    running = RunningAgent(url, display, state)
    try:
        await running.handled(await last_event(hall))
        assert recording_tts.heard() == announced(fresh["number"], 4)  # only the call still worth announcing
    finally:
        await running.close()


def test_the_chime_file_is_removed_when_the_agent_stops():
    played: list[Path] = []

    def player(path: Path) -> None:
        chime_player(path)
        played.append(path)

    speakers = Loudspeakers(DRIVER, player)
    speakers.chime()
    speakers.chime()
    assert len(played) == 2 and played[0] == played[1] and played[0].is_file()  # written once, played twice
    speakers.close()
    assert not played[0].exists() and not played[0].parent.exists()
    speakers.close()  # stopping twice is harmless
