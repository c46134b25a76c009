"""Scoring from the store one read at a time gives what scoring every read in memory gives,
duplicate candidates and people's decisions included."""

from __future__ import annotations

import json

import pytest

from omr.export import review_rows
from omr.forms import find_form
from omr.pipeline import open_session, run_session, score_from_store
from omr.score.checks import score_session
from omr.sheets_seen import SheetsSeen
from omr.simulate import simulate_session
from omr.store import STORE_NAME, Store
from omr.workflow.decisions import apply_decisions, sheet_rulings
from omr.workflow.keys import exam_in_force
from omr.workflow.records import stored_decisions


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A read 8-sheet session whose store has a ninth page copying the first one's
    candidate (a duplicate) and a person's decision on an item of another sheet."""
    root = tmp_path_factory.mktemp("stream") / "session"
    simulate_session(find_form("quiz-a5"), 8, 21, root, profile="stress", jobs=1)
    run_session(root, jobs=1)
    with Store(root / "out" / STORE_NAME) as store:
        first, second = store.reads()[:2]
        twin = json.loads(first.to_json())
        twin.update(sheet_id="zz-twin.png:1", source="zz-twin.png")
        store.db.execute(
            "INSERT INTO pages VALUES (?, ?, 1, '', '', ?, '')",
            (twin["sheet_id"], twin["source"], json.dumps(twin)),
        )
        store.db.commit()
        answers = next(n for n, f in second.fields.items() if f.kind == "answers")
        store.append(
            "decisions",
            sheet_id=second.sheet_id,
            field=answers,
            item=0,
            value="?" if second.fields[answers].items[0].value else "A",
            by="t",
            why="test",
            at="2026-12-04T00:00:00+00:00",
        )
    return root


def score_in_memory(store, session):
    """Every read loaded, the decisions laid over all of them, the whole list scored."""
    decisions = stored_decisions(store)
    exam = exam_in_force(store, session.exam)
    decided = apply_decisions(store.reads(measures=False), decisions)
    return decided, exam, score_session(decided, exam, session.roster, sheet_rulings(decisions))


def test_scoring_streamed_from_the_store_equals_scoring_in_memory(stored):
    session = open_session(stored)
    with Store(stored / "out" / STORE_NAME) as store:
        decided, exam, want = score_in_memory(store, session)
        seen, exam_streamed, rows = score_from_store(store, session)
        assert exam_streamed == exam
        assert rows == want
        twins = {r.status for r in rows if r.sheet in {decided[0].sheet_id, "zz-twin.png:1"}}
        assert twins == {"review:duplicate-id"}  # scored again from the store, as duplicates
        whole = SheetsSeen.of(decided)
        assert (seen.ids, seen.identities, seen.without_colour) == (
            whole.ids,
            whole.identities,
            whole.without_colour,
        )
        assert review_rows(seen.lookup, rows, exam) == review_rows(decided, want, exam)
        assert len(seen) == len(decided) == 9
