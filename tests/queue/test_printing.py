"""Ticket slips: ESC/POS bytes (python-escpos's dummy printer) and a network printer on loopback."""

import asyncio
import dataclasses
import os
import subprocess
import sys

import pytest
from aiohttp import DummyCookieJar

from hall.config import Printer
from hall.queue._escpos import Dummy
from hall.queue.printing import CHINESE_MODE, qr_svg, render_slip
from hall.server import create_app

from ..helpers import HallClient

TICKET = {
    "section_name": "不动产登记",
    "number": "B012",
    "priority_name": "老年人",
    "ahead": 3,
    "issued_at": "2026-11-23T09:05:00+08:00",
    "windows": [2, 3],
}


def test_the_slip_carries_what_the_citizen_needs_in_gb18030(config):
    printer = Dummy()
    render_slip(printer, TICKET, config, "http://hall.example/t/secret-token")
    out = printer.output
    assert out.startswith(CHINESE_MODE)
    for text in (
        "测试大厅",
        "不动产登记",
        "【老年人优先】",
        "您前面还有 3 人等候",
        "取号时间 2026-11-23 09:05",
        "办理窗口 2、3 号",
    ):
        assert text.encode("gb18030") in out, text
    assert b"B012" in out
    assert b"\x1d(k" in out and b"http://hall.example/t/secret-token" in out  # the printer's own QR code
    assert b"\x1dV" in out[-8:]  # and the paper is cut


def test_qr_svg_scales_with_its_box():
    svg = qr_svg("http://hall.example/t/abc")
    assert svg.startswith("<svg") and "viewBox" in svg and ' width="' not in svg


class NetworkPrinter:
    """A thermal printer's raw TCP port (9100) on loopback: keeps what it was sent."""

    def __init__(self) -> None:
        self.jobs: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.jobs.append(await reader.read())
        writer.close()


@pytest.fixture
async def printing_hall(aiohttp_client, config, clock, db_path):
    printer = NetworkPrinter()
    server = await asyncio.start_server(printer.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    printers = (Printer(device="一楼取号机", host="127.0.0.1", port=port),)
    app = create_app(dataclasses.replace(config, printers=printers), clock=clock, db_path=db_path)
    hall = HallClient(await aiohttp_client(app, cookie_jar=DummyCookieJar()), clock)
    yield hall, printer
    server.close()
    await server.wait_closed()


async def test_a_kiosk_prints_its_ticket_on_its_own_printer(printing_hall):
    hall, printer = printing_hall
    from hall.auth import store as auth_store

    created = await hall.db.write(auth_store.create_device, "一楼取号机", "kiosk", None)
    kiosk = {"Authorization": f"Bearer {created['token']}"}
    ticket = await hall.issue("A", headers=kiosk)
    status, body = await hall.post(f"/api/tickets/{ticket['id']}/print", None, kiosk)
    assert status == 200 and body["printed"] is True
    for _ in range(50):
        if printer.jobs:
            break
        await asyncio.sleep(0.02)
    job = printer.jobs[0]
    assert ticket["number"].encode() in job and "综合受理".encode("gb18030") in job
    assert f"/t/{ticket['token']}".encode() in job


async def test_printing_is_refused_clearly_when_it_cannot_happen(printing_hall):
    hall, _ = printing_hall
    other = await hall.device("kiosk")  # a kiosk with no printer configured
    ticket = await hall.issue("A", headers=other)
    status, body = await hall.post(f"/api/tickets/{ticket['id']}/print", None, other)
    assert status == 409 and body["error"]["code"] == "no_printer"
    staff = await hall.user("staff")
    status, body = await hall.post(f"/api/tickets/{ticket['id']}/print", None, staff)
    assert status == 403


async def test_an_unreachable_printer_is_a_clear_503(aiohttp_client, config, clock, db_path):
    from hall.auth import store as auth_store

    printers = (Printer(device="二楼取号机", host="127.0.0.1", port=9),)  # nothing listens on port 9
    app = create_app(dataclasses.replace(config, printers=printers), clock=clock, db_path=db_path)
    hall = HallClient(await aiohttp_client(app, cookie_jar=DummyCookieJar()), clock)
    created = await hall.db.write(auth_store.create_device, "二楼取号机", "kiosk", None)
    kiosk = {"Authorization": f"Bearer {created['token']}"}
    ticket = await hall.issue("A", headers=kiosk)
    status, body = await hall.post(f"/api/tickets/{ticket['id']}/print", None, kiosk)
    assert status == 503 and body["error"]["code"] == "printer_unavailable"


def test_starting_hall_leaves_nothing_in_the_temporary_directory(tmp_path):
    """python-escpos makes a temporary directory on import and never removes it; ours is removed."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    env.pop("ESCPOS_CAPABILITIES_PICKLE_DIR", None)
    code = "import hall.server, hall.display.agent, hall.queue.printing; print(hall.queue.printing.Escpos.__name__)"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Escpos"
    assert list(scratch.iterdir()) == []
