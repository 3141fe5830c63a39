"""The operators' routes: /healthz and /metrics."""

from aiohttp import web

from . import health, metrics


def setup_routes(app: web.Application) -> None:
    health.setup_routes(app)
    metrics.setup_routes(app)
