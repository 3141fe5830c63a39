"""The README's nginx configuration, run as written in front of a real Hall: TLS, WebSockets, the client's address.

The `nginx` block is taken from README.md itself (only the ports, the
certificate and the upstream's address are changed), so the page operators
copy is the one tested.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

from ..helpers import PASSWORD, HallClient
from ..server_process import free_port

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_nginx() -> str:
    blocks = re.findall(r"```nginx\n(.*?)\n```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 1, "README.md should have exactly one nginx configuration"
    return blocks[0]


def self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@dataclasses.dataclass
class Nginx:
    http: int
    https: int
    process: subprocess.Popen
    error_log: Path

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.https}"


@pytest.fixture
def config(config):
    """Hall told that the proxy on loopback is its own (as `[server] trusted_proxies` is in production)."""
    return dataclasses.replace(config, server=dataclasses.replace(config.server, trusted_proxies=["127.0.0.1"]))


def start_nginx(directory: Path, upstream_port: int) -> Nginx:
    cert, key = self_signed(directory)
    http, https = free_port(), free_port()
    site = readme_nginx()
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{http};"),
        ("listen 443 ", f"listen 127.0.0.1:{https} "),
        ("/etc/ssl/hall/fullchain.pem", str(cert)),
        ("/etc/ssl/hall/privkey.pem", str(key)),
        ("server 127.0.0.1:8080;", f"server 127.0.0.1:{upstream_port};"),
    ):
        assert old in site, f"the README's nginx block no longer has {old!r}"
        site = site.replace(old, new)
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "\n".join(f"{kind}_temp_path {directory}/{kind};" for kind in kinds)
    (directory / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes 1;\npid {directory}/nginx.pid;\nerror_log {directory}/error.log;\n"
        + "events { worker_connections 256; }\n"
        + f"http {{\naccess_log off;\n{temp}\n{site}\n}}\n",
        encoding="utf-8",
    )
    command = ["nginx", "-p", str(directory), "-c", str(directory / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr  # what `nginx -t` says of the README's block
    process = subprocess.Popen([*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(200):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", https), timeout=0.2):
            return Nginx(http, https, process, directory / "error.log")
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.05)
    process.kill()
    raise AssertionError("nginx did not start listening")


def stop_nginx(nginx: Nginx) -> None:
    nginx.process.send_signal(signal.SIGQUIT)
    try:
        nginx.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        nginx.process.kill()
        nginx.process.wait()
    nginx.process.stderr.close()


@pytest.fixture
async def nginx(hall: HallClient, tmp_path):
    running = await asyncio.to_thread(start_nginx, tmp_path, hall.client.server.port)
    try:
        yield running
    finally:
        await asyncio.to_thread(stop_nginx, running)


@pytest.fixture
async def browser_like():
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as http:
        yield http


async def test_plain_http_is_sent_to_https(nginx: Nginx, browser_like: aiohttp.ClientSession):
    async with browser_like.get(f"http://127.0.0.1:{nginx.http}/desk?x=1", allow_redirects=False) as resp:
        assert resp.status == 301
        assert resp.headers["Location"].startswith("https://") and resp.headers["Location"].endswith("/desk?x=1")


async def test_a_login_through_tls_gets_a_secure_cookie_and_nginx_s_request_id(
    hall: HallClient, nginx: Nginx, browser_like: aiohttp.ClientSession
):
    await hall.create_user("zhang")
    async with browser_like.post(
        f"{nginx.base}/api/auth/login", json={"username": "zhang", "password": PASSWORD}
    ) as resp:
        assert resp.status == 200, await resp.text()
        cookie = next(h for h in resp.headers.getall("Set-Cookie") if h.startswith("hall_session="))
        assert "; Secure" in cookie and "HttpOnly" in cookie
        assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-Id"])  # nginx's $request_id, echoed
        assert resp.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


async def test_a_screen_connects_through_nginx_and_is_listed_with_its_own_address(
    hall: HallClient, nginx: Nginx, browser_like: aiohttp.ClientSession
):
    """The WebSocket location must pass the same headers as the rest: Host (with the port, for the
    Origin check) and X-Forwarded-For (the screen's address on /manage/screens)."""
    token = (await hall.device("display"))["Authorization"].split()[1]
    headers = {"Origin": nginx.base, "X-Forwarded-For": "10.20.30.40"}  # as a proxy in the hall's LAN would add
    async with browser_like.ws_connect(f"wss://127.0.0.1:{nginx.https}/ws/screen?token={token}", headers=headers) as ws:
        await ws.send_json({"type": "hello", "name": "一楼大屏", "kind": "screen", "version": "test", "last_id": 0})
        first = await ws.receive_json(timeout=10)
        assert first["type"] in ("hello", "snapshot")
        for _ in range(100):
            status, body = await hall.get("/api/screens", await hall.user("manager"))
            listed = [s for s in body["screens"] if s["name"] == "一楼大屏"]
            if listed:
                break
            await asyncio.sleep(0.05)
        assert status == 200 and listed and listed[0]["address"] == "10.20.30.40"
        assert listed[0]["online"] is True


async def test_metrics_are_closed_to_the_public_and_big_bodies_stop_at_nginx(
    nginx: Nginx, browser_like: aiohttp.ClientSession
):
    async with browser_like.get(f"{nginx.base}/metrics") as resp:
        assert resp.status == 403  # only the monitoring network
    async with browser_like.post(f"{nginx.base}/api/cases", data=io.BytesIO(b"x" * (9 * 1024 * 1024))) as resp:
        assert resp.status == 413  # client_max_body_size 8m
