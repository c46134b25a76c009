"""Write a session's result files; each appears only when complete (temp file, then rename)."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from omr.exam import Exam
from omr.records import ItemState, SheetRead
from omr.score.scoring import CourseResult

RESULT_COLUMNS = [
    "sheet",
    "student_id",
    "national_id",
    "group",
    "course",
    "status",
    "correct",
    "wrong",
    "blank",
    "multiple",
    "questions",
    "score",
    "score_rounded",
    "answers",
]
REVIEW_COLUMNS = ["sheet", "course", "status", "detail"]


def write_csv(path: Path, columns: list[str], rows: Iterable[dict]) -> None:
    """Write ``rows`` to ``path`` atomically (UTF-8, header first)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def result_row(row: CourseResult) -> dict:
    """A ``results.csv`` row; score columns are empty unless the status is ``scored``.

    ``score`` keeps four decimals; ``score_rounded`` rounds half up to a whole number.
    """
    s = row.score
    return {
        "sheet": row.sheet,
        "student_id": row.student_id,
        "national_id": row.national_id_masked,
        "group": row.group,
        "course": row.course,
        "status": row.status,
        "correct": s.correct if s else "",
        "wrong": s.wrong if s else "",
        "blank": s.blank if s else "",
        "multiple": s.multiple if s else "",
        "questions": s.questions if s else "",
        "score": f"{s.score:.4f}" if s else "",
        "score_rounded": int(s.score + 0.5) if s else "",
        "answers": row.answers,
    }


def review_rows(reads: list[SheetRead], rows: list[CourseResult], exam: Exam) -> list[dict]:
    """One line per sheet (or sheet and course) a person must look at, with what to look at."""
    reads_by_id = {r.sheet_id: r for r in reads}
    blocks = {c.code: c for c in exam.courses}
    out, seen = [], set()
    for row in rows:
        if not row.status.startswith("review:"):
            continue
        read = reads_by_id[row.sheet]
        course_level = row.status == "review:unsure-mark"
        key = (row.sheet, row.course if course_level else "")
        if key in seen:
            continue
        seen.add(key)
        if not read.ok:
            detail = read.message
        elif course_level:
            course = blocks[row.course]
            items = read.fields[course.block].items[: course.questions]
            detail = "; ".join(
                f"q{n}: marked {i.value or 'none'}, unsure {i.unsure}"
                for n, i in enumerate(items, start=1)
                if i.state == ItemState.unsure
            )
        else:
            detail = _sheet_detail(read)
        out.append({"sheet": row.sheet, "course": key[1], "status": row.status, "detail": detail})
    return out


def _sheet_detail(read: SheetRead) -> str:
    """Which fields of the sheet are not read with certainty."""
    parts = []
    for name, field in read.fields.items():
        if field.kind == "answers":
            continue
        bad = [n for n, i in enumerate(field.items, start=1) if i.state != ItemState.one]
        if field.kind in {"group", "box"}:
            state = field.items[0].state
            if state in {ItemState.unsure, ItemState.multiple} or (
                field.kind == "box" and state == ItemState.one
            ):
                parts.append(f"{name}: {state}")
        elif bad:
            parts.append(f"{name}: position(s) {', '.join(map(str, bad))} not one clear mark")
    return "; ".join(parts)


def write_exports(out: Path, exam: Exam, reads: list[SheetRead], rows: list[CourseResult]) -> None:
    """Write ``results.csv`` and ``review.csv`` into ``out``."""
    write_csv(out / "results.csv", RESULT_COLUMNS, (result_row(r) for r in rows))
    write_csv(out / "review.csv", REVIEW_COLUMNS, review_rows(reads, rows, exam))
