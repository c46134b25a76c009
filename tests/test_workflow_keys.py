"""Key versions: cancelled and accepted items follow the master item; no-group exams."""

from __future__ import annotations

from pathlib import Path

import pytest

from omr.errors import BadArgument
from omr.exam import Exam, load_exam
from omr.forms import find_form
from omr.store import Store
from omr.workflow import keys as k

DEMO = Path(__file__).resolve().parent.parent / "samples" / "demo"


@pytest.fixture(scope="module")
def demo():
    return load_exam(DEMO / "exam.yaml"), find_form("central-a4")


def test_a_cancelled_item_follows_the_master_item_in_every_group(demo):
    exam, _ = demo
    keys = k.exam_keys(exam)
    change = k.cancel_item(keys, exam, "TUR101", 1)
    # master item 1 is printed at 1 (A), 9 (B), 18 (C), 18 (D) in the demo's orders
    new = change.keys["TUR101"]
    assert [i for i, t in enumerate(new["A"], 1) if t == "*"] == [1]
    assert [i for i, t in enumerate(new["B"], 1) if t == "*"] == [9]
    assert [i for i, t in enumerate(new["C"], 1) if t == "*"] == [18]
    assert [i for i, t in enumerate(new["D"], 1) if t == "*"] == [18]
    assert change.before == "B" and change.after == "*"
    assert keys["TUR101"]["A"][0] == "B"  # the key set given is not changed
    with pytest.raises(BadArgument, match="already cancelled"):
        k.cancel_item(change.keys, exam, "TUR101", 1)


def test_an_accepted_option_follows_the_master_item(demo):
    exam, form = demo
    change = k.accept_option(k.exam_keys(exam), exam, form, "tur101", 1, "d")
    assert change.keys["TUR101"]["A"][0] == "B|D" and change.keys["TUR101"]["B"][8] == "B|D"
    assert change.after == "B|D"
    with pytest.raises(BadArgument, match="already accepted"):
        k.accept_option(change.keys, exam, form, "TUR101", 1, "D")


def test_set_names_a_groups_printed_question(demo):
    exam, form = demo
    change = k.set_answer(k.exam_keys(exam), exam, form, "TUR101", "b", 2, "A")
    assert change.keys["TUR101"]["B"][1] == "A"
    assert change.keys["TUR101"]["A"] == k.exam_keys(exam)["TUR101"]["A"]
    with pytest.raises(BadArgument, match="give COURSE GROUP ITEM OPTION"):
        k.set_answer(k.exam_keys(exam), exam, form, "TUR101", None, 2, "A")


def _no_group_exam() -> Exam:
    return Exam.model_validate(
        {
            "name": "quiz",
            "date": "2026-11-14",
            "form": "quiz-a5",
            "courses": [{"code": "Q1", "block": "answers", "questions": 3, "key": "ABC"}],
        }
    )


def test_an_exam_without_booklet_groups_has_one_key_per_course():
    exam = _no_group_exam()
    form = find_form("quiz-a5")
    block = next(iter(form.answer_blocks))
    exam = exam.model_copy(
        update={"courses": [exam.courses[0].model_copy(update={"block": block})]}
    )
    keys = k.exam_keys(exam)
    assert keys == {"Q1": {"": ["A", "B", "C"]}}
    assert k.cancel_item(keys, exam, "Q1", 2).keys == {"Q1": {"": ["A", "*", "C"]}}
    assert k.set_answer(keys, exam, form, "Q1", None, 3, "A").keys == {"Q1": {"": ["A", "B", "A"]}}
    with pytest.raises(BadArgument, match="no booklet groups"):
        k.set_answer(keys, exam, form, "Q1", "A", 3, "A")
    rescored = k.with_keys(exam, {"Q1": {"": ["A", "*", "C"]}})
    assert rescored.courses[0].key("") == (frozenset("A"), frozenset(), frozenset("C"))


def test_v1_is_recorded_once_and_a_hand_edit_is_merged_as_a_new_version(tmp_path, demo):
    exam, _ = demo
    with Store(tmp_path / "s.sqlite") as store:
        v1 = k.keys_in_force(store, exam)
        assert v1.version == 1 and v1.by == "exam.yaml"
        assert k.keys_in_force(store, exam).version == 1
        cancelled = k.cancel_item(v1.keys, exam, "TUR101", 1).keys
        k.add_version(store, cancelled, by="hoca", command="omr key cancel", why="w")
        # exam.yaml edited by hand: ATA101 group A question 2 corrected to D
        keys = dict(exam.courses[1].keys)
        keys["A"] = keys["A"][0] + "D" + keys["A"][2:]
        edited = exam.model_copy(
            update={
                "courses": [
                    exam.courses[0],
                    exam.courses[1].model_copy(update={"keys": keys}),
                    *exam.courses[2:],
                ]
            }
        )
        v3 = k.keys_in_force(store, edited)
        assert v3.version == 3 and v3.why == "exam.yaml edited"
        assert v3.keys["ATA101"]["A"][1] == "D"
        assert v3.keys["TUR101"]["A"][0] == "*"  # the cancel made with omr key is kept
        assert k.keys_in_force(store, edited).version == 3
