"""Hand-made read records for scoring tests."""

from __future__ import annotations

from omr.records import FieldRead, ItemRead, ItemState, SheetRead


def make_item(token: str) -> ItemRead:
    """'A' one, '' blank, 'AC' multiple, '?' unsure."""
    if token == "?":
        return ItemRead("", ItemState.unsure, 0.0, "A", "faint")
    if not token:
        return ItemRead("", ItemState.blank, 1.0)
    return ItemRead(token, ItemState.one if len(token) == 1 else ItemState.multiple, 1.0)


def make_field(kind: str, tokens) -> FieldRead:
    """A field of items given as tokens (see :func:`make_item`)."""
    items = tuple(make_item(t) for t in tokens)
    return FieldRead(kind, items, tuple(() for _ in items))


def make_read(
    group="A",
    answers="ABCDA",
    student="1234567890",
    absent="",
    cancelled="",
    national="10000000146",
    hall=None,
    seat=None,
    signed=None,
    sheet_id="s.pdf:1",
):
    """A read sheet with one answer block ``course1``."""
    fields = {
        "group": make_field("group", [group]),
        "student_number": make_field("digits", list(student)),
        "national_id": make_field("digits", list(national)),
        "course1": make_field("answers", list(answers) if isinstance(answers, str) else answers),
        "absent": make_field("box", [absent]),
        "cancelled": make_field("box", [cancelled]),
    }
    if hall is not None:
        fields["hall"] = make_field("digits", list(hall))
    if seat is not None:
        fields["seat"] = make_field("digits", list(seat))
    if signed is not None:
        fields["signature"] = make_field("signature", ["x" if signed else ""])
    return SheetRead(sheet_id, sheet_id.split(":")[0], 1, "t", fields=fields)
