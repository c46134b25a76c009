"""Article 7 rules and course scores, from read records only (never pixels).

Precedence of a sheet's status, first match wins:

1. the page could not be read → ``review:<problem>``
2. proctor marked "cancelled by report" → ``void:proctor``
3. no booklet group → ``void:no-group``; several → ``void:multiple-groups``
   (article 7.6); an unclear group bubble → ``review:group-unclear``. An exam
   without booklet groups (its form has no group field) skips this rule: there
   is one key per course, and article 7.6 does not apply
4. "absent" marked → ``absent`` if nothing is answered, else
   ``review:absent-but-answered`` (a person decides)
5. a group but no answer at all → ``absent``
6. identity not readable → ``review:identity-unreadable``
7. identity checks (:mod:`omr.score.checks`): national ID checksum, roster,
   the same candidate on two sheets, a booklet group another key fits far
   better → ``review:<reason>``
8. per course: an unsure bubble among its questions → ``review:<reason>`` of
   the first such question (``faint``, ``erasure-or-answer``,
   ``ambiguous-multiple``);
   open-ended points not readable or above the question's maximum →
   ``review:open-ended-unreadable`` / ``review:open-ended-over-max``
9. otherwise ``scored``.

With open-ended questions, the multiple-choice part is worth the scale less
their points, and the points read are added to it.

Flags do not stop scoring: ``seat-mismatch``, ``no-signature``, …
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from omr.exam import NO_GROUP, CancelledPolicy, Course, Exam
from omr.i18n import N_
from omr.records import FieldRead, ItemRead, ItemState, SheetRead

SCORED = "scored"
#: Said in ``omr run``, ``omr report`` and ``report.html`` for an exam without booklet groups.
NO_GROUP_NOTE = N_(
    "this form has no booklet group: article 7.6 not applicable (one key per course; "
    "no sheet is void for its group)"
)


def session_notes(exam: Exam) -> tuple[str, ...]:
    """What a session's outputs say about how its rules applied (``NO_GROUP_NOTE``)."""
    return () if exam.groups else (NO_GROUP_NOTE,)


@dataclass(frozen=True, slots=True)
class CourseScore:
    """Counts and score of one course on one sheet.

    ``wrong`` includes the questions with several answers (article 7.18);
    ``multiple`` says how many of the wrong ones they were. Cancelled questions
    are not counted under the ``drop`` policy; ``questions`` is the count used.
    """

    correct: int
    wrong: int
    blank: int
    multiple: int
    questions: int
    score: float
    open_points: float = 0.0


@dataclass(frozen=True, slots=True)
class CourseResult:
    """One row of ``results.csv``: a sheet and a course."""

    sheet: str
    student_id: str
    national_id_masked: str
    group: str
    course: str
    status: str
    score: CourseScore | None
    responses: tuple[str, ...]
    flags: tuple[str, ...] = ()
    note: str = ""

    @property
    def answers(self) -> str:
        """The responses as one string: ``A``, ``-`` blank, ``[AC]`` several, ``?`` unsure."""
        return "".join(f"[{r}]" if len(r) > 1 and r != "?" else (r or "-") for r in self.responses)


def response_token(item: ItemRead) -> str:
    """The options read (``"A"``, or ``"AC"`` for several); ``""`` blank; ``"?"`` unsure."""
    return "?" if item.state == ItemState.unsure else item.value


def open_ended_points(read: SheetRead, course: Course) -> tuple[float, str]:
    """Points coded in the course's open-ended score grids, or a review reason."""
    total = 0.0
    for oe in course.open_ended:
        text = read.fields[oe.field].text()
        if "?" in text:
            return 0.0, "review:open-ended-unreadable"
        if int(text) > oe.points:
            return 0.0, "review:open-ended-over-max"
        total += int(text)
    return total, ""


def score_course(
    items: tuple[ItemRead, ...],
    course: Course,
    group: str,
    exam: Exam,
    open_points: float = 0.0,
) -> CourseScore:
    """Score the printed-order answers of one course under its key for ``group``."""
    key = course.key(group)
    rules = exam.scoring
    correct = wrong = blank = multiple = counted = 0
    for item, accepted in zip(items[: course.questions], key, strict=True):
        if not accepted:  # cancelled question
            if rules.cancelled == CancelledPolicy.credit_all:
                correct += 1
                counted += 1
            continue
        counted += 1
        if item.state == ItemState.blank:
            blank += 1
        elif item.state == ItemState.multiple:
            wrong += 1
            multiple += 1
        elif item.state == ItemState.one and item.value in accepted:
            correct += 1
        elif item.state == ItemState.one:
            wrong += 1
        else:
            raise ValueError("an unsure answer cannot be scored; the sheet goes to review")
    raw = max(0.0, correct - rules.penalty * wrong)
    mc_scale = rules.scale - sum(o.points for o in course.open_ended)
    score = raw / counted * mc_scale + open_points if counted else math.nan
    return CourseScore(correct, wrong, blank, multiple, counted, score, open_points)


def mask_national_id(value: str) -> str:
    """First three and last two digits only (KVKK guidance for posted lists)."""
    return "".join(
        d if national_id_digit_shown(k, len(value)) else "*" for k, d in enumerate(value)
    )


def national_id_digit_shown(position: int, digits: int) -> bool:
    """True for a digit the masked national ID shows (position from 0 of ``digits``)."""
    return digits >= 6 and (position < 3 or position >= digits - 2)


def sheet_status(read: SheetRead, exam: Exam) -> str:
    """The sheet-level status (rules 1–6 of the module docstring); ``scored`` if none apply."""
    if not read.ok:
        return f"review:{read.problem}"
    fields = read.fields
    if _box(fields, "cancelled") == ItemState.one:
        return "void:proctor"
    if _box(fields, "cancelled") == ItemState.unsure:
        return "review:proctor-box-unclear"
    if exam.groups:
        status = _group_status(fields.get("group"), exam)
        if status:
            return status
    answered = any(
        i.state != ItemState.blank
        for c in exam.courses
        for i in fields[c.block].items[: c.questions]
    )
    absent = _box(fields, "absent")
    if absent == ItemState.one:
        return "review:absent-but-answered" if answered else "absent"
    if absent == ItemState.unsure:
        return "review:proctor-box-unclear"
    if not answered:
        return "absent"
    if any(_unreadable(fields.get(name)) for name in identity_fields(fields)):
        return "review:identity-unreadable"
    return SCORED


def _group_status(field: FieldRead | None, exam: Exam) -> str:
    """Article 7.6 on the booklet group read; ``""`` when exactly one known group is coded."""
    if field is None:  # read on a form without the group field the exam now needs
        return "review:group-unclear"
    group = field.items[0]
    if group.state == ItemState.blank:
        return "void:no-group"
    if group.state == ItemState.multiple:
        return "void:multiple-groups"
    if group.state == ItemState.unsure:
        return "review:group-unclear"
    if group.value not in exam.groups:
        return "review:group-not-in-exam"
    return ""


def coded_group(read: SheetRead, exam: Exam) -> str:
    """The booklet group the sheet is scored with: the one coded, ``""`` without groups."""
    if not exam.groups:
        return NO_GROUP
    return read.fields["group"].items[0].value


def identity_fields(fields: dict[str, FieldRead]) -> list[str]:
    """The identity fields that must be readable: student number, else national ID."""
    for name in ("student_number", "national_id"):
        if name in fields:
            return [name]
    return []


def _unreadable(field: FieldRead | None) -> bool:
    return field is not None and any(i.state != ItemState.one for i in field.items)


def _box(fields: dict[str, FieldRead], name: str) -> ItemState | None:
    field = fields.get(name)
    if field is None:
        return None
    return field.items[0].state


def score_sheet(
    read: SheetRead,
    exam: Exam,
    status: str | None = None,
    flags: tuple[str, ...] = (),
    note: str = "",
) -> list[CourseResult]:
    """One result per course of the exam for this sheet.

    ``status`` overrides the sheet status (session-level checks decide it);
    by default it is :func:`sheet_status`.
    """
    status = status or sheet_status(read, exam)
    fields = read.fields
    student = fields["student_number"].text() if "student_number" in fields else ""
    national = fields["national_id"].text() if "national_id" in fields else ""
    group = fields["group"].items[0] if read.ok and exam.groups and "group" in fields else None
    group_text = "" if group is None else group.value + ("?" if group.unsure else "")
    rows = []
    masked = mask_national_id(national)  # one string for all of the sheet's rows
    for course in exam.courses:
        items = fields[course.block].items[: course.questions] if read.ok else ()
        row_status = status
        points = 0.0
        unsure = [i for i in items if i.state == ItemState.unsure]
        if status == SCORED and unsure:
            row_status = f"review:{unsure[0].reason or 'unsure-mark'}"
        elif status == SCORED and course.open_ended:
            points, problem = open_ended_points(read, course)
            row_status = problem or row_status
        score = (
            score_course(items, course, coded_group(read, exam), exam, points)
            if row_status == SCORED
            else None
        )
        rows.append(
            CourseResult(
                sheet=read.sheet_id,
                student_id=student,
                national_id_masked=masked,
                group=group_text,
                course=course.code,
                status=row_status,
                score=score,
                responses=tuple(response_token(i) for i in items),
                flags=flags,
                note=note,
            )
        )
    return rows
