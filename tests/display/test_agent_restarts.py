"""The display agent against the server as a real process: killed servers, restarted agents, the command line.

Every call is spoken exactly once, in order: across a SIGKILL of the server
(the agent reconnects by itself and catches up) and across a restart of the
agent (it resumes from its state file). Only the audio device is replaced,
as in test_agent.py.
"""

import asyncio
import json
import signal
import sys
import threading

import aiohttp
import pytest

from hall.display import agent as agent_mod
from hall.display.hub import for_screens

from ..server_process import ROOT, ServerProcess, hall_cli
from . import recording_tts
from .test_agent import RunningAgent, announced

AGENT_HALL = """
[hall]
name = "播报测试大厅"

[auth]
scrypt_n = 1024

[voice]
prerender = false

[[sections]]
id = "C"
name = "社保医保"
daily_cap = 1000
hours = ["00:00-24:00"]
days = "daily"

[[windows]]
no = 1
sections = ["*"]
"""
PASSWORD = "agent-pass-1"


@pytest.fixture
def server(tmp_path):
    config = tmp_path / "hall.toml"
    config.write_text(AGENT_HALL, encoding="utf-8")
    db = tmp_path / "hall.db"
    for args in (("user", "add", "li", "--role", "staff"),):
        assert hall_cli(*args, "--config", str(config), "--db", str(db), stdin=PASSWORD + "\n").returncode == 0
    process = ServerProcess(config, db)
    process.tokens = {
        kind: hall_cli(
            "device", "add", f"{kind}-1", "--kind", kind, "--config", str(config), "--db", str(db)
        ).stdout.strip()
        for kind in ("display", "kiosk")
    }
    process.start()
    yield process
    process.kill()


class Window:
    """Window 1 of the hall, worked through the HTTP API as the window caller does."""

    def __init__(self, session: aiohttp.ClientSession, server: ServerProcess) -> None:
        self.session, self.server = session, server

    async def post(self, path: str, headers: dict, body: dict | None = None) -> dict:
        async with self.session.post(f"{self.server.url}{path}", json=body, headers=headers) as resp:
            assert resp.status in (200, 201), await resp.text()
            return await resp.json()

    async def staff(self) -> dict:
        body = await self.post("/api/auth/login", {}, {"username": "li", "password": PASSWORD})
        return {"Authorization": f"Bearer {body['token']}"}

    async def open(self) -> None:
        await self.post("/api/windows/1/open", await self.staff())

    async def call(self) -> str:
        """Issue a ticket and call it (finishing the one before): its number."""
        await self.post("/api/tickets", {"Authorization": f"Bearer {self.server.tokens['kiosk']}"}, {"section": "C"})
        staff = await self.staff()
        async with self.session.post(f"{self.server.url}/api/windows/1/finish", headers=staff):
            pass  # 409 when nothing is being served yet
        return (await self.post("/api/windows/1/call", staff))["ticket"]["number"]

    async def recall(self) -> None:
        await self.post("/api/windows/1/recall", await self.staff())

    async def last_event(self, *types: str) -> int:
        async with self.session.get(
            f"{self.server.url}/api/events?after=0&limit=1000", headers=await self.staff()
        ) as resp:
            events = (await resp.json())["events"]
        # With no type named: the last event a screen or agent is sent at all.
        return max(e["id"] for e in events if (e["type"] in types if types else for_screens(e["type"])))


@pytest.mark.timeout(120)
async def test_each_call_is_spoken_once_across_a_killed_server(server, tmp_path, monkeypatch):
    recording_tts.clear()
    # The agent asks for the voice settings before each connection: holding that back keeps it away
    # until the test lets it return, so a call is surely made while it is disconnected.
    back = threading.Event()
    back.set()
    fetch = agent_mod.fetch_settings
    monkeypatch.setattr(agent_mod, "fetch_settings", lambda *args: back.wait(30) and fetch(*args))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        window = Window(session, server)
        await window.open()
        running = RunningAgent(server.url, server.tokens["display"], tmp_path / "agent.json")
        try:
            await running.handled(await window.last_event())  # connected, at the present
            numbers = [await window.call(), await window.call()]
            await window.recall()
            await running.handled(await window.last_event("ticket.recalled"))
            heard = announced("C001", 1) + announced("C002", 1) + announced("C002", 1, recall=True)
            assert numbers == ["C001", "C002"] and recording_tts.heard() == heard

            back.clear()
            await asyncio.to_thread(server.kill)  # kill -9: no goodbye to the agent
            await asyncio.to_thread(server.start)
            numbers.append(await window.call())  # made before the agent is back: caught up on reconnect
            assert running.agent.connections == 1
            back.set()
            await running.handled(await window.last_event("ticket.called"))
            assert running.agent.connections == 2
            numbers += [await window.call(), await window.call()]
            await running.handled(await window.last_event("ticket.called"))
            assert numbers == ["C001", "C002", "C003", "C004", "C005"]
            heard += announced("C003", 1) + announced("C004", 1) + announced("C005", 1)
            assert recording_tts.heard() == heard
        finally:
            await running.close()


@pytest.mark.timeout(120)
async def test_a_restarted_agent_speaks_what_it_missed_once_and_nothing_twice(server, tmp_path):
    recording_tts.clear()
    state = tmp_path / "agent.json"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        window = Window(session, server)
        await window.open()
        running = RunningAgent(server.url, server.tokens["display"], state)
        try:
            await running.handled(await window.last_event())
            first = await window.call()
            await running.handled(await window.last_event("ticket.called"))
        finally:
            await running.close()
        assert json.loads(state.read_text())["last_id"] >= await window.last_event("ticket.called")

        missed = await window.call()  # while the agent is stopped
        await window.recall()
        running = RunningAgent(server.url, server.tokens["display"], state)
        try:
            await running.handled(await window.last_event("ticket.recalled"))
            later = await window.call()
            await running.handled(await window.last_event("ticket.called"))
        finally:
            await running.close()
    assert recording_tts.heard() == (
        announced(first, 1) + announced(missed, 1) + announced(missed, 1, recall=True) + announced(later, 1)
    )


@pytest.mark.timeout(120)
async def test_the_command_line_agent_speaks_and_stops_cleanly_on_ctrl_c(server, tmp_path):
    """`python -m hall.display.agent` with pyttsx3's own dummy driver: what it spoke is in its log."""
    state = tmp_path / "agent.json"
    command = ["-m", "hall.display.agent", "--server", server.url, "--state", str(state), "--driver", "dummy"]
    refused = await agent_process(*command, "--token", "hd_wrong")
    async with asyncio.timeout(60):
        _, err = await refused.communicate()
    assert refused.returncode == 2 and "refused the token" in err.decode()

    agent = await agent_process(*command, "--token", server.tokens["display"], "--name", "一楼广播")
    try:
        await line_with(agent, "已连接 connected")
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            window = Window(session, server)
            await window.open()
            number = await window.call()
            called = await window.last_event("ticket.called")
        spoken = await line_with(agent, "播报 announce")
        assert number == "C001" and f"#{called}: 请 C 零 零 一 号 到 1 号窗口 办理" in spoken
        await line_with(agent, f"播报完毕 spoken #{called}")
        agent.send_signal(signal.SIGINT)  # Ctrl-C
        async with asyncio.timeout(20):
            assert await agent.wait() == 0
    finally:
        if agent.returncode is None:
            agent.kill()
            await agent.wait()
    saved = json.loads(state.read_text())
    assert saved["server"] == server.url and saved["last_id"] >= called


async def agent_process(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, *args, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )


async def line_with(process: asyncio.subprocess.Process, text: str) -> str:
    """The first line of the agent's log (stderr) containing `text`; 30 s at most."""
    async with asyncio.timeout(30):
        while line := (await process.stderr.readline()).decode():
            if text in line:
                return line
    raise AssertionError(f"the agent ended without logging {text!r}")
