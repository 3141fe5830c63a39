"""Accounts, login sessions and device tokens."""

from ..storage import Schema

SCHEMA = Schema(
    "auth",
    (
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            display_name TEXT NOT NULL,
            staff_no TEXT,
            role TEXT NOT NULL,
            department TEXT NOT NULL DEFAULT '',
            password_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL
        );
        CREATE UNIQUE INDEX users_staff_no ON users (staff_no) WHERE staff_no IS NOT NULL;
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            user_id INTEGER NOT NULL REFERENCES users (id),
            csrf_token TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            revoked_at REAL
        );
        CREATE TABLE devices (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            window_no INTEGER,
            token_hash TEXT NOT NULL UNIQUE,
            created_at REAL NOT NULL,
            revoked_at REAL
        )
        """,
        # 2: login lockout counts (hall/auth/lockout.py); a session's last use, for the idle timeout
        """
        CREATE TABLE login_failures (
            key TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            last_at REAL NOT NULL,
            locked_until REAL NOT NULL
        );
        ALTER TABLE sessions ADD COLUMN last_seen_at REAL
        """,
    ),
)
