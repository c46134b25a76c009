"""Session-level checks on who wrote each sheet and which booklet they had.

These run after every sheet is read, because some need the whole session (the
same candidate on two sheets) or the roster. They work from read records only.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from omr.exam import Exam
from omr.records import ItemState, SheetRead
from omr.score.identity import Roster, national_id_valid
from omr.score.scoring import SCORED, CourseResult, coded_group, score_sheet, sheet_status


@dataclass(frozen=True)
class Verdict:
    """A sheet's status after the session checks, its flags and a note for the reviewer."""

    status: str
    flags: tuple[str, ...] = ()
    note: str = ""


def group_fit(read: SheetRead, exam: Exam) -> dict[str, int]:
    """Right answers over all courses if the sheet were scored with each group's key."""
    fit = {}
    for group in exam.groups:
        right = 0
        for course in exam.courses:
            items = read.fields[course.block].items[: course.questions]
            for item, accepted in zip(items, course.key(group), strict=True):
                right += item.state == ItemState.one and item.value in accepted
        fit[group] = right
    return fit


def suspect_group(
    read: SheetRead, exam: Exam, coded: str, *, min_gap: float = 0.15, z: float = 3.0
) -> tuple[str, dict[str, int]] | None:
    """Another group whose key fits the answers far better than the coded one, if any.

    A gap counts when it exceeds both ``min_gap`` of the questions answered and
    ``z`` standard deviations of chance agreement (p = 1/4) over them, so an
    honest sheet is almost never flagged.
    """
    if len(exam.groups) < 2:
        return None
    fit = group_fit(read, exam)
    answered = sum(
        i.state == ItemState.one
        for c in exam.courses
        for i in read.fields[c.block].items[: c.questions]
    )
    if answered == 0:
        return None
    best = max((g for g in exam.groups if g != coded), key=lambda g: fit[g])
    gap = fit[best] - fit[coded]
    threshold = max(min_gap * answered, z * math.sqrt(answered * 0.25 * 0.75))
    return (best, fit) if gap >= threshold else None


def identity_verdict(read: SheetRead, roster: Roster | None) -> Verdict | None:
    """Review reason for an identity that fails a check, or flags; None when all is well."""
    fields = read.fields
    flags = []
    national = fields["national_id"].text() if "national_id" in fields else ""
    student = fields["student_number"].text() if "student_number" in fields else ""
    if national and "?" not in national and not national_id_valid(national):
        return Verdict("review:national-id-invalid", note="check digits do not match")
    if roster is not None:
        candidate = roster.find(student, national)
        if candidate is None:
            return Verdict("review:not-on-roster", note="identity read is not on the roster")
        if not (
            _agrees(student, candidate.student_number) and _agrees(national, candidate.national_id)
        ):
            return Verdict(
                "review:identity-mismatch", note="student number and national ID disagree"
            )
        for name, value in (("student_number", student), ("national_id", national)):
            if "?" in value:
                flags.append(f"{name}-unreadable")
        for name, want in (("hall", candidate.hall), ("seat", candidate.seat)):
            if name in fields and want:
                got = fields[name].text()
                if "?" in got:
                    flags.append(f"{name}-unreadable")
                elif got.lstrip("0") != want.lstrip("0"):
                    flags.append(f"{name}-mismatch")
    return Verdict(SCORED, tuple(flags)) if flags else None


def _agrees(read: str, known: str) -> bool:
    """True when every digit read (``?`` for unreadable) matches ``known``, or either is empty."""
    if not read or not known:
        return True
    return len(read) == len(known) and all(r in ("?", k) for r, k in zip(read, known, strict=True))


def _listed(places: list[str], shown: int = 6) -> str:
    """The first ``shown`` places, comma-separated, and how many more."""
    more = f" and {len(places) - shown} more" if len(places) > shown else ""
    return ", ".join(places[:shown]) + more


def _place(read: SheetRead, name: str, item: int, option: str) -> str:
    """A bubble named for a person: ``course1 q5: B``, ``student_number #3: 7``.

    A letter grid's letter and a national ID's digit are left out (personal data: a
    posted list shows the ID masked): ``surname #3``, ``national_id #4``.
    """
    kind = read.fields[name].kind if name in read.fields else ""
    if kind == "letters" or name == "national_id":
        return f"{name} #{item + 1}"
    return f"{name} {'q' if kind == 'answers' else '#'}{item + 1}: {option}"


def odd_reads(read: SheetRead) -> list[str]:
    """Where an answer was read from an odd mark alone in its question (``course1 q5: B``).

    Letter grids (names) are not scored: an odd mark there flags nothing.
    """
    return [
        _place(read, name, i, item.value)
        for name, f in read.fields.items()
        if f.kind != "letters"
        for i, item in enumerate(f.items)
        if item.reason.startswith("odd:")
    ]


def judge_sheet(read: SheetRead, exam: Exam, roster: Roster | None, ruling: str = "") -> Verdict:
    """Status, flags and note of one sheet, before the session-wide duplicate check.

    ``ruling`` is a person's decision on the sheet as a whole (``omr review set
    OUT SHEET sheet score|void``): ``void`` voids it (``void:decided``);
    ``score`` counts it as read, so the checks that would hold it for a person
    (identity, non-pencil under ``review``, odd marks, a suspected group, absent
    but answered) become flags. What is still in doubt on the sheet itself (an
    unsure bubble, group or box, an unreadable identity) stays in review.
    """
    status = sheet_status(read, exam)
    flags: list[str] = []
    signature = read.fields.get("signature")
    if signature is not None and signature.items[0].state != ItemState.one:
        flags.append("no-signature")
    if ruling == "void":
        return Verdict("void:decided", tuple(flags), "voided by a person (see the audit log)")
    accepted = ruling == "score"
    if accepted and status == "review:absent-but-answered":
        status = SCORED
        flags.append("absent-but-answered")
    if status != SCORED:
        return Verdict(status, tuple(flags))
    ident = identity_verdict(read, roster)
    if ident is not None:
        if ident.status != SCORED and not accepted:
            return Verdict(ident.status, tuple(flags), ident.note)
        flags += ident.flags if ident.status == SCORED else [ident.status.split(":", 1)[1]]
    inked = [m for m in read.media.get("marks", []) if m.get("medium") == "ink"]
    notes = []
    if inked:
        where = _listed([_place(read, m["field"], m["item"], m["option"]) for m in inked])
        note = f"marks not in pencil (article 7.7): {where}"
        if exam.non_pencil == "void":
            return Verdict("void:non-pencil", tuple(flags), note)
        if not accepted:
            return Verdict("review:non-pencil", tuple(flags), note)
        flags.append("non-pencil")
        notes.append(note)
    odd = odd_reads(read)
    if odd:
        note = f"read from odd marks: {_listed(odd)}"
        if exam.odd_marks == "review" and not accepted:
            return Verdict("review:odd-mark", tuple(flags), note)
        flags.append("odd-mark")
        notes.append(note)
    coded = coded_group(read, exam)
    suspect = suspect_group(read, exam, coded) if exam.groups else None
    if suspect is not None:
        best, fit = suspect
        total = sum(c.questions for c in exam.courses)
        note = (
            f"coded group {coded}: {fit[coded]}/{total} right; "
            f"group {best} would give {fit[best]}/{total}"
        )
        if exam.group_suspect == "review" and not accepted:
            return Verdict("review:group-suspect", tuple(flags), note)
        flags.append("group-suspect")
        notes.append(note)
    return Verdict(SCORED, tuple(flags), "; ".join(notes))


def score_session(
    reads: list[SheetRead],
    exam: Exam,
    roster: Roster | None = None,
    rulings: dict[str, str] | None = None,
) -> list[CourseResult]:
    """Results of every sheet, with the session checks applied.

    The same candidate (student number, else national ID) on two sheets that
    would both count sends both to ``review:duplicate-id``, unless a person
    ruled the sheet be scored. ``rulings`` maps sheet ids to a person's
    ``score`` or ``void`` (see :func:`judge_sheet`). Sheet ids are unique.
    """
    by_id = {r.sheet_id: r for r in reads}
    return score_stream(reads, exam, roster, rulings, by_id.__getitem__)


def score_stream(
    reads: Iterable[SheetRead],
    exam: Exam,
    roster: Roster | None,
    rulings: dict[str, str] | None,
    refetch: Callable[[str], SheetRead],
) -> list[CourseResult]:
    """:func:`score_session` over reads taken one at a time (from the store, say), none kept.

    Each sheet is scored as it passes; the few sheets found to share a
    candidate with another are scored again at the end from ``refetch`` (sheet
    id to its read), as ``review:duplicate-id``.
    """
    scoring = SessionScoring(exam, roster, rulings)
    for r in reads:
        scoring.add(r)
    return scoring.rows(refetch)


class SessionScoring:
    """:func:`score_stream` fed one read at a time (several can take the same stream)."""

    def __init__(self, exam: Exam, roster: Roster | None, rulings: dict[str, str] | None):
        self.exam, self.roster, self.rulings = exam, roster, rulings or {}
        self._sheets: list[tuple[str, Verdict, str]] = []  # sheet id, verdict, candidate key
        self._rows: list[list[CourseResult]] = []
        self._owners: Counter = Counter()

    def add(self, r: SheetRead) -> None:
        """Score one sheet and note the candidate it names."""
        v = judge_sheet(r, self.exam, self.roster, self.rulings.get(r.sheet_id, ""))
        key = ""
        if r.ok and not v.status.startswith(("void:", "review:unreadable", "absent")):
            key = _candidate_key(r)
            if key:
                self._owners[key] += 1
        self._sheets.append((r.sheet_id, v, key))
        self._rows.append(score_sheet(r, self.exam, v.status, v.flags, v.note))

    def rows(self, refetch: Callable[[str], SheetRead]) -> list[CourseResult]:
        """Every sheet's rows, those sharing a candidate scored again as duplicates."""
        rows = self._rows
        for n, (sheet_id, v, key) in enumerate(self._sheets):
            if key and self._owners[key] > 1 and self.rulings.get(sheet_id) != "score":
                twin = Verdict(
                    "review:duplicate-id", v.flags, "the same candidate is on another sheet"
                )
                rows[n] = score_sheet(
                    refetch(sheet_id), self.exam, twin.status, twin.flags, twin.note
                )
        return [row for mine in rows for row in mine]


def _candidate_key(read: SheetRead) -> str:
    for name in ("student_number", "national_id"):
        if name in read.fields:
            text = read.fields[name].text()
            return "" if "?" in text else f"{name}:{text}"
    return ""
