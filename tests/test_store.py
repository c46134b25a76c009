"""The session store: migrations recorded, reads round-trip, resume by fingerprint."""

from __future__ import annotations

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
