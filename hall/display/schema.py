"""What the display domain keeps: the screen registry, screen layouts and the notice line."""

from ..storage import Schema

SCHEMA = Schema(
    "display",
    (
        """
        CREATE TABLE screens (
            device_id INTEGER PRIMARY KEY REFERENCES devices (id),
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            version TEXT NOT NULL DEFAULT '',
            address TEXT NOT NULL DEFAULT '',
            last_event_id INTEGER NOT NULL DEFAULT 0,
            online INTEGER NOT NULL DEFAULT 0,
            connected_at REAL,
            last_seen_at REAL,
            offline_since REAL,
            warned INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE screen_layouts (
            device_id INTEGER PRIMARY KEY REFERENCES devices (id),
            layout TEXT NOT NULL,
            updated_at REAL NOT NULL,
            updated_by INTEGER
        );
        CREATE TABLE notices (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            text TEXT NOT NULL,
            updated_at REAL NOT NULL,
            updated_by INTEGER
        )
        """,
    ),
)
