"""The application factory: builds the whole server from a Config."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from . import events
from .auth import pages as auth_pages
from .auth import schema as auth_schema
from .auth import views as auth_views
from .auth.middleware import AUTHENTICATOR, Authenticator, auth_middleware
from .callcenter import letter_page
from .callcenter import pages as callcenter_pages
from .callcenter import schema as callcenter_schema
from .callcenter import views as callcenter_views
from .callcenter.ami.service import ami_ctx
from .callcenter.mail.service import mail_ctx
from .callcenter.tasks import callcenter_ctx
from .callcenter.wechat import views as wechat_views
from .clock import Clock
from .config import Config
from .display import live, voice_views
from .display import pages as display_pages
from .display import schema as display_schema
from .display import views as display_views
from .display.hub import hub_ctx
from .display.registry import registry_ctx
from .display.speech import speech_ctx
from .evaluation import case_views
from .evaluation import pad as evaluation_pad
from .evaluation import qr as evaluation_qr
from .evaluation import schema as evaluation_schema
from .evaluation import stats_pages as evaluation_stats_pages
from .evaluation import stats_views as evaluation_stats
from .evaluation import views as evaluation_views
from .evaluation.tasks import evaluation_ctx
from .keys import BUS, CLOCK, CONFIG, DB, DB_PATH
from .ops import logs as ops_logs
from .ops import routes as ops_routes
from .ops import schema as ops_schema
from .ops.lock import server_lock_ctx
from .ops.metrics import scrape_token_middleware
from .outbox import schema as outbox_schema
from .outbox.worker import worker_ctx
from .privacy import audit as privacy_audit
from .privacy.retention import retention_ctx
from .queue import appointment_sweep, appointment_views, stats_views
from .queue import pages as queue_pages
from .queue import schema as queue_schema
from .queue import store as queue_store
from .queue import views as queue_views
from .storage import Database
from .web import events_view, openapi, pages
from .web.middleware import error_middleware, headers_middleware, request_id_middleware, stamp_request_id

SCHEMAS = [
    events.SCHEMA,
    auth_schema.SCHEMA,
    queue_schema.SCHEMA,
    outbox_schema.SCHEMA,
    display_schema.SCHEMA,
    evaluation_schema.SCHEMA,
    callcenter_schema.SCHEMA,
    ops_schema.SCHEMA,
]


def create_app(config: Config, clock: Clock | None = None, db_path: str | Path | None = None) -> web.Application:
    app = web.Application(
        middlewares=[
            request_id_middleware,
            headers_middleware,
            error_middleware,
            scrape_token_middleware,
            auth_middleware,
        ],
        client_max_size=config.server.max_body_kb * 1024,
    )
    app[CONFIG] = config
    ops_logs.install()  # log lines name the request they belong to
    app.on_response_prepare.append(stamp_request_id)
    app[CLOCK] = clock or Clock()
    app[BUS] = events.EventBus()
    app[DB_PATH] = Path(db_path) if db_path else config.db_path()
    app.cleanup_ctx.append(server_lock_ctx)  # held while serving: restore refuses to swap the file
    app.cleanup_ctx.append(database_ctx)
    app.cleanup_ctx.append(worker_ctx)  # after the database: it reads and writes the outbox
    app.cleanup_ctx.append(appointment_sweep.sweep_ctx)  # after the database: it writes
    app.cleanup_ctx.append(retention_ctx)  # after the database: anonymises old personal data daily
    app.cleanup_ctx.append(speech_ctx)  # after the database: it renders calls as they commit
    app.cleanup_ctx.append(hub_ctx)
    app.cleanup_ctx.append(registry_ctx)
    app.cleanup_ctx.append(evaluation_ctx)
    app.cleanup_ctx.append(callcenter_ctx)
    app.cleanup_ctx.append(ami_ctx)  # the phone channel, when [callcenter.ami] has a secret
    app.cleanup_ctx.append(mail_ctx)  # the mailbox, when [callcenter.mail] is enabled
    auth_views.setup_routes(app)
    auth_pages.setup_routes(app)
    queue_views.setup_routes(app)
    stats_views.setup_routes(app)
    appointment_views.setup_routes(app)
    queue_pages.setup_routes(app)
    events_view.setup_routes(app)
    live.setup_routes(app)
    voice_views.setup_routes(app)
    display_views.setup_routes(app)
    display_pages.setup_routes(app)
    evaluation_views.setup_routes(app)
    evaluation_stats.setup_routes(app)
    evaluation_stats_pages.setup_routes(app)
    case_views.setup_routes(app)
    evaluation_pad.setup_routes(app)
    evaluation_qr.setup_routes(app)
    callcenter_views.setup_routes(app)
    letter_page.setup_routes(app)
    callcenter_pages.setup_routes(app)
    wechat_views.setup_routes(app)  # /wechat, when [callcenter.wechat] is enabled
    openapi.setup_routes(app)
    ops_routes.setup_routes(app)  # /healthz, /metrics
    privacy_audit.setup_routes(app)
    pages.setup_routes(app)
    return app


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    db = Database(app[DB_PATH], app[CLOCK], SCHEMAS)
    await db.open()
    db.on_commit(app[BUS].publish)
    app[DB] = db
    app[AUTHENTICATOR] = Authenticator(db, app[CLOCK], app[CONFIG])
    app[BUS].last_id = await events.last_event_id(db)
    await db.write(queue_store.ensure_windows, [w.no for w in app[CONFIG].windows])
    yield
    await db.close()
