"""Article 7 rules and course scores, on hand-made read records."""

from __future__ import annotations

import pytest
from records import make_read as _read

from omr.exam import Exam
from omr.records import SheetRead
from omr.score.scoring import mask_national_id, score_sheet, sheet_status


def _exam(key="ABCDE", penalty=0.0, cancelled="drop", groups=("A", "B")):
    return Exam.model_validate(
        {
            "name": "t",
            "date": "2026-11-14",
            "form": "central-a4",
            "groups": list(groups),
            "scoring": {"penalty": penalty, "cancelled": cancelled},
            "courses": [
                {"code": "C1", "block": "course1", "questions": 5, "keys": {"A": key, "B": "EDCBA"}}
            ],
        }
    )


@pytest.mark.parametrize(
    ("read", "status"),
    [
        (_read(), "scored"),
        (_read(group=""), "void:no-group"),
        (_read(group="AB"), "void:multiple-groups"),
        (_read(group="?"), "review:group-unclear"),
        (_read(group="C"), "review:group-not-in-exam"),
        (_read(cancelled="x"), "void:proctor"),
        (_read(cancelled="x", group=""), "void:proctor"),
        (_read(absent="x", answers=[""] * 5), "absent"),
        (_read(absent="x"), "review:absent-but-answered"),
        (_read(answers=[""] * 5), "absent"),
        (_read(student="12345?7890"), "review:identity-unreadable"),
        (SheetRead("s.pdf:2", "s.pdf", 2, "t", "blank-page", "blank"), "review:blank-page"),
    ],
)
def test_sheet_status_rules(read, status):
    assert sheet_status(read, _exam()) == status


def test_scored_sheet_counts_and_score():
    # key ABCDE; answers A B C D A: 4 right, 1 wrong.
    (row,) = score_sheet(_read(answers="ABCDA"), _exam())
    s = row.score
    assert (row.status, s.correct, s.wrong, s.blank, s.multiple) == ("scored", 4, 1, 0, 0)
    assert s.score == pytest.approx(80.0)
    assert row.answers == "ABCDA"


def test_several_answers_count_as_wrong_and_are_shown():
    (row,) = score_sheet(_read(answers=["A", "BC", "", "D", "E"]), _exam())
    s = row.score
    assert (s.correct, s.wrong, s.blank, s.multiple) == (3, 1, 1, 1)
    assert s.score == pytest.approx(60.0)
    assert row.answers == "A[BC]-DE"


def test_group_b_uses_its_own_key():
    (row,) = score_sheet(_read(group="B", answers="EDCBA"), _exam())
    assert row.score.correct == 5 and row.score.score == pytest.approx(100.0)


def test_penalty_four_wrong_cancel_one_right():
    # 3 right, 2 wrong, penalty 1/4: (3 - 0.5) / 5 * 100 = 50.
    (row,) = score_sheet(_read(answers="ABCAA"), _exam(penalty=0.25))
    assert row.score.score == pytest.approx(50.0)


def test_penalty_never_goes_below_zero():
    (row,) = score_sheet(_read(answers="EEEEA"), _exam(penalty=1.0))
    assert row.score.score == 0.0


@pytest.mark.parametrize(
    ("policy", "correct", "questions", "score"), [("drop", 3, 4, 75.0), ("credit-all", 4, 5, 80.0)]
)
def test_cancelled_question_policies(policy, correct, questions, score):
    # key A * C D E (q2 cancelled); answers A B C D A -> q1, q3, q4 right, q5 wrong.
    (row,) = score_sheet(
        _read(answers="ABCDA"), _exam(key=["A", "*", "C", "D", "E"], cancelled=policy)
    )
    assert (row.score.correct, row.score.questions) == (correct, questions)
    assert row.score.score == pytest.approx(score)


def test_accepted_alternative_answer():
    (row,) = score_sheet(_read(answers="ACCDE"), _exam(key=["A", "B|C", "C", "D", "E"]))
    assert row.score.correct == 5


def test_unsure_mark_sends_the_course_to_review_without_a_score():
    (row,) = score_sheet(_read(answers=["A", "?", "C", "D", "E"]), _exam())
    assert row.status == "review:faint"
    assert row.score is None
    assert row.answers == "A?CDE"


def test_void_sheet_has_no_score():
    (row,) = score_sheet(_read(group=""), _exam())
    assert row.status == "void:no-group" and row.score is None


def test_national_id_is_masked_in_results():
    (row,) = score_sheet(_read(), _exam())
    assert row.national_id_masked == "100******46"
    assert mask_national_id("12345678901") == "123******01"


# Key A B * D E|A (q3 cancelled, q5 accepts E or A); answers A C - D A [BC]... on 6 questions:
# q1 right, q2 wrong, q3 cancelled (answer blank), q4 right, q5 right (alternative), q6 multiple.
COMBO_KEY = ["A", "B", "*", "D", "E|A", "C"]
COMBO_ANSWERS = ["A", "C", "", "D", "A", "BC"]


@pytest.mark.parametrize(
    ("cancelled", "penalty", "counts", "questions", "score"),
    [
        # drop: 5 counted; right 3, wrong 2 (one of them multiple), blank 0
        ("drop", 0.0, (3, 2, 0, 1), 5, 3 / 5 * 100),
        ("drop", 0.25, (3, 2, 0, 1), 5, (3 - 0.5) / 5 * 100),
        # credit-all: 6 counted; the cancelled question is right for everyone
        ("credit-all", 0.0, (4, 2, 0, 1), 6, 4 / 6 * 100),
        ("credit-all", 0.25, (4, 2, 0, 1), 6, (4 - 0.5) / 6 * 100),
        ("credit-all", 1.0, (4, 2, 0, 1), 6, (4 - 2) / 6 * 100),
    ],
)
def test_policy_combinations(cancelled, penalty, counts, questions, score):
    exam = Exam.model_validate(
        {
            "name": "t",
            "date": "2026-11-14",
            "form": "central-a4",
            "groups": ["A"],
            "scoring": {"penalty": penalty, "cancelled": cancelled, "scale": 100},
            "courses": [
                {"code": "C1", "block": "course1", "questions": 6, "keys": {"A": COMBO_KEY}}
            ],
        }
    )
    (row,) = score_sheet(_read(answers=COMBO_ANSWERS), exam)
    s = row.score
    assert (s.correct, s.wrong, s.blank, s.multiple) == counts
    assert s.questions == questions
    assert s.score == pytest.approx(score)


def test_scale_other_than_100():
    exam = _exam().model_copy(update={"scoring": _exam().scoring.model_copy(update={"scale": 20})})
    (row,) = score_sheet(_read(answers="ABCDA"), exam)
    assert row.score.score == pytest.approx(16.0)
