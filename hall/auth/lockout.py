"""Login lockout: wrong passwords counted per username and per client address.

After `lockout_failures` wrong passwords for one username (or
`lockout_address_failures` from one address) the name, or the address, is
locked for a minute; each further failure doubles the lock, up to
`lockout_max_minutes`. A success clears the username's count (not the
address's: a hall's staff may share one address, and one good login must not
wipe an attacker's record). The counts are in the database, so a restart does
not forgive them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import AuthSettings
from ..storage import Database, Tx
from ..web.ratelimit import RateLimited

BASE_LOCK_S = 60.0


@dataclass(frozen=True)
class Keys:
    user: str
    address: str

    @classmethod
    def of(cls, username: str, address: str) -> Keys:
        return cls(f"user:{username.strip().lower()}", f"addr:{address}")


def lock_seconds(failures: int, threshold: int, max_minutes: int) -> float:
    """How long `failures` lock for: none below the threshold, then 1, 2, 4 … minutes, at most the max."""
    if failures < threshold:
        return 0.0
    return min(max_minutes * 60.0, BASE_LOCK_S * 2 ** min(failures - threshold, 20))


def locked(message_wait: float) -> RateLimited:
    wait = max(1, int(message_wait + 0.999))
    minutes = (wait + 59) // 60
    return RateLimited("login_locked", f"登录失败次数过多,已暂时锁定,请 {minutes} 分钟后再试", retry_after=wait)


async def locked_until(db: Database, keys: Keys) -> float:
    value = await db.fetchval(
        "SELECT MAX(locked_until) FROM login_failures WHERE key IN (?, ?)", (keys.user, keys.address)
    )
    return float(value or 0.0)


def record_failure(tx: Tx, keys: Keys, settings: AuthSettings) -> float:
    """Writer unit: count a wrong password for the username and the address; return when the lock ends."""
    now = tx.now
    forget_before = now - settings.lockout_window_minutes * 60.0
    until = 0.0
    for key, threshold in ((keys.user, settings.lockout_failures), (keys.address, settings.lockout_address_failures)):
        row = tx.one("SELECT failures, last_at, locked_until FROM login_failures WHERE key = ?", (key,))
        failures = 1
        if row is not None and max(row["last_at"], row["locked_until"]) >= forget_before:
            failures = row["failures"] + 1
        lock = lock_seconds(failures, threshold, settings.lockout_max_minutes)
        key_until = now + lock if lock else 0.0
        tx.execute(
            "INSERT INTO login_failures (key, failures, last_at, locked_until) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_at = excluded.last_at, "
            "locked_until = excluded.locked_until",
            (key, failures, now, key_until),
        )
        until = max(until, key_until)
    # Old records of names nobody tries any more (a scan of random usernames) do not pile up.
    stale = forget_before - settings.lockout_max_minutes * 60.0
    tx.execute("DELETE FROM login_failures WHERE last_at < ? AND locked_until < ?", (stale, stale))
    return until


def clear(tx: Tx, keys: Keys) -> None:
    """Writer unit: a correct password clears the username's count."""
    tx.execute("DELETE FROM login_failures WHERE key = ?", (keys.user,))


def unlock(tx: Tx, username: str) -> bool:
    """Writer unit: an administrator lifts a username's lock (and forgets its count); was it locked?

    The locks of addresses stay: they record where the guessing came from.
    """
    key = Keys.of(username, "").user
    was_locked = (tx.value("SELECT locked_until FROM login_failures WHERE key = ?", (key,)) or 0.0) > tx.now
    tx.execute("DELETE FROM login_failures WHERE key = ?", (key,))
    return was_locked


def unlock_address(tx: Tx, address: str) -> bool:
    """Writer unit: lift a client address's lock (staff behind one NAT address, locked by one guesser)."""
    key = Keys.of("", address).address
    was_locked = (tx.value("SELECT locked_until FROM login_failures WHERE key = ?", (key,)) or 0.0) > tx.now
    tx.execute("DELETE FROM login_failures WHERE key = ?", (key,))
    tx.emit("login.address_unlocked", {"address": address, "was_locked": was_locked})
    return was_locked


async def address_locks(db: Database, now: float) -> list[dict[str, float | int | str]]:
    """Client addresses locked now: how many failures, and until when."""
    rows = await db.fetchall(
        "SELECT key, failures, locked_until FROM login_failures WHERE key LIKE 'addr:%' AND locked_until > ? "
        "ORDER BY locked_until DESC",
        (now,),
    )
    return [
        {"address": r["key"].removeprefix("addr:"), "failures": r["failures"], "locked_until": r["locked_until"]}
        for r in rows
    ]


async def user_locks(db: Database, now: float) -> dict[str, float]:
    """Usernames (lower case) locked now, with when each lock ends."""
    rows = await db.fetchall(
        "SELECT key, locked_until FROM login_failures WHERE key LIKE 'user:%' AND locked_until > ?", (now,)
    )
    return {r["key"].removeprefix("user:"): r["locked_until"] for r in rows}
