"""The evaluation's split of review into sheets the truth says need a person and the rest."""

from __future__ import annotations

import pytest

from omr.evaluate import needs_person
from omr.records import FieldRead, ItemRead, ItemState, SheetRead


def _read(course_items):
    group = FieldRead("group", (ItemRead("A", ItemState.one, 1.0),), ((0.9, 0.0),))
    course = FieldRead("answers", tuple(course_items), ((0.0,) * 5,) * len(course_items))
    return SheetRead("s:1", "s", 1, "central-a4", fields={"group": group, "course1": course})


ONE = ItemRead("B", ItemState.one, 1.0)
UNSURE = ItemRead("", ItemState.unsure, 0.0, "C", "odd-mark")
CIRCLE = {"field": "course1", "item": 1, "option": "C", "kind": "circle", "ambiguous": True}
FAINT = {"field": "course1", "item": 1, "option": "C", "kind": "faint"}
# A faint answer a 1-bit threshold wiped out (only the paper shows it), and an erasure.
LOST = {**FAINT, "visible": False}
LOST_ERASURE = {**FAINT, "option": "D", "kind": "erasure", "visible": False}
MEANT = {"course1": ["B", "C"]}


@pytest.mark.parametrize(
    ("items", "truth", "statuses", "expected"),
    [
        ([ONE, UNSURE], {"marks": [CIRCLE]}, ["review:odd-mark"], True),
        ([ONE, UNSURE], {"marks": [FAINT]}, ["review:faint"], False),
        ([ONE, UNSURE], {"marks": [LOST], "answers": MEANT}, ["review:faint"], True),
        ([ONE, ONE], {"marks": [LOST], "answers": MEANT}, ["review:faint"], False),
        ([ONE, UNSURE], {"marks": [LOST_ERASURE], "answers": MEANT}, ["review:faint"], False),
        ([ONE, ONE], {"marks": [CIRCLE]}, ["review:faint"], False),  # the circle was read
        ([ONE, ONE], {"miscoded_group": True}, ["review:group-suspect"], True),
        ([ONE, ONE], {"miscoded_group": False}, ["review:group-suspect"], False),
        ([ONE, ONE], {"ink": True}, ["review:non-pencil"], True),
    ],
)
def test_needs_person(items, truth, statuses, expected):
    assert needs_person(_read(items), truth, statuses) is expected


def test_answers_read_from_odd_marks_are_counted_right_and_wrong():
    from omr.evaluate import Tally, compare_sheet

    odd_c = ItemRead("C", ItemState.one, 0.5, "", "odd:C")
    odd_d = ItemRead("D", ItemState.one, 0.5, "", "odd:D")
    tally = Tally()
    truth = {"group_marks": "A", "answers": {"course1": ["B", "C", "C"]}}
    labels = {"group": ("A", "B"), "course1": tuple("ABCDE")}
    assert not compare_sheet(_read([ONE, odd_c, odd_d]), truth, tally, labels)
    assert (tally.odd_items, tally.odd_right) == (2, 1)
    assert tally.errors == [{"sheet": "s:1", "where": "course1 q3", "read": "D", "truth": "C"}]
