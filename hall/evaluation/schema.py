"""Services, ratings, the daily roll-up managers read, and bad-review cases.

`services` holds every finished service with what a rating must name (ticket,
matter, times, window, department, staff, assisting staff), projected from
the queue's `ticket.finished` events. A rating copies that detail, so it
stays true when windows or staff change later, and is never edited: a void
keeps the original with its reason. `rating_days` adds everything up per day,
window, staff member, section, matter and channel in the same transaction,
so a month or a year over ten million ratings is a small read.
"""

from ..storage import Schema

SCHEMA = Schema(
    "evaluation",
    (
        """
        CREATE TABLE services (
            ticket_id INTEGER PRIMARY KEY,
            day TEXT NOT NULL,
            finished_at REAL NOT NULL,
            ticket_number TEXT NOT NULL,
            section TEXT NOT NULL,
            matter TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL,
            issued_at REAL NOT NULL,
            called_at REAL,
            started_at REAL,
            window_no INTEGER NOT NULL,
            window_name TEXT NOT NULL,
            department TEXT NOT NULL,
            staff_user_id INTEGER,
            staff_no TEXT,
            staff_name TEXT,
            assisted_by INTEGER,
            assisted_no TEXT,
            assisted_name TEXT,
            rated INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX services_window ON services (window_no, finished_at);
        CREATE INDEX services_unrated ON services (rated, finished_at);
        CREATE TABLE ratings (
            id INTEGER PRIMARY KEY,
            ticket_id INTEGER NOT NULL REFERENCES services (ticket_id),
            kind TEXT NOT NULL,
            grade INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 5),
            tags TEXT NOT NULL,
            tag_set TEXT NOT NULL,
            comment TEXT NOT NULL DEFAULT '',
            channel TEXT NOT NULL,
            device_id INTEGER,
            entered_by INTEGER,
            created_at REAL NOT NULL,
            day TEXT NOT NULL,
            service_day TEXT NOT NULL,
            ticket_number TEXT NOT NULL,
            section TEXT NOT NULL,
            matter TEXT NOT NULL,
            outcome TEXT NOT NULL,
            issued_at REAL NOT NULL,
            called_at REAL,
            finished_at REAL NOT NULL,
            window_no INTEGER NOT NULL,
            window_name TEXT NOT NULL,
            department TEXT NOT NULL,
            staff_user_id INTEGER,
            staff_no TEXT,
            staff_name TEXT,
            assisted_by INTEGER,
            assisted_no TEXT,
            assisted_name TEXT,
            anonymous INTEGER NOT NULL,
            rater_name TEXT,
            rater_phone TEXT,
            rater_id_number TEXT,
            voided_at REAL,
            void_reason TEXT,
            voided_by INTEGER,
            UNIQUE (ticket_id, kind)
        );
        CREATE INDEX ratings_created ON ratings (created_at);
        CREATE INDEX ratings_window ON ratings (window_no, created_at);
        CREATE INDEX ratings_staff ON ratings (staff_user_id, created_at);
        CREATE INDEX ratings_department ON ratings (department, created_at);
        CREATE INDEX ratings_grade ON ratings (grade, created_at);
        CREATE TABLE rating_days (
            day TEXT NOT NULL,
            window_no INTEGER NOT NULL,
            staff_user_id INTEGER NOT NULL,
            section TEXT NOT NULL,
            matter TEXT NOT NULL,
            channel TEXT NOT NULL,
            department TEXT NOT NULL,
            served INTEGER NOT NULL DEFAULT 0,
            g1 INTEGER NOT NULL DEFAULT 0,
            g2 INTEGER NOT NULL DEFAULT 0,
            g3 INTEGER NOT NULL DEFAULT 0,
            g4 INTEGER NOT NULL DEFAULT 0,
            g5 INTEGER NOT NULL DEFAULT 0,
            follow_ups INTEGER NOT NULL DEFAULT 0,
            real_name_bad INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, window_no, staff_user_id, section, matter, channel)
        );
        CREATE INDEX rating_days_department ON rating_days (department, day);
        CREATE TABLE bad_reviews (
            id INTEGER PRIMARY KEY,
            rating_id INTEGER NOT NULL UNIQUE REFERENCES ratings (id),
            ticket_id INTEGER NOT NULL,
            department TEXT NOT NULL,
            window_no INTEGER NOT NULL,
            staff_user_id INTEGER,
            real_name INTEGER NOT NULL,
            status TEXT NOT NULL,
            opened_at REAL NOT NULL,
            verify_due REAL NOT NULL,
            verified_at REAL,
            verify_outcome TEXT,
            verify_note TEXT,
            rectify_due REAL NOT NULL,
            rectified_at REAL,
            rectify_kind TEXT,
            rectify_note TEXT,
            feedback_due REAL,
            fed_back_at REAL,
            feedback_note TEXT,
            revisit_due REAL,
            revisited_at REAL,
            revisit_satisfied INTEGER,
            revisit_note TEXT,
            closed_at REAL,
            overdue_stage TEXT,
            escalated_at REAL,
            handled_by INTEGER
        );
        CREATE INDEX bad_reviews_status ON bad_reviews (status, opened_at);
        CREATE TABLE evaluation_cursor (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            last_event_id INTEGER NOT NULL
        );
        CREATE TABLE rater_reads (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            user_id INTEGER NOT NULL,
            rating_id INTEGER NOT NULL,
            purpose TEXT NOT NULL
        )
        """,
        # 2: bad-review cases worked stage by stage. `stage` is the step awaited (verify, rectify,
        # feedback, revisit; NULL once closed or void) and `due_at` its deadline; `round` is 2
        # after a return visit found the citizen not satisfied and reopened the rectification.
        # Who did each step, whether the citizen was reached (reached, unreached, anonymous),
        # the return visit's call attempts and how the case ended (`result`). Every step, with
        # its note, is kept in `bad_review_steps`: a reopened round overwrites the columns only.
        """
        ALTER TABLE bad_reviews ADD COLUMN stage TEXT;
        ALTER TABLE bad_reviews ADD COLUMN due_at REAL;
        ALTER TABLE bad_reviews ADD COLUMN round INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE bad_reviews ADD COLUMN verified_by INTEGER;
        ALTER TABLE bad_reviews ADD COLUMN verify_contact TEXT;
        ALTER TABLE bad_reviews ADD COLUMN rectified_by INTEGER;
        ALTER TABLE bad_reviews ADD COLUMN fed_back_by INTEGER;
        ALTER TABLE bad_reviews ADD COLUMN feedback_contact TEXT;
        ALTER TABLE bad_reviews ADD COLUMN revisited_by INTEGER;
        ALTER TABLE bad_reviews ADD COLUMN revisit_contact TEXT;
        ALTER TABLE bad_reviews ADD COLUMN revisit_attempts INTEGER;
        ALTER TABLE bad_reviews ADD COLUMN result TEXT;
        UPDATE bad_reviews SET stage = 'verify', due_at = verify_due WHERE status = 'open';
        UPDATE bad_reviews SET result = 'void' WHERE status = 'void';
        CREATE INDEX bad_reviews_due ON bad_reviews (due_at);
        CREATE INDEX bad_reviews_department ON bad_reviews (department, opened_at);
        CREATE TABLE bad_review_steps (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES bad_reviews (id),
            round INTEGER NOT NULL,
            stage TEXT,
            action TEXT NOT NULL,
            at REAL NOT NULL,
            by_user INTEGER,
            by_name TEXT,
            detail TEXT NOT NULL
        );
        CREATE INDEX bad_review_steps_case ON bad_review_steps (case_id, id)
        """,
        # 3: the statistics join the bad first ratings of a range of service days to their cases;
        # this small partial index finds them without reading the range's other ratings.
        """
        CREATE INDEX ratings_bad_day ON ratings (day) WHERE grade <= 2 AND kind = 'first'
        """,
        # 4: the monthly roll-up, so a year's trend reads twelve months instead of some 250 days.
        # `rating_months` is `rating_days` summed per month (YYYY-MM), department included in the
        # key: store.roll_up adds every change to both in the same transaction, the month under
        # the department its day row holds. Filled here from the days already rolled up.
        # The bad-review join now reads everything it needs of the ratings from one partial
        # index (the bad first ratings, a few per cent) instead of each rating's row.
        """
        CREATE TABLE rating_months (
            month TEXT NOT NULL,
            window_no INTEGER NOT NULL,
            staff_user_id INTEGER NOT NULL,
            section TEXT NOT NULL,
            matter TEXT NOT NULL,
            channel TEXT NOT NULL,
            department TEXT NOT NULL,
            served INTEGER NOT NULL DEFAULT 0,
            g1 INTEGER NOT NULL DEFAULT 0,
            g2 INTEGER NOT NULL DEFAULT 0,
            g3 INTEGER NOT NULL DEFAULT 0,
            g4 INTEGER NOT NULL DEFAULT 0,
            g5 INTEGER NOT NULL DEFAULT 0,
            follow_ups INTEGER NOT NULL DEFAULT 0,
            real_name_bad INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (month, window_no, staff_user_id, section, matter, channel, department)
        );
        INSERT INTO rating_months (month, window_no, staff_user_id, section, matter, channel, department,
            served, g1, g2, g3, g4, g5, follow_ups, real_name_bad)
        SELECT substr(day, 1, 7), window_no, staff_user_id, section, matter, channel, department,
            SUM(served), SUM(g1), SUM(g2), SUM(g3), SUM(g4), SUM(g5), SUM(follow_ups), SUM(real_name_bad)
        FROM rating_days
        GROUP BY substr(day, 1, 7), window_no, staff_user_id, section, matter, channel, department;
        DROP INDEX ratings_bad_day;
        CREATE INDEX ratings_bad_day ON ratings (day, created_at, voided_at, window_no, staff_user_id,
            department, section, matter, channel, grade, kind) WHERE grade <= 2 AND kind = 'first'
        """,
        # 5: how far the bad reviews' follow-up cases got, counted in the roll-ups beside the grades
        # (kept by cases.py in the same transaction as each step), so the statistics read no join
        # of ratings to cases: a year's trend over ten million ratings stays a small read.
        # Filled here from the cases as they stand.
        """
        ALTER TABLE rating_days ADD COLUMN bad_replied INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE rating_days ADD COLUMN bad_fixed INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE rating_days ADD COLUMN bad_answered INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE rating_days ADD COLUMN bad_satisfied INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE rating_months ADD COLUMN bad_replied INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE rating_months ADD COLUMN bad_fixed INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE rating_months ADD COLUMN bad_answered INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE rating_months ADD COLUMN bad_satisfied INTEGER NOT NULL DEFAULT 0;
        UPDATE rating_days SET bad_replied = t.replied, bad_fixed = t.fixed, bad_answered = t.answered,
            bad_satisfied = t.satisfied
        FROM (SELECT r.day AS day, r.window_no AS window_no, COALESCE(r.staff_user_id, 0) AS staff,
                r.section AS section, r.matter AS matter, r.channel AS channel,
                SUM(b.verified_at IS NOT NULL) AS replied,
                SUM(b.real_name = 1 AND b.revisited_at IS NOT NULL
                    AND (b.rectified_at IS NOT NULL OR COALESCE(b.verify_outcome IN ('false', 'mistaken'), 0)))
                    AS fixed,
                SUM(b.revisited_at IS NOT NULL AND b.revisit_satisfied IS NOT NULL) AS answered,
                SUM(b.revisited_at IS NOT NULL AND b.revisit_satisfied IS 1) AS satisfied
            FROM ratings r JOIN bad_reviews b ON b.rating_id = r.id
            WHERE r.grade <= 2 AND r.kind = 'first' AND r.voided_at IS NULL AND b.status <> 'void'
            GROUP BY 1, 2, 3, 4, 5, 6) AS t
        WHERE rating_days.day = t.day AND rating_days.window_no = t.window_no
            AND rating_days.staff_user_id = t.staff AND rating_days.section = t.section
            AND rating_days.matter = t.matter AND rating_days.channel = t.channel;
        UPDATE rating_months SET bad_replied = t.replied, bad_fixed = t.fixed, bad_answered = t.answered,
            bad_satisfied = t.satisfied
        FROM (SELECT substr(day, 1, 7) AS month, window_no, staff_user_id, section, matter, channel, department,
                SUM(bad_replied) AS replied, SUM(bad_fixed) AS fixed, SUM(bad_answered) AS answered,
                SUM(bad_satisfied) AS satisfied
            FROM rating_days GROUP BY 1, 2, 3, 4, 5, 6, 7) AS t
        WHERE rating_months.month = t.month AND rating_months.window_no = t.window_no
            AND rating_months.staff_user_id = t.staff_user_id AND rating_months.section = t.section
            AND rating_months.matter = t.matter AND rating_months.channel = t.channel
            AND rating_months.department = t.department
        """,
    ),
)
