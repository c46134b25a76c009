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


@pytest.mark.parametrize(
    ("items", "truth", "statuses", "expected"),
    [
        ([ONE, UNSURE], {"marks": [CIRCLE]}, ["review:odd-mark"], True),
        ([ONE, UNSURE], {"marks": [FAINT]}, ["review:faint"], False),
        ([ONE, ONE], {"marks": [CIRCLE]}, ["review:faint"], False),  # the circle was read
        ([ONE, ONE], {"miscoded_group": True}, ["review:group-suspect"], True),
        ([ONE, ONE], {"miscoded_group": False}, ["review:group-suspect"], False),
        ([ONE, ONE], {"ink": True}, ["review:non-pencil"], True),
    ],
)
def test_needs_person(items, truth, statuses, expected):
    assert needs_person(_read(items), truth, statuses) is expected
