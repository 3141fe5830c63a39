"""Versioned schema: each domain owns an ordered list of SQL scripts.

`schema_versions` records how far each domain has migrated; on start every
missing step runs in its own transaction, so a failed step leaves the
database at the previous version and the server refuses to start.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Schema:
    domain: str
    steps: tuple[str, ...]  # step i brings the domain to version i + 1


def current_versions(conn: sqlite3.Connection) -> dict[str, int]:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_versions (domain TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    return {row[0]: row[1] for row in conn.execute("SELECT domain, version FROM schema_versions")}


def migrate(conn: sqlite3.Connection, schemas: list[Schema]) -> list[str]:
    """Bring every domain to its newest version; return what was applied."""
    applied = []
    versions = current_versions(conn)
    for schema in schemas:
        have = versions.get(schema.domain, 0)
        if have > len(schema.steps):
            raise RuntimeError(
                f"database has {schema.domain} schema version {have}, newer than this program ({len(schema.steps)})"
            )
        for version, script in enumerate(schema.steps[have:], start=have + 1):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_versions (domain, version) VALUES (?, ?) "
                    "ON CONFLICT (domain) DO UPDATE SET version = excluded.version",
                    (schema.domain, version),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            applied.append(f"{schema.domain} v{version}")
    return applied


def _statements(script: str) -> list[str]:
    # Scripts are plain DDL without semicolons inside literals or triggers.
    return [s.strip() for s in script.split(";") if s.strip()]
