"""Cases (工单) with every message in and out, their dispatches to departments, return visits,
the history of every step, and the agents' presence.

A case copies the contact it came from (phone, WeChat openid, email address,
name) and links the ticket, window, staff member, matter or rating it is
about. `status` follows `rules.STATES`; each change is a row in `case_steps`
and an event, written in the same transaction. A dispatch is one department's
share of a case: several can run at once, each signed for, answered or
returned by its department.
"""

from ..storage import Schema

SCHEMA = Schema(
    "callcenter",
    (
        """
        CREATE TABLE case_numbers (
            day TEXT PRIMARY KEY,
            last INTEGER NOT NULL
        );
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            no TEXT NOT NULL UNIQUE,
            channel TEXT NOT NULL,
            type TEXT,
            status TEXT NOT NULL,
            round INTEGER NOT NULL DEFAULT 1,
            title TEXT NOT NULL DEFAULT '',
            contact_name TEXT,
            contact_phone TEXT,
            contact_wechat TEXT,
            contact_email TEXT,
            ticket_id INTEGER,
            window_no INTEGER,
            staff_user_id INTEGER,
            matter TEXT,
            rating_id INTEGER UNIQUE,
            assigned_to INTEGER,
            accepted_by INTEGER,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            accepted_at REAL,
            due_at REAL,
            warn_at REAL,
            warned_at REAL,
            overdue_at REAL,
            escalated_at REAL,
            escalations INTEGER NOT NULL DEFAULT 0,
            visit_attempts INTEGER NOT NULL DEFAULT 0,
            visit_result TEXT,
            visited_at REAL,
            closed_at REAL,
            closed_by INTEGER
        );
        CREATE INDEX cases_status ON cases (status, due_at);
        CREATE INDEX cases_assigned ON cases (assigned_to, status);
        CREATE INDEX cases_phone ON cases (contact_phone, created_at);
        CREATE INDEX cases_wechat ON cases (contact_wechat, status);
        CREATE INDEX cases_email ON cases (contact_email, status);
        CREATE TABLE case_messages (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases (id),
            direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'note')),
            channel TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'text',
            body TEXT NOT NULL,
            subject TEXT,
            external_id TEXT,
            attachments TEXT NOT NULL DEFAULT '[]',
            at REAL NOT NULL,
            by_user INTEGER,
            outbox_id INTEGER
        );
        CREATE INDEX case_messages_case ON case_messages (case_id, id);
        CREATE UNIQUE INDEX case_messages_external ON case_messages (channel, external_id)
            WHERE external_id IS NOT NULL;
        CREATE TABLE case_dispatches (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases (id),
            round INTEGER NOT NULL,
            department TEXT NOT NULL,
            status TEXT NOT NULL,
            instructions TEXT NOT NULL DEFAULT '',
            dispatched_at REAL NOT NULL,
            dispatched_by INTEGER NOT NULL,
            signed_at REAL,
            signed_by INTEGER,
            answer TEXT,
            answered_at REAL,
            answered_by INTEGER,
            returned_at REAL,
            return_reason TEXT,
            extension_days INTEGER,
            extension_reason TEXT
        );
        CREATE INDEX case_dispatches_case ON case_dispatches (case_id, id);
        CREATE INDEX case_dispatches_department ON case_dispatches (department, status);
        CREATE TABLE case_visits (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases (id),
            round INTEGER NOT NULL,
            at REAL NOT NULL,
            by_user INTEGER NOT NULL,
            reached INTEGER NOT NULL,
            satisfied INTEGER,
            note TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX case_visits_case ON case_visits (case_id, id);
        CREATE TABLE case_steps (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases (id),
            action TEXT NOT NULL,
            status_before TEXT,
            status_after TEXT NOT NULL,
            at REAL NOT NULL,
            by_user INTEGER,
            by_name TEXT,
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX case_steps_case ON case_steps (case_id, id);
        CREATE TABLE contact_reads (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            case_id INTEGER NOT NULL,
            at REAL NOT NULL,
            purpose TEXT NOT NULL
        );
        CREATE TABLE agent_presence (
            user_id INTEGER PRIMARY KEY,
            status TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            since REAL NOT NULL,
            last_assigned_at REAL
        )
        """,
        # 2: how far the desk has followed other domains' events (bad reviews from the ratings)
        """
        CREATE TABLE callcenter_cursors (
            name TEXT PRIMARY KEY,
            event_id INTEGER NOT NULL
        )
        """,
    ),
)
