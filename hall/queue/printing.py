"""Ticket slips: the QR code, and ESC/POS for the kiosk's thermal printer.

The slip carries what the citizen needs without a phone: hall, section,
number, people ahead, time and the windows that serve it, plus a QR code of
the tracking page. Chinese thermal printers print GB18030 text once put in
Chinese mode (FS &); the QR code is the printer's own (GS ( k), so it stays
sharp at any size.
"""

from __future__ import annotations

import asyncio
from typing import Any

import qrcode
import qrcode.image.svg

from ..config import Config, Printer
from ..errors import Conflict, HallError
from ._escpos import Dummy, Escpos

CHINESE_MODE = b"\x1c\x26"  # FS &: double-byte (GB18030) characters on
SEND_TIMEOUT_S = 5.0


def qr_svg(data: str) -> str:
    """An SVG QR code of `data`, sized by its viewBox so CSS decides how large it shows."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    return svg.replace('width="', 'data-w="', 1).replace('height="', 'data-h="', 1)


def _text(printer: Escpos, line: str) -> None:
    printer._raw(line.encode("gb18030") + b"\n")


def render_slip(printer: Escpos, ticket: dict[str, Any], config: Config, tracking_url: str) -> None:
    """Write one ticket slip to `printer` (any python-escpos printer, including Dummy)."""
    printer._raw(CHINESE_MODE)
    printer.set(align="center", bold=True, double_height=True, double_width=True)
    _text(printer, config.name)
    printer.set(align="center", bold=False, normal_textsize=True)
    _text(printer, ticket["section_name"])
    printer.set(align="center", bold=True, custom_size=True, width=4, height=4)
    _text(printer, ticket["number"])
    printer.set(align="center", bold=False, normal_textsize=True)
    if ticket.get("priority_name"):
        _text(printer, f"【{ticket['priority_name']}优先】")
    if ticket.get("ahead") is not None:
        _text(printer, f"您前面还有 {ticket['ahead']} 人等候")
    _text(printer, f"取号时间 {ticket['issued_at'][:10]} {ticket['issued_at'][11:16]}")
    windows = "、".join(str(no) for no in ticket.get("windows", []))
    if windows:
        _text(printer, f"办理窗口 {windows} 号")
    printer.set(align="center")  # native QR codes follow the line alignment
    printer.qr(tracking_url, native=True, size=6)
    _text(printer, "扫码查看排队进度,叫号时手机提醒")
    _text(printer, "过号请到窗口说明,请妥善保管本号票")
    printer.cut()


def slip_bytes(ticket: dict[str, Any], config: Config, tracking_url: str) -> bytes:
    printer = Dummy()
    render_slip(printer, ticket, config, tracking_url)
    return printer.output


async def send_to_printer(printer: Printer, data: bytes) -> None:
    """Send a slip to a network thermal printer (raw TCP, as on port 9100)."""
    try:
        async with asyncio.timeout(SEND_TIMEOUT_S):
            reader, writer = await asyncio.open_connection(printer.host, printer.port)
        writer.write(data)
        async with asyncio.timeout(SEND_TIMEOUT_S):
            await writer.drain()
        writer.close()
        await writer.wait_closed()
    except (OSError, TimeoutError) as e:
        raise HallError(
            "printer_unavailable", "取号机打印机没有响应,请使用屏幕打印或联系工作人员", status=503, reason=str(e)
        ) from None


def printer_of(config: Config, device_name: str) -> Printer:
    printer = config.printer_for(device_name)
    if printer is None:
        raise Conflict("no_printer", "这台取号机没有配置热敏打印机,请使用浏览器打印")
    return printer
