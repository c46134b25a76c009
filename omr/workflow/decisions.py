"""Review decisions: the value a person gives for what the reader left in doubt.

A decision names a sheet, a field and (for a question) an item, and holds the
value decided. It never changes the read: :func:`apply_decisions` lays the
latest decision of each field over the read before scoring, so ``omr run`` on
a late stack and ``omr report`` keep every decision.

Fields a person names (``FIELD`` of ``omr review set``):

- a question: ``TUR101:12`` (course code or answer block, and the question
  number printed on the sheet), or ``12`` / ``q12`` on a one-course exam;
  value an option (``B``), several (``AC``: wrong, article 7.18) or ``blank``;
- ``group``: a booklet group, or ``blank`` (void, article 7.6);
- ``student_id`` (or ``student_number``), ``national_id``, ``hall``, ``seat``:
  all the digits;
- a proctor box (``absent``, ``cancelled``): ``marked`` or ``blank``;
- ``sheet``: ``score`` (counted as read: the checks that held it become
  flags) or ``void``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from omr.errors import BadArgument
from omr.exam import Exam
from omr.forms import Form
from omr.records import FieldRead, ItemRead, ItemState, SheetRead
from omr.score.identity import national_id_valid
from omr.score.scoring import mask_national_id

SHEET = "sheet"
WHOLE = -1  # the item of a decision on a whole field
DECIDED = "decided"  # reason of an item a person decided
SHEET_RULINGS = ("score", "void")
BOX_VALUES = {"marked": "x", "blank": ""}
ALIASES = {"student_id": "student_number"}
BLANK_WORDS = {"blank", "-", "none", "empty"}
_QUESTION = re.compile(r"^(?:(?P<course>[^:.\s]+)[:.]\s*)?q?(?P<n>\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    """What a decision is about: the read's field, the item (0-based, or ``WHOLE``)."""

    field: str
    item: int
    label: str  # as a person says it: ``TUR101 q12``, ``group``, ``student_number``

    @property
    def personal(self) -> bool:
        """Whether its values are personal data (kept masked in the audit log)."""
        return self.field == "national_id"


@dataclass(frozen=True)
class Decision:
    """One stored decision (the latest of a sheet's field wins)."""

    sheet_id: str
    field: str
    item: int
    value: str
    by: str
    why: str
    at: str


def parse_target(text: str, exam: Exam, form: Form) -> Target:
    """The field ``text`` names on ``form`` under ``exam``; :class:`BadArgument` if none."""
    name = (text or "").strip()
    low = ALIASES.get(name.lower(), name.lower())
    fields = form.layout.fields
    if low == SHEET:
        return Target(SHEET, WHOLE, SHEET)
    if low == "group":
        if "group" not in fields:
            raise BadArgument("this form has no booklet group field")
        return Target("group", WHOLE, "group")
    if low in fields and fields[low].kind in {"digits", "box"}:
        return Target(low, WHOLE, low)
    match = _QUESTION.match(name)
    if match is None:
        known = ["a question (COURSE:N)", "group", "student_id", "national_id", "sheet"]
        known += [n for n, f in fields.items() if f.kind in {"digits", "box"}]
        raise BadArgument(f"unknown field {name!r}: give {', '.join(dict.fromkeys(known))}")
    code = match["course"]
    if code is None:
        if len(exam.courses) != 1:
            codes = ", ".join(c.code for c in exam.courses)
            raise BadArgument(
                f"{name!r}: say which course, e.g. {exam.courses[0].code}:{match['n']} ({codes})"
            )
        course = exam.courses[0]
    else:
        found = [c for c in exam.courses if code.lower() in (c.code.lower(), c.block.lower())]
        if not found:
            codes = ", ".join(c.code for c in exam.courses)
            raise BadArgument(f"{name!r}: no course {code!r} in the exam ({codes})")
        course = found[0]
    n = int(match["n"])
    if not 1 <= n <= course.questions:
        raise BadArgument(
            f"{name!r}: question {n} out of range, {course.code} has questions 1-{course.questions}"
        )
    return Target(course.block, n - 1, f"{course.code} q{n}")


def parse_value(target: Target, text: str, form: Form) -> str:
    """The stored form of a decided value; :class:`BadArgument` if it does not fit the field."""
    raw = (text or "").strip()
    low = raw.lower()
    if target.field == SHEET:
        if low not in SHEET_RULINGS:
            raise BadArgument(f"sheet: give score or void, not {raw!r}")
        return low
    field = form.layout.fields[target.field]
    options = field.option_labels
    if field.kind == "box":
        if low not in BOX_VALUES:
            raise BadArgument(f"{target.label}: give marked or blank, not {raw!r}")
        return low
    if field.kind == "digits":
        digits = raw.replace(" ", "")
        n = len(field.item_numbers)
        if len(digits) != n or any(d not in options for d in digits):
            raise BadArgument(f"{target.label}: give all {n} digits, not {_shown(target, raw)}")
        if target.field == "national_id" and not national_id_valid(digits):
            raise BadArgument(f"national_id {mask_national_id(digits)}: check digits do not match")
        return digits
    if low in BLANK_WORDS:
        return ""
    letters = raw.upper().replace("|", "").replace(",", "").replace(" ", "")
    bad = sorted(set(letters) - set(options))
    if not letters or bad:
        raise BadArgument(
            f"{target.label}: {raw!r} is not an option on the form ({''.join(options)}, or blank)"
        )
    if field.kind == "group" and len(letters) > 1:
        raise BadArgument("group: give one booklet group, or blank")
    return "".join(o for o in options if o in letters)


def _shown(target: Target, value: str) -> str:
    return mask_national_id(value) if target.personal else repr(value)


def shown(target: Target, value: str) -> str:
    """A value as the audit log and the messages show it (a national ID masked)."""
    if target.personal:
        return mask_national_id(value)
    return value or "blank"


def read_value(read: SheetRead, target: Target) -> str:
    """What the sheet says for ``target`` now (read, or decided before), for the audit log."""
    if target.field == SHEET:
        return "as read"
    field = read.fields[target.field]
    if target.item == WHOLE:
        if field.kind == "digits":
            return field.text()
        item = field.items[0]
        if field.kind == "box":
            return {ItemState.one: "marked", ItemState.blank: "blank"}.get(item.state, "unsure")
        return _item_text(item)
    return _item_text(field.items[target.item])


def _item_text(item: ItemRead) -> str:
    if item.state == ItemState.unsure:
        return f"{item.value or ''}?{item.unsure}"
    return item.value


def decided_items(field: FieldRead, item: int, value: str) -> tuple[ItemRead, ...]:
    """``field``'s items with the decision laid over them."""
    if field.kind == "digits" and item == WHOLE:
        return tuple(ItemRead(d, ItemState.one, 1.0, "", DECIDED) for d in value)
    if field.kind == "box":
        value = BOX_VALUES.get(value, value)
    state = (
        ItemState.blank if not value else ItemState.one if len(value) == 1 else ItemState.multiple
    )
    new = ItemRead(value, state, 1.0, "", DECIDED)
    index = 0 if item == WHOLE else item
    return field.items[:index] + (new,) + field.items[index + 1 :]


def latest(decisions: Iterable[Decision]) -> dict[tuple[str, str, int], Decision]:
    """The decision in force per (sheet, field, item): the last one made."""
    out: dict[tuple[str, str, int], Decision] = {}
    for d in decisions:
        out[(d.sheet_id, d.field, d.item)] = d
    return out


def apply_decisions(reads: list[SheetRead], decisions: Iterable[Decision]) -> list[SheetRead]:
    """The reads with every decision in force laid over them (the reads are not changed)."""
    by_sheet: dict[str, list[Decision]] = {}
    for d in latest(decisions).values():
        if d.field != SHEET:
            by_sheet.setdefault(d.sheet_id, []).append(d)
    out = []
    for read in reads:
        mine = by_sheet.get(read.sheet_id)
        if not mine or not read.ok:
            out.append(read)
            continue
        fields = dict(read.fields)
        for d in mine:
            if d.field in fields:
                f = fields[d.field]
                fields[d.field] = replace(f, items=decided_items(f, d.item, d.value))
        out.append(replace(read, fields=fields))
    return out


def sheet_rulings(decisions: Iterable[Decision]) -> dict[str, str]:
    """Sheet id -> ``score`` or ``void`` for the sheets a person ruled on as a whole."""
    return {d.sheet_id: d.value for d in latest(decisions).values() if d.field == SHEET}


def check_target_on_read(read: SheetRead, target: Target) -> None:
    """:class:`BadArgument` when ``target`` cannot be decided on this sheet."""
    if not read.ok and target.field != SHEET:
        raise BadArgument(
            f"{read.sheet_id}: the page was not read ({read.problem}); only 'sheet void' "
            "can be decided (or scan it again and run omr run)"
        )
    if target.field != SHEET and target.field not in read.fields:
        raise BadArgument(f"{read.sheet_id}: no field {target.label} was read on this sheet")
