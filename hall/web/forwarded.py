"""What a request says about how the citizen's browser reached us, through a trusted proxy or not."""

from __future__ import annotations

from aiohttp import web


def client_address(request: web.Request, trusted_proxies: list[str]) -> str:
    """The caller's address: the peer's, or X-Forwarded-For's when the peer is a trusted proxy."""
    peer = request.remote or ""
    if peer not in trusted_proxies:
        return peer
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()]
    for address in reversed(forwarded):  # the nearest hop not ours is the client
        if address not in trusted_proxies:
            return address
    return peer


def over_https(request: web.Request, trusted_proxies: list[str]) -> bool:
    """Did the browser use HTTPS: to us directly, or to a proxy of ours that says so (X-Forwarded-Proto)?

    Cookies are marked Secure then, so a session never travels over plain HTTP afterwards,
    not even to the proxy's http:// redirect.
    """
    if request.secure:
        return True
    if (request.remote or "") not in trusted_proxies:
        return False
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proto == "https"
