"""A thin driver for the real app under test: accounts, devices and requests."""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp.test_utils import TestClient

from hall.auth import store as auth_store
from hall.auth.passwords import hash_password
from hall.clock import FakeClock
from hall.keys import CONFIG, DB

PASSWORD = "correct-horse-9"
_names = itertools.count(1)


class HallClient:
    def __init__(self, client: TestClient, clock: FakeClock) -> None:
        self.client = client
        self.clock = clock
        self.app = client.app
        self.db = client.app[DB]
        self.config = client.app[CONFIG]

    # -- accounts and devices -------------------------------------------------------

    async def create_user(self, username: str, role: str = "staff", staff_no: str | None = None, **kw: Any) -> dict:
        hashed = hash_password(kw.pop("password", PASSWORD), self.config.auth.scrypt_n)
        return await self.db.write(
            auth_store.create_user,
            username,
            kw.get("display_name", username),
            role,
            hashed,
            staff_no,
            kw.get("department", ""),
        )

    async def login(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        status, body = await self.post("/api/auth/login", {"username": username, "password": password})
        assert status == 200, body
        return {"Authorization": f"Bearer {body['token']}"}

    async def user(self, role: str = "staff", username: str | None = None, **kw: Any) -> dict[str, str]:
        """A new account of `role`, logged in: the headers to send as it."""
        username = username or f"{role}{next(_names)}"
        await self.create_user(username, role, **kw)
        return await self.login(username)

    async def device(self, kind: str = "kiosk", window: int | None = None) -> dict[str, str]:
        created = await self.db.write(auth_store.create_device, f"{kind}-{next(_names)}", kind, window)
        return {"Authorization": f"Bearer {created['token']}"}

    async def staff_at(self, no: int, **kw: Any) -> dict[str, str]:
        """A staff member signed in at window `no`, which is now open."""
        headers = await self.user("staff", **kw)
        status, body = await self.act(headers, no, "open")
        assert status == 200, body
        return headers

    # -- requests --------------------------------------------------------------------

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict | None = None, **kw: Any
    ) -> tuple[int, Any]:
        async with self.client.request(method, path, json=body, headers=headers, **kw) as resp:
            if resp.status == 204:
                return 204, None
            if resp.content_type == "application/json":
                return resp.status, await resp.json()
            return resp.status, await resp.text()

    async def post(self, path: str, body: Any = None, headers: dict | None = None, **kw: Any) -> tuple[int, Any]:
        return await self.request("POST", path, body, headers, **kw)

    async def get(self, path: str, headers: dict | None = None, **kw: Any) -> tuple[int, Any]:
        return await self.request("GET", path, None, headers, **kw)

    async def issue(self, section: str = "A", headers: dict | None = None, **fields: Any) -> dict:
        """Issue a ticket (by default from a kiosk) and insist it was issued."""
        if headers is None:
            headers = await self.kiosk()
        status, body = await self.post("/api/tickets", {"section": section, **fields}, headers)
        assert status == 201, body
        return body

    async def kiosk(self) -> dict[str, str]:
        if not hasattr(self, "_kiosk"):
            self._kiosk = await self.device("kiosk")
        return self._kiosk

    async def act(self, headers: dict, no: int, action: str, **body: Any) -> tuple[int, Any]:
        return await self.post(f"/api/windows/{no}/{action}", body or None, headers)

    async def call(self, headers: dict, no: int, **body: Any) -> dict | None:
        status, data = await self.act(headers, no, "call", **body)
        assert status in (200, 204), data
        return data["ticket"] if data else None

    async def call_after_finish(self, headers: dict, no: int) -> dict | None:
        """Finish the window's current ticket, then call the next one."""
        status, data = await self.act(headers, no, "finish")
        assert status == 200, data
        return await self.call(headers, no)

    async def ticket(self, ticket_id: int) -> dict:
        staff = await self.viewer()
        status, body = await self.get(f"/api/tickets/{ticket_id}", staff)
        assert status == 200, body
        return body

    async def viewer(self) -> dict[str, str]:
        if not hasattr(self, "_viewer"):
            self._viewer = await self.user("manager")
        return self._viewer

    # -- what is stored -------------------------------------------------------------------

    async def counts(self) -> tuple[int, int]:
        """(tickets, events) in the database."""
        tickets = await self.db.fetchval("SELECT COUNT(*) FROM tickets")
        events = await self.db.fetchval("SELECT COUNT(*) FROM events")
        return tickets, events

    async def event_types(self, after: int = 0) -> list[str]:
        rows = await self.db.fetchall("SELECT type FROM events WHERE id > ? ORDER BY id", (after,))
        return [r[0] for r in rows]
