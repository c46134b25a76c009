"""Open-ended points coded by a grader in digit grids (the midterm-a4 form)."""

from __future__ import annotations

import pytest
from conftest import blank_sheet, fill, transform

from omr.calibration import find_calibration
from omr.detect import read_page
from omr.exam import Exam, check_exam_against_form
from omr.forms import find_form
from omr.score.scoring import score_sheet

KEY = "ABCDE" * 8


def _exam(points=(10, 10), scale=100):
    return Exam.model_validate(
        {
            "name": "t",
            "date": "2026-11-14",
            "scoring": {"scale": scale},
            "form": "midterm-a4",
            "groups": ["A", "B"],
            "courses": [
                {
                    "code": "M1",
                    "block": "answers",
                    "questions": 40,
                    "keys": {"A": KEY, "B": KEY[::-1]},
                    "open_ended": [
                        {"field": f"open{i + 1}", "points": p} for i, p in enumerate(points)
                    ],
                }
            ],
        }
    )


def _sheet(open1="07", open2="10", right=30):
    form = find_form("midterm-a4")
    marks = {("group", 0): "A"} | {("student_number", i): d for i, d in enumerate("2026000001")}
    for q in range(40):
        marks[("answers", q)] = KEY[q] if q < right else ("A" if KEY[q] != "A" else "B")
    for name, value in (("open1", open1), ("open2", open2)):
        marks |= {(name, i): d for i, d in enumerate(value)}
    page = fill(blank_sheet(form, 200), form, 200, marks)
    return read_page(transform(page, degrees=-0.8), form, find_calibration())


def test_points_are_read_and_added_to_the_multiple_choice_part():
    read = _sheet()
    assert read.fields["open1"].text() == "07" and read.fields["open2"].text() == "10"
    (row,) = score_sheet(read, _exam())
    # 30 of 40 right on a multiple-choice part worth 100 - 20 = 80, plus 7 + 10 points.
    assert row.status == "scored"
    assert row.score.open_points == 17
    assert row.score.score == pytest.approx(30 / 40 * 80 + 17)


def test_points_above_the_maximum_go_to_review():
    (row,) = score_sheet(_sheet(open1="12"), _exam())
    assert row.status == "review:open-ended-over-max" and row.score is None


def test_an_uncoded_grid_goes_to_review():
    (row,) = score_sheet(_sheet(open2=""), _exam())
    assert row.status == "review:open-ended-unreadable"


def test_exam_must_name_existing_grids_that_can_hold_the_points():
    form = find_form("midterm-a4")
    assert check_exam_against_form(_exam(), form) == []
    exam = _exam(points=(10, 150), scale=1000)
    problems = dict(check_exam_against_form(exam, form))
    assert problems["courses[0].open_ended[1].points"] == "2 digits cannot code it"
    bad = Exam.model_validate(
        _exam().model_dump(mode="json")
        | {
            "courses": [
                _exam().courses[0].model_dump(mode="json")
                | {"open_ended": [{"field": "open9", "points": 5}]}
            ]
        }
    )
    assert (
        "no score field"
        in dict(check_exam_against_form(bad, form))["courses[0].open_ended[0].field"]
    )


def test_open_ended_points_must_leave_room_for_multiple_choice():
    with pytest.raises(ValueError, match="leave nothing"):
        _exam(points=(60, 40))
