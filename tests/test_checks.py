"""Session checks: national ID checksum, roster, duplicates, seats, signature, wrong group."""

from __future__ import annotations

from dataclasses import replace

import pytest
from records import make_read

from omr.errors import InputFileError
from omr.exam import Exam
from omr.records import ItemRead, ItemState
from omr.score.checks import score_session, suspect_group
from omr.score.identity import load_roster, national_id_valid


def _exam(n=20):
    key_a = "ABCDE" * (n // 5)
    key_b = "EDCBA" * (n // 5)
    return Exam.model_validate(
        {
            "name": "t",
            "date": "2026-11-14",
            "form": "central-a4",
            "groups": ["A", "B"],
            "courses": [
                {"code": "C1", "block": "course1", "questions": n, "keys": {"A": key_a, "B": key_b}}
            ],
        }
    )


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(
        "student_number,national_id,first_name,last_name,hall,seat\n"
        "1234567890,10000000146,Ayşe,Yılmaz,101,007\n"
        "2222222222,12345678950,Can,Öz,101,008\n",
        encoding="utf-8",
    )
    return load_roster(path)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("10000000146", True),
        ("12345678950", True),
        ("10000000147", False),
        ("02345678950", False),
        ("1234567895", False),
        ("1234567895a", False),
    ],
)
def test_national_id_checksum(value, valid):
    assert national_id_valid(value) is valid


def _status(read, roster=None, exam=None):
    (row,) = score_session([read], exam or _exam(), roster)
    return row


ANSWERS = "ABCDE" * 4  # right under group A's key


def test_a_clean_sheet_on_the_roster_is_scored(roster):
    row = _status(make_read(answers=ANSWERS, hall="101", seat="007", signed=True), roster)
    assert row.status == "scored" and row.flags == ()


def test_invalid_national_id_goes_to_review(roster):
    row = _status(make_read(answers=ANSWERS, national="10000000147"), roster)
    assert row.status == "review:national-id-invalid"


def test_unknown_candidate_goes_to_review(roster):
    row = _status(make_read(answers=ANSWERS, student="9999999999", national="12345678950"), roster)
    assert row.status == "review:identity-mismatch"  # the ID belongs to someone else
    row = _status(make_read(answers=ANSWERS, student="9999999999", national="11111111110"), roster)
    assert row.status == "review:not-on-roster"


def test_wrong_seat_and_missing_signature_are_flags_not_review(roster):
    row = _status(make_read(answers=ANSWERS, hall="101", seat="009", signed=False), roster)
    assert row.status == "scored"
    assert set(row.flags) == {"seat-mismatch", "no-signature"}


def test_same_candidate_on_two_sheets_sends_both_to_review(roster):
    one = make_read(answers=ANSWERS, sheet_id="a.pdf:1")
    two = make_read(answers=ANSWERS, sheet_id="a.pdf:2")
    void = make_read(answers=ANSWERS, group="", sheet_id="a.pdf:3")
    rows = score_session([one, two, void], _exam(), roster)
    assert [r.status for r in rows] == ["review:duplicate-id"] * 2 + ["void:no-group"]


def test_a_sheet_coded_with_the_wrong_group_is_scored_as_coded_and_flagged_with_both_scores():
    # The student answered booklet B perfectly but coded group A: the coded group binds.
    row = _status(make_read(group="A", answers="EDCBA" * 4))
    assert row.status == "scored" and "group-suspect" in row.flags
    assert row.score.correct == 4
    assert "coded group A: 4/20" in row.note and "group B would give 20/20" in row.note


def test_group_suspect_review_holds_the_sheet_for_a_person():
    exam = _exam().model_copy(update={"group_suspect": "review"})
    row = _status(make_read(group="A", answers="EDCBA" * 4), exam=exam)
    assert row.status == "review:group-suspect" and "group-suspect" not in row.flags
    assert "group B would give 20/20" in row.note


def test_a_weak_honest_student_is_not_flagged():
    # Six right under their own key A; the rest scattered: no other key fits far better.
    answers = "ABCDEA" + "BBBBBBBBBBBBBB"
    read = make_read(group="A", answers=answers)
    assert suspect_group(read, _exam(), "A") is None
    assert _status(read).status == "scored"


def test_roster_with_a_repeated_candidate_is_an_input_error(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("student_number,national_id\n1,10000000146\n1,12345678950\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"roster.csv:3") as err:
        load_roster(path)
    assert "10000000146" not in str(err.value)  # personal data stays out of messages


def _with_odd_read(read, question=3):
    """``read`` with course1's question ``question`` (1-based) read from a lone circled option."""
    items = list(read.fields["course1"].items)
    value = items[question - 1].value
    items[question - 1] = ItemRead(value, ItemState.one, 0.5, "", f"odd:{value}")
    read.fields["course1"] = replace(read.fields["course1"], items=tuple(items))
    return read


def test_an_answer_read_from_an_odd_mark_is_scored_and_flagged(roster):
    row = _status(_with_odd_read(make_read(answers=ANSWERS)), roster)
    assert row.status == "scored" and row.flags == ("odd-mark",)
    assert row.score.correct == 20  # read as the candidate meant it
    assert row.note == "read from odd marks: course1 q3: C"


def test_odd_marks_review_sends_the_sheet_to_a_person(roster):
    exam = _exam().model_copy(update={"odd_marks": "review"})
    row = _status(_with_odd_read(make_read(answers=ANSWERS)), roster, exam)
    assert row.status == "review:odd-mark"
    assert "course1 q3: C" in row.note


def test_a_bubble_is_named_for_a_person_by_question_or_digit_position():
    from omr.score.checks import _place

    read = make_read(answers=ANSWERS)
    assert _place(read, "course1", 2, "C") == "course1 q3: C"
    assert _place(read, "student_number", 0, "8") == "student_number #1: 8"


def test_an_odd_mark_beside_another_is_named_in_review_csv_by_question():
    # A circled option beside a mark is an item's doubt: review.csv must say
    # which question (it once gave the sheet with an empty detail).
    from omr.export import review_rows

    read = make_read(answers=ANSWERS)
    items = list(read.fields["course1"].items)
    items[6] = ItemRead("", ItemState.unsure, 0.0, "A", "odd-mark")
    read.fields["course1"] = replace(read.fields["course1"], items=tuple(items))
    rows = score_session([read], _exam())
    assert rows[0].status == "review:odd-mark"
    (line,) = review_rows([read], rows, _exam())
    assert line["course"] == "C1"
    assert line["detail"] == "q7 (odd-mark): marked none, unsure A"
