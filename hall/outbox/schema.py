"""The outbox table."""

from ..storage import Schema

SCHEMA = Schema(
    "outbox",
    (
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            ref TEXT NOT NULL,
            channel TEXT NOT NULL,
            recipient TEXT NOT NULL,
            body TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            last_error TEXT,
            created_at REAL NOT NULL,
            sent_at REAL,
            UNIQUE (kind, ref)
        );
        CREATE INDEX outbox_due ON outbox (status, next_attempt_at)
        """,
    ),
)
