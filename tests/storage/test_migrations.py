"""The schema is versioned per domain and migrates on start."""

import sqlite3

import pytest

from hall.storage.migrations import Schema, current_versions, migrate

V1 = Schema("things", ("CREATE TABLE things (id INTEGER PRIMARY KEY)",))
V2 = Schema("things", (*V1.steps, "ALTER TABLE things ADD COLUMN name TEXT; CREATE INDEX things_name ON things (name)"))


def connect(path):
    return sqlite3.connect(path, isolation_level=None)


def test_fresh_database_gets_every_step_and_a_second_start_none(tmp_path):
    conn = connect(tmp_path / "m.db")
    assert migrate(conn, [V1]) == ["things v1"]
    assert migrate(conn, [V1]) == []
    assert migrate(conn, [V2]) == ["things v2"]
    assert current_versions(conn) == {"things": 2}
    conn.execute("INSERT INTO things (name) VALUES ('x')")


def test_a_failing_step_leaves_the_previous_version(tmp_path):
    conn = connect(tmp_path / "m.db")
    migrate(conn, [V1])
    broken = Schema("things", (*V1.steps, "ALTER TABLE things ADD COLUMN name TEXT; CREATE TABLE things (x)"))
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, [broken])
    assert current_versions(conn) == {"things": 1}
    columns = [r[1] for r in conn.execute("PRAGMA table_info(things)")]
    assert columns == ["id"]  # the half-done step was rolled back


def test_a_database_newer_than_the_program_is_refused(tmp_path):
    conn = connect(tmp_path / "m.db")
    migrate(conn, [V2])
    with pytest.raises(RuntimeError, match="newer than this program"):
        migrate(conn, [V1])
