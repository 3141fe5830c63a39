"""A loopback Asterisk and a Hall AMI client wired to a call tracker, for the AMI tests."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from hall.callcenter.ami.calls import CallTracker, Happening, QueueSnapshot
from hall.callcenter.ami.client import AmiClient
from hall.callcenter.ami.protocol import Message

from .fake_asterisk import FakeAsterisk, Member

AGENTS = {"PJSIP/8001": "zhang", "PJSIP/8002": "li"}


@dataclass
class Desk:
    """The client as the service would run it: events through a CallTracker, happenings collected."""

    client: AmiClient
    tracker: CallTracker
    happenings: asyncio.Queue[Happening] = field(default_factory=asyncio.Queue)
    events: list[Message] = field(default_factory=list)
    snapshots: list[QueueSnapshot] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def on_event(self, event: Message) -> None:
        self.events.append(event)
        for happening in self.tracker.on_event(event, time.time()):
            self.happenings.put_nowait(happening)

    def on_ready(self, snapshot: QueueSnapshot) -> None:
        self.snapshots.append(snapshot)
        for happening in self.tracker.rebuild(snapshot, time.time()):
            self.happenings.put_nowait(happening)

    async def next(self, seconds: float = 5.0) -> Happening:
        async with asyncio.timeout(seconds):
            return await self.happenings.get()

    async def ready(self, seconds: float = 5.0) -> None:
        async with asyncio.timeout(seconds):
            await self.client.wait_ready()


async def until(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110 - a test poll, bounded by the timeout
            await asyncio.sleep(0.01)


@pytest.fixture
async def asterisk():
    server = FakeAsterisk(
        queues={"hotline": [Member("PJSIP/8001", "张工"), Member("PJSIP/8002", "李工")]}, auth_fail_delay=0.05
    )
    async with server:
        yield server


def make_desk(asterisk: FakeAsterisk, secret: str = "s3cret", **options) -> Desk:
    tracker = CallTracker(agent_for=AGENTS.get, queues=frozenset({"hotline"}))
    client = AmiClient("127.0.0.1", asterisk.port, "hall", secret, reconnect_base=0.05, reconnect_max=0.2, **options)
    desk = Desk(client, tracker)
    client.on_event = desk.on_event
    client.on_ready = desk.on_ready
    return desk


@pytest.fixture
async def desk_factory(asterisk):
    desks: list[Desk] = []

    async def start(**options) -> Desk:
        desk = make_desk(asterisk, **options)
        desk.task = asyncio.create_task(desk.client.run())
        desks.append(desk)
        return desk

    yield start
    for desk in desks:
        desk.client.stop()
        assert desk.task is not None
        desk.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await desk.task


@pytest.fixture
async def desk(desk_factory) -> Desk:
    desk = await desk_factory()
    await desk.ready()
    return desk
