"""The display agent: the PC that drives the hall's loudspeakers speaks every call, once, in order.

    python -m hall.display.agent --server http://127.0.0.1:8080 --token hd_… [--state FILE] [--name NAME]

It connects to the screen hub (`/ws/screen`, see hall/display/hub.py) with a
display device's token like any screen, resuming after the last event it
handled, and speaks each call and recall as the server would render it (the
templates come from the server's `GET /api/voice`). A snapshot (the agent was
away too long, or is new) moves it to the present without speaking old calls.
It reconnects by itself with backoff when the server goes away, and keeps its
position in a state file, so neither a server restart nor its own repeats or
skips a call. Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import random
import shutil
import signal
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import websockets
from websockets.exceptions import InvalidStatus, WebSocketException

from ..config import ConfigError, VoiceSettings, parse_voice
from .agent_speaker import Announcer, AudioDevice, Item, Loudspeakers, StateFile
from .tts import SpeechError, default_driver
from .voice import announcement_for

log = logging.getLogger("hall.agent")

VERSION = "0.1.0"
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
HTTP_TIMEOUT_S = 10.0
MAX_MESSAGE = 16 * 2**20  # a snapshot of a big hall
STALE_S = 180.0  # a call replayed later than this after it was made is not announced: the citizen is long gone


class Fatal(Exception):
    """A problem no reconnect will fix: the token is refused."""


def backoff(first: float = BACKOFF_FIRST_S, cap: float = BACKOFF_MAX_S) -> Iterator[float]:
    """1 s, 2 s, 4 s … up to 30 s, each ±20 % so screens that lost the server together do not return together."""
    delay = first
    while True:
        yield min(cap, delay * random.uniform(0.8, 1.2))
        delay = min(cap, delay * 2)


def ws_url(server: str, token: str, after: int) -> str:
    parts = urllib.parse.urlsplit(server.rstrip("/"))
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    query = urllib.parse.urlencode({"token": token, "after": after})
    return urllib.parse.urlunsplit((scheme, parts.netloc, parts.path + "/ws/screen", query, ""))


def fetch_settings(server: str, token: str) -> VoiceSettings:
    """The server's [voice] settings (blocking; the hall server is on the LAN, so no proxy)."""
    request = urllib.request.Request(f"{server.rstrip('/')}/api/voice", headers={"Authorization": f"Bearer {token}"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=HTTP_TIMEOUT_S) as response:
            data = json.loads(response.read())
    except ValueError:
        raise OSError("GET /api/voice: not JSON (is --server the hall server?)") from None
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            refused = "服务器拒绝了设备令牌,需要显示屏(display)设备的令牌 / the server refused the token"
            raise Fatal(f"{refused} ({e.code})") from None
        raise OSError(f"GET /api/voice answered {e.code}") from None
    try:
        if not isinstance(data, dict):
            raise ConfigError("not a JSON object")
        return parse_voice(data)
    except ConfigError as e:
        raise OSError(f"GET /api/voice: unusable settings: {e}") from None


class Agent:
    def __init__(
        self, server: str, token: str, state: StateFile, device: AudioDevice, name: str, voice: str | None = None
    ) -> None:
        self.server, self.token, self.name, self.voice = server, token, name, voice
        self.announcer = Announcer(device, state, self._report)
        self.received = 0  # the last event id queued for the announcer
        self._clock_offset: float | None = None  # server time minus local time, from the hub's hello
        self.connections = 0  # sessions established so far
        self._ws: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._progress = asyncio.Event()
        self._ack_due = False

    async def run(self, stop: asyncio.Event) -> None:
        """Speak until `stop` is set; raises Fatal when the speech engine or the token can never work."""
        self._loop = asyncio.get_running_loop()
        try:
            await asyncio.to_thread(self.announcer.start)
        except SpeechError as e:
            raise Fatal(f"语音引擎不可用 / no speech engine: {e}") from None
        self.received = self.announcer.handled
        delays = backoff()
        try:
            while not stop.is_set():
                try:
                    settings = await asyncio.to_thread(fetch_settings, self.server, self.token)
                    if self.voice:
                        settings = dataclasses.replace(settings, voice=self.voice)
                    if await self._session(settings, stop):
                        delays = backoff()
                except InvalidStatus as e:
                    if e.response.status_code in (401, 403):
                        raise Fatal(f"服务器拒绝了设备令牌 / the server refused the token: {e}") from None
                    log.warning("连接被拒绝 / connection refused: %s", e)
                except (OSError, TimeoutError, WebSocketException) as e:
                    log.warning("与服务器断开 / lost the server: %s", e or type(e).__name__)
                if stop.is_set():
                    break
                delay = next(delays)
                log.info("%.1f 秒后重连 / reconnecting in %.1f s", delay, delay)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):  # not wait_for, which may swallow a cancellation
                        await stop.wait()
        finally:
            await asyncio.to_thread(self.announcer.stop)

    async def wait_handled(self, event_id: int) -> None:
        """Return once every event up to `event_id` has been handled (spoken, if it was a call)."""
        while self.announcer.handled < event_id:
            self._progress.clear()
            await self._progress.wait()

    async def _session(self, settings: VoiceSettings, stop: asyncio.Event) -> bool:
        """One connection, until it ends or `stop`; True if it was established."""
        url = ws_url(self.server, self.token, self.received)
        async with websockets.connect(
            url, proxy=None, max_size=MAX_MESSAGE, close_timeout=3, user_agent_header=f"hall-agent/{VERSION}"
        ) as ws:
            hello = {"type": "hello", "name": self.name, "kind": "agent", "version": VERSION, "last_id": self.received}
            await ws.send(json.dumps(hello, ensure_ascii=False))
            self._ws = ws
            self.connections += 1
            log.info("已连接 connected to %s, after event %d", self.server, self.received)
            reader = asyncio.create_task(self._read(ws, settings))
            stopper = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self._ws = None
                stopper.cancel()
                if not reader.done():
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await reader
            if reader.done() and not reader.cancelled():
                reader.result()  # a broken connection is reported by the caller
        return True

    async def _read(self, ws: Any, settings: VoiceSettings) -> None:
        async for raw in ws:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if isinstance(message, dict):
                await self._handle(ws, message, settings)

    async def _handle(self, ws: Any, message: dict[str, Any], settings: VoiceSettings) -> None:
        kind, event_id, payload = message.get("type"), message.get("id"), message.get("payload")
        if not isinstance(event_id, int) or isinstance(event_id, bool):
            return
        if isinstance(payload, dict) and isinstance(kind, str):  # an event
            if event_id <= self.received:
                return  # already queued (a replay overlapping what arrived before)
            self.received = event_id
            announcement = announcement_for(event_id, kind, payload, settings)
            if announcement is not None and self._stale(message.get("at")):
                log.info("不再播报过时的叫号 / call %d is %s, too old to announce", event_id, kind)
                announcement = None
            self.announcer.put(Item(event_id, announcement))
        elif kind == "hello" and isinstance(message.get("at"), (int, float)):
            self._clock_offset = message["at"] - time.time()  # the server's clock, as seen from here
        if kind == "hello" and event_id < self.received:
            log.warning("服务器的事件比本机记录的少(换过数据库?) / server is behind our state, from %d", event_id)
            self.received = event_id
            self.announcer.put(Item(event_id, None))
        elif kind == "snapshot" and event_id > self.received:
            log.info("跳到最新状态 / snapshot at event %d: calls before it are not spoken (stale)", event_id)
            self.received = event_id
            self.announcer.put(Item(event_id, None))
        elif kind == "ping":
            await self._send_ack(ws)

    def _stale(self, at: Any) -> bool:
        """A call replayed after the agent was away longer than STALE_S is not announced any more."""
        if self._clock_offset is None or not isinstance(at, (int, float)):
            return False
        return time.time() + self._clock_offset - at > STALE_S

    def _report(self, handled: int) -> None:
        """From the speaking thread: the position reached."""
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop closed while the last sentence was spoken
            self._loop.call_soon_threadsafe(self._handled)

    def _handled(self) -> None:
        self._progress.set()
        if self._ws is not None and not self._ack_due:
            self._ack_due = True
            asyncio.ensure_future(self._send_ack(self._ws))

    async def _send_ack(self, ws: Any) -> None:
        self._ack_due = False
        with contextlib.suppress(WebSocketException, OSError):
            await ws.send(json.dumps({"type": "ack", "last_id": self.announcer.handled}))


def default_state(server: str) -> Path:
    netloc = urllib.parse.urlsplit(server).netloc.replace(":", "-") or "server"
    return Path.home() / ".hall" / f"agent-{netloc}.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m hall.display.agent", description="大厅语音播报 / hall voice agent")
    parser.add_argument("--server", required=True, help="the hall server, e.g. http://192.168.10.2:8080")
    parser.add_argument("--token", required=True, help="a display device's token (python -m hall device add …)")
    parser.add_argument("--state", type=Path, help="where the last handled event id is kept")
    parser.add_argument("--name", default=socket.gethostname(), help="how the hall's screen list shows this agent")
    parser.add_argument("--driver", default="", help="pyttsx3 driver: espeak, sapi5, nsss, dummy (default: this OS's)")
    parser.add_argument("--voice", help="speak with this voice instead of the server's (e.g. a SAPI voice name)")
    args = parser.parse_args(argv)
    if urllib.parse.urlsplit(args.server).scheme not in ("http", "https"):
        parser.error(f"--server must be an http:// or https:// address, got {args.server!r}")
    return args


async def _main(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, AttributeError, ValueError):  # Windows: KeyboardInterrupt
            loop.add_signal_handler(sig, stop.set)
    state = StateFile(args.state or default_state(args.server), args.server.rstrip("/"))
    speakers = Loudspeakers(args.driver)
    agent = Agent(args.server, args.token, state, speakers, args.name, args.voice)
    try:
        await agent.run(stop)
    except Fatal as e:
        log.error("%s", e)
        return 2
    finally:
        speakers.close()
    log.info("已停止 / stopped at event %d", agent.announcer.handled)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("websockets").setLevel(logging.WARNING)
    driver = args.driver or default_driver()
    if driver == "espeak" and sys.platform != "win32" and not shutil.which("aplay"):
        log.error("找不到 aplay,无法发声 / aplay not found: pyttsx3's espeak driver plays through it (alsa-utils)")
        return 2
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
