"""The one row `/healthz` rewrites to prove the database takes writes."""

from ..storage import Schema

SCHEMA = Schema(
    "ops",
    ("CREATE TABLE health_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL NOT NULL)",),
)
