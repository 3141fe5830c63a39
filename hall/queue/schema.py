"""Tickets and the runtime state of windows.

The hall's layout (sections, windows) lives in config; the database keeps
what changes during the day. A ticket's number is unique per business day by
constraint, so no crash or race can hand out the same number twice, and a
window can hold at most one called or serving ticket by a partial index.
`queue_counts` keeps how many tickets wait per section and class, updated in
the same transaction as every ticket change, so issuing does not slow down
as the queue grows.
"""

from ..storage import Schema

SCHEMA = Schema(
    "queue",
    (
        """
        CREATE TABLE tickets (
            id INTEGER PRIMARY KEY,
            day TEXT NOT NULL,
            prefix TEXT NOT NULL,
            seq INTEGER NOT NULL,
            number TEXT NOT NULL,
            section TEXT NOT NULL,
            origin_section TEXT NOT NULL,
            status TEXT NOT NULL,
            priority TEXT,
            priority_class INTEGER NOT NULL DEFAULT 0,
            channel TEXT NOT NULL,
            issuer TEXT NOT NULL,
            request_id TEXT,
            token TEXT NOT NULL UNIQUE,
            id_number TEXT,
            phone TEXT,
            queue_key REAL NOT NULL,
            target_window INTEGER,
            window_no INTEGER,
            staff_user_id INTEGER,
            issued_at REAL NOT NULL,
            called_at REAL,
            started_at REAL,
            finished_at REAL,
            missed_at REAL,
            held_at REAL,
            cancelled_at REAL,
            recalls INTEGER NOT NULL DEFAULT 0,
            transfers INTEGER NOT NULL DEFAULT 0,
            outcome TEXT,
            matter TEXT,
            note TEXT,
            assisted_by INTEGER,
            UNIQUE (day, prefix, seq),
            UNIQUE (issuer, request_id)
        );
        CREATE INDEX tickets_queue ON tickets (day, section, status, priority_class DESC, queue_key);
        CREATE INDEX tickets_targeted ON tickets (target_window, status) WHERE target_window IS NOT NULL;
        CREATE UNIQUE INDEX tickets_window_current ON tickets (window_no) WHERE status IN ('called', 'serving');
        CREATE INDEX tickets_window ON tickets (window_no, status);
        CREATE INDEX tickets_id_number ON tickets (id_number, day) WHERE id_number IS NOT NULL;
        CREATE INDEX tickets_phone ON tickets (phone, day) WHERE phone IS NOT NULL;
        CREATE INDEX tickets_served ON tickets (section, finished_at) WHERE status = 'done';
        CREATE TABLE queue_counts (
            day TEXT NOT NULL,
            section TEXT NOT NULL,
            priority_class INTEGER NOT NULL,
            waiting INTEGER NOT NULL,
            PRIMARY KEY (day, section, priority_class)
        );
        CREATE TABLE windows (
            no INTEGER PRIMARY KEY,
            state TEXT NOT NULL DEFAULT 'closed',
            staff_user_id INTEGER UNIQUE REFERENCES users (id),
            opened_at REAL,
            paused_at REAL,
            priority_streak INTEGER NOT NULL DEFAULT 0
        )
        """,
        # 2: appointments (预约). At most one active booking per ID number,
        # section and day by a partial unique index; the slot is kept as
        # minutes after local midnight, so a changed config does not move it.
        """
        CREATE TABLE appointments (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            section TEXT NOT NULL,
            day TEXT NOT NULL,
            slot_start INTEGER NOT NULL,
            slot_end INTEGER NOT NULL,
            name TEXT NOT NULL,
            phone TEXT NOT NULL,
            id_number TEXT NOT NULL,
            status TEXT NOT NULL,
            booked_by TEXT NOT NULL,
            ticket_id INTEGER REFERENCES tickets (id),
            on_time INTEGER,
            booked_at REAL NOT NULL,
            checked_in_at REAL,
            cancelled_at REAL,
            cancelled_by TEXT,
            no_show_at REAL
        );
        CREATE INDEX appointments_slot ON appointments (day, section, slot_start, status);
        CREATE UNIQUE INDEX appointments_one_active ON appointments (id_number, day, section)
            WHERE status IN ('booked', 'checked_in');
        CREATE INDEX appointments_person ON appointments (id_number, day);
        CREATE INDEX appointments_phone ON appointments (phone, day);
        CREATE INDEX appointments_booked ON appointments (day) WHERE status = 'booked'
        """,
    ),
)
