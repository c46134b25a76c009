"""The session store: migrations recorded, reads round-trip, resume by fingerprint."""

from __future__ import annotations

import os
import stat

from omr.records import FieldRead, ItemRead, ItemState, SheetRead
from omr.store import MIGRATIONS, Store


def _read(sheet_id="s.pdf:1", value="B"):
    field = FieldRead("answers", (ItemRead(value, ItemState.one, 0.9),), ((0.05, 0.8),))
    return SheetRead(
        sheet_id,
        "s.pdf",
        1,
        "central-a4",
        fields={"course1": field},
        registration={"residual_mm": 0.1},
        levels={"blank": 0.05},
        dpi=200.0,
    )


def test_migrations_run_once_and_are_recorded(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        assert [n for n, _ in store.db.execute("SELECT name, applied_at FROM migrations")] == [
            name for name, _ in MIGRATIONS
        ]
    with Store(path) as store:
        assert store.migrate() == []


def test_reads_round_trip_and_replace(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        store.save(_read(), "10:1")
        store.save(_read(value="C"), "10:2")  # re-read replaces
        store.save(_read("s.pdf:2"), "10:2")
        reads = store.reads()
        assert [r.sheet_id for r in reads] == ["s.pdf:1", "s.pdf:2"]
        assert reads[0].fields["course1"].items[0].value == "C"
        assert reads[1] == _read("s.pdf:2")
        assert store.fingerprints() == {"s.pdf:1": "10:2", "s.pdf:2": "10:2"}
        assert [r.sheet_id for r in store.reads(["s.pdf:2"])] == ["s.pdf:2"]


def test_a_new_store_and_its_journal_are_the_owners_alone(tmp_path):
    # It holds every page as read, full national IDs among it.
    path = tmp_path / "s.sqlite"
    old = os.umask(0o022)  # the usual umask would leave it readable by all
    try:
        with Store(path) as store:
            store.save(_read(), "10:1")
            wal = tmp_path / "s.sqlite-wal"
            assert wal.exists()
            assert stat.S_IMODE(wal.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_reads_without_measures_keep_every_decision(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        store.save(_read(), "1:1")
        (light,) = store.reads(measures=False)
    field = light.fields["course1"]
    assert field.items == _read().fields["course1"].items
    assert field.darkness == () and field.ring == ()


def test_evidence_is_kept_beside_the_read_and_replaced_with_it(tmp_path):
    import dataclasses

    with Store(tmp_path / "s.sqlite") as store:
        store.save(dataclasses.replace(_read(), evidence=b"\x89PNG one"), "1:1")
        assert store.evidence() == {"s.pdf:1": b"\x89PNG one"}
        store.save(_read(), "1:2")  # read again, nothing flagged any more
        assert store.evidence() == {}


# The schema as main wrote it before the workflow tables (migrations 001 and 002),
# frozen here so the upgrade is tested against what is really in the field.
MAIN_SCHEMA_2 = [
    """CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT)""",
    """CREATE TABLE pages (
        sheet_id TEXT PRIMARY KEY, source TEXT NOT NULL, page INTEGER NOT NULL,
        fingerprint TEXT NOT NULL, problem TEXT NOT NULL, record TEXT NOT NULL,
        read_at TEXT NOT NULL)""",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE evidence (sheet_id TEXT PRIMARY KEY, png BLOB NOT NULL)",
    "INSERT INTO migrations VALUES ('001_pages', '2026-11-14T10:00:00+00:00')",
    "INSERT INTO migrations VALUES ('002_evidence', '2026-11-14T10:00:00+00:00')",
]


def old_store(path, reads):
    """A store as today's main writes it (schema 2), holding ``reads``."""
    import sqlite3

    db = sqlite3.connect(str(path))
    for sql in MAIN_SCHEMA_2:
        db.execute(sql)
    for r in reads:
        db.execute(
            "INSERT INTO pages VALUES (?, ?, ?, ?, ?, ?, ?)",
            (r.sheet_id, r.source, r.page, "10:1", r.problem, r.to_json(), "2026-11-14"),
        )
    db.execute("INSERT INTO evidence VALUES (?, ?)", (reads[0].sheet_id, b"\x89PNG old"))
    db.execute("INSERT INTO meta VALUES ('form', 'central-a4')")
    db.commit()
    db.close()


def test_a_store_written_by_main_is_upgraded_keeping_every_read(tmp_path):
    path = tmp_path / "old.sqlite"
    reads = [_read("s.pdf:1"), _read("s.pdf:2", value="C")]
    old_store(path, reads)
    with Store(path) as store:
        assert store.reads() == reads
        assert store.evidence() == {"s.pdf:1": b"\x89PNG old"}
        assert store.meta() == {"form": "central-a4"}
        assert store.fingerprints() == {"s.pdf:1": "10:1", "s.pdf:2": "10:1"}
        names = [n for (n,) in store.db.execute("SELECT name FROM migrations ORDER BY name")]
        assert names == [name for name, _ in MIGRATIONS]
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert store.records("audit") == []
    with Store(path) as store:  # opened again: nothing left to do
        assert store.migrate() == []


def test_record_tables_are_append_only(tmp_path):
    import sqlite3

    import pytest

    with Store(tmp_path / "s.sqlite") as store:
        n = store.append(
            "audit", at="t", by="ayse", command="c", target="x", before="a", after="b", why="w"
        )
        assert n == 1
        for sql in ("UPDATE audit SET why = 'changed'", "DELETE FROM audit"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                store.db.execute(sql)
        assert store.records("audit")[0]["why"] == "w"


def test_atomic_writes_all_or_nothing(tmp_path):
    import pytest

    with Store(tmp_path / "s.sqlite") as store:
        with pytest.raises(RuntimeError), store.atomic():
            store.append(
                "audit", at="t", by="a", command="c", target="x", before="", after="", why="w"
            )
            raise RuntimeError("fails half-way")
        assert store.records("audit") == []


def test_a_store_from_a_newer_omr_is_refused(tmp_path):
    import sqlite3

    import pytest

    from omr.errors import InputFileError

    path = tmp_path / "s.sqlite"
    Store(path).close()
    db = sqlite3.connect(str(path))
    db.execute("INSERT INTO migrations VALUES ('999_future', 'x')")
    db.commit()
    db.close()
    with pytest.raises(InputFileError, match="newer omr"):
        Store(path)
