"""The hall screen and a window's screen in a real browser: calls appear without reload, even across a restart."""

import asyncio
import json
import urllib.request

from playwright.async_api import expect

from ..conftest import TEST_CONFIG
from ..helpers import HallClient
from ..server_process import ServerProcess, hall_cli
from .a11y import serious_violations, snapshot

SCREEN = {"width": 1920, "height": 1080}


async def screen_page(browser, base: str, token: str):
    context = await browser.new_context(locale="zh-CN", viewport=SCREEN)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.hall_errors = errors
    await page.goto(f"{base}/device?token={token}")
    return page


async def test_a_call_appears_on_the_hall_screen_and_the_window_screen(hall: HallClient, browser):
    base = str(hall.client.make_url("")).rstrip("/")
    hall_screen = await screen_page(browser, base, (await hall.device("display"))["Authorization"].split()[1])
    assert hall_screen.url.endswith("/screen/hall")
    window_token = (await hall.device("display", window=2))["Authorization"].split()[1]
    window_screen = await screen_page(browser, base, window_token)
    assert window_screen.url.endswith("/screen/window/2")
    await expect(window_screen.locator("#w-state")).to_have_text("暂停服务")

    staff = await hall.staff_at(2, display_name="陈静", staff_no="0207")
    await expect(window_screen.locator("#w-staff-name")).to_have_text("陈静")
    await expect(window_screen.locator("#w-staff-no")).to_have_text("工号 0207")
    ticket = await hall.issue("B", priority="disabled", headers=await hall.user("staff"))
    await expect(hall_screen.locator('#s-sections [data-section="B"] [data-count]')).to_have_text("1 人")
    await hall.call(staff, 2)
    await expect(hall_screen.locator("#s-now .s-now-number")).to_have_text(ticket["number"])
    await expect(hall_screen.locator("#s-now")).to_contain_text("请到 2 号窗口")
    await expect(hall_screen.locator("#s-now .s-priority")).to_have_text("优先·残疾人")
    await expect(hall_screen.locator("#s-calls tr.s-newest")).to_contain_text(ticket["number"])
    await expect(window_screen.locator("#w-number")).to_have_text(ticket["number"])
    await expect(window_screen.locator("#w-state")).to_have_text(f"请 {ticket['number']} 号到本窗口")
    await expect(hall_screen.locator('#s-sections [data-section="B"] [data-count]')).to_have_text("0 人")
    await snapshot(hall_screen, "screen-hall")
    await snapshot(window_screen, "screen-window")
    assert await serious_violations(hall_screen) == []
    assert await serious_violations(window_screen) == []
    await hall.act(staff, 2, "start")
    await expect(window_screen.locator("#w-state")).to_have_text("正在办理")
    await hall.act(staff, 2, "finish")
    await expect(window_screen.locator("#w-number")).to_have_text("—")
    await hall.act(staff, 2, "pause")
    await expect(window_screen.locator("#w-state")).to_have_text("暂停服务")
    manager = await hall.user("manager")
    await hall.request("PUT", "/api/notice", {"text": "本周六(11月28日)大厅照常办公"}, manager)
    await expect(hall_screen.locator("#s-notice-text")).to_have_text("本周六(11月28日)大厅照常办公")
    for page in (hall_screen, window_screen):
        assert page.hall_errors == []
        await page.context.close()


def api(url: str, path: str, token: str, body=None, method="POST"):
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=5) as resp:
        return json.loads(resp.read() or b"null")


def login(url: str, username: str) -> str:
    request = urllib.request.Request(
        url + "/api/auth/login",
        data=json.dumps({"username": username, "password": "screen-pass-1"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as resp:
        return json.loads(resp.read())["token"]


async def test_the_screen_comes_back_by_itself_after_a_server_restart(tmp_path, browser):
    db = tmp_path / "screens.db"
    display = hall_cli("device", "add", "大厅屏", "--kind", "display", "--config", str(TEST_CONFIG), "--db", str(db))
    kiosk = hall_cli("device", "add", "取号机", "--kind", "kiosk", "--config", str(TEST_CONFIG), "--db", str(db))
    assert (
        hall_cli(
            "user",
            "add",
            "wu",
            "--role",
            "staff",
            "--config",
            str(TEST_CONFIG),
            "--db",
            str(db),
            stdin="screen-pass-1\n",
        ).returncode
        == 0
    )
    server = ServerProcess(TEST_CONFIG, db, env={"HALL_ADMIN_PASSWORD": "screen-admin-pw"})
    try:
        server.start()
        page = await screen_page(browser, server.url, display.stdout.strip())
        staff = login(server.url, "wu")
        api(server.url, "/api/windows/4/open", staff)  # window 4 serves C, which issues around the clock
        first = api(server.url, "/api/tickets", kiosk.stdout.strip(), {"section": "C"})
        api(server.url, "/api/windows/4/call", staff)
        await expect(page.locator("#s-now .s-now-number")).to_have_text(first["number"])

        await asyncio.to_thread(server.kill)  # a power cut of the server
        await expect(page.locator("#s-offline")).to_be_visible(timeout=10_000)
        await asyncio.to_thread(server.start)
        # Calls made while the screen has not yet come back: it must show them when it does.
        api(server.url, "/api/windows/4/finish", staff)
        second = api(server.url, "/api/tickets", kiosk.stdout.strip(), {"section": "C"})
        third = api(server.url, "/api/tickets", kiosk.stdout.strip(), {"section": "C"})
        api(server.url, "/api/windows/4/call", staff)
        api(server.url, "/api/windows/4/finish", staff)
        api(server.url, "/api/windows/4/call", staff)
        await expect(page.locator("#s-offline")).to_be_hidden(timeout=20_000)
        await expect(page.locator("#s-now .s-now-number")).to_have_text(third["number"])
        rows = page.locator("#s-calls tr .s-num")
        await expect(rows).to_have_text([third["number"], second["number"], first["number"]])
        await snapshot(page, "screen-hall-after-restart")
        assert page.hall_errors == []
        await page.context.close()
    finally:
        server.kill()


def short_wav(seconds: float = 0.4) -> bytes:
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * int(8000 * seconds))
    return buffer.getvalue()


async def test_announcements_play_one_after_another_never_cut_off(hall: HallClient, browser):
    base = str(hall.client.make_url("")).rstrip("/")
    page = await screen_page(browser, base, (await hall.device("display"))["Authorization"].split()[1])
    loop = asyncio.get_running_loop()
    fetched: list[tuple[str, float]] = []
    clip = short_wav(0.4)

    async def serve(route):
        # Each announcement stands in as a 0.4 s clip, so the order can be timed in a test.
        fetched.append((route.request.url.rsplit("/", 1)[1], loop.time()))
        await route.fulfill(status=200, content_type="audio/wav", body=clip)

    await page.route("**/api/announcements/*.wav", serve)
    await page.click("#s-sound")  # the one tap browsers need before they play sound
    assert await page.get_attribute("#s-sound", "aria-pressed") == "true"
    staff = await hall.staff_at(1)
    for _ in range(3):
        await hall.issue("C")
    await hall.call(staff, 1)
    await hall.act(staff, 1, "recall")
    await hall.call_after_finish(staff, 1)
    events = await hall.db.fetchall(
        "SELECT id FROM events WHERE type IN ('ticket.called', 'ticket.recalled') ORDER BY id"
    )
    expected = [f"{r[0]}.wav" for r in events]
    for _ in range(100):
        if len(fetched) == 3:
            break
        await asyncio.sleep(0.05)
    assert [name for name, _ in fetched] == expected  # in the order of the calls, each once
    gaps = [later - earlier for (_, earlier), (_, later) in zip(fetched, fetched[1:], strict=False)]
    assert all(gap >= 0.35 for gap in gaps), gaps  # the next starts only when the one playing has ended
    await page.context.close()
