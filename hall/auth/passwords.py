"""Password hashes with scrypt (stdlib), compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

R, P, LENGTH = 8, 1, 32


def hash_password(password: str, n: int) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, n)
    return f"scrypt${n}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or int(r) != R or int(p) != P:
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=R, p=P, dklen=LENGTH, maxmem=256 * n * R + 2**20)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# Verified against when a login names no existing user, so the answer takes as
# long as for a wrong password and does not reveal which usernames exist.
def dummy_hash(n: int) -> str:
    return hash_password(secrets.token_urlsafe(12), n)
