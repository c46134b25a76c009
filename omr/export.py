"""Write a session's result files; each appears only when complete (temp file, then rename)."""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from omr.exam import Course, Exam
from omr.forms import Form, Identity
from omr.records import FieldRead, ItemRead, ItemState, SheetRead
from omr.report_html import CourseReport, ReportData, render_report
from omr.safe_text import cells_as_text, csv_cell, csv_row, sheet_titles
from omr.score.analysis import CourseAnalysis, analyse_course
from omr.score.calendar import ObjectionWindow, objection_windows
from omr.score.items import items_table
from omr.score.scoring import SCORED, CourseResult, session_notes

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
    "open_points",
    "score",
    "score_rounded",
    "answers",
    "flags",
]
REVIEW_COLUMNS = ["sheet", "course", "status", "detail"]
LETTERS_FILE = "letters.csv"  # letter grids (names): only with the exam's export_letters
FLAGGED_COLUMNS = ["sheet", "status", "flags", "detail"]
OBJECTION_COLUMNS = [
    "course",
    "kind",
    "counted_from",
    "first_day",
    "deadline",
    "business_days",
    "skipped",
]


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def _atomic(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then move the file into place; no partial file on failure."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        Path(tmp).chmod(0o666 & ~_UMASK)  # mkstemp makes 0600; exports are ordinary files
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(path: Path, columns: list[str], rows: Iterable[dict]) -> None:
    """Write ``rows`` to ``path`` atomically (UTF-8, header first; no cell a formula)."""

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(csv_row(r) for r in rows)

    _atomic(path, write)


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
        "open_points": f"{s.open_points:g}" if s else "",
        "score": f"{s.score:.4f}" if s else "",
        "score_rounded": int(s.score + 0.5) if s else "",
        "answers": row.answers,
        "flags": ";".join(row.flags),
    }


COURSE_REVIEWS = {
    "review:unsure-mark",
    "review:faint",
    "review:erasure-or-answer",
    "review:ambiguous-multiple",
    "review:open-ended-unreadable",
    "review:open-ended-over-max",
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
        unsure = _unsure_items(read, blocks[row.course]) if read.ok else []
        # An odd mark beside another one is an item's doubt, like a faint one;
        # under ``odd_marks: review`` it is the whole sheet's (with a note).
        course_level = row.status in COURSE_REVIEWS or (
            row.status == "review:odd-mark" and bool(unsure)
        )
        key = (row.sheet, row.course if course_level else "")
        if key in seen:
            continue
        seen.add(key)
        if not read.ok:
            detail = read.message
        elif row.status.startswith("review:open-ended"):
            course = blocks[row.course]
            detail = "; ".join(
                f"{oe.field}: read {read.fields[oe.field].text()} of at most {oe.points:g}"
                for oe in course.open_ended
            )
        elif course_level:
            detail = "; ".join(
                f"q{n} ({i.reason}): marked {i.value or 'none'}, unsure {i.unsure}"
                for n, i in unsure
            )
        else:
            detail = "; ".join(p for p in (row.note, _sheet_detail(read)) if p)
        out.append({"sheet": row.sheet, "course": key[1], "status": row.status, "detail": detail})
    return out


def _unsure_items(read: SheetRead, course: Course) -> list[tuple[int, ItemRead]]:
    """(question number, item) of every item of ``course`` a person must decide."""
    items = read.fields[course.block].items[: course.questions]
    return [(n, i) for n, i in enumerate(items, start=1) if i.state == ItemState.unsure]


def flagged_rows(rows: list[CourseResult]) -> list[dict]:
    """One line per sheet that carries flags: counted as read, for a person to check.

    The detail holds what the flags rest on (the answers read from odd marks,
    both booklet groups' scores), where the checks left a note.
    """
    out, seen = [], set()
    for row in rows:
        if not row.flags or row.sheet in seen:
            continue
        seen.add(row.sheet)
        out.append(
            {
                "sheet": row.sheet,
                "status": row.status,
                "flags": ";".join(row.flags),
                "detail": row.note if not row.status.startswith("review:") else "",
            }
        )
    return out


def _sheet_detail(read: SheetRead) -> str:
    """Which fields of the sheet are not read with certainty (never a letter grid's)."""
    parts = []
    for name, field in read.fields.items():
        if field.kind in {"answers", "signature", "letters"} or (
            field.kind == "digits" and name not in Identity.model_fields
        ):
            continue  # answers and score grids are reviewed per course
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


def letters_text(field: FieldRead) -> str:
    """What a letter grid reads: one letter per position, ``?`` where not one clear mark,
    trailing blank positions dropped and inner ones as spaces."""
    return "".join(
        i.value if i.state == ItemState.one else " " if i.state == ItemState.blank else "?"
        for i in field.items
    ).rstrip()


def letters_rows(reads: list[SheetRead], form: Form) -> list[dict]:
    """``letters.csv``: per sheet read, its student number and each letter grid's text."""
    out = []
    for read in reads:
        if not read.ok:
            continue
        row = {"sheet": read.sheet_id}
        number = read.fields.get("student_number")
        row["student_id"] = number.text() if number is not None else ""
        for name in form.letter_grids:
            field = read.fields.get(name)
            row[name] = letters_text(field) if field is not None else ""
        out.append(row)
    return out


def objection_rows(exam: Exam, windows: list[ObjectionWindow]) -> list[dict]:
    """One row per course and window, with the holidays and closures it skipped."""
    out = []
    for course in exam.courses:
        for w in windows:
            counted_from = exam.date if w.kind == "question" else exam.announcement_date
            out.append(
                {
                    "course": course.code,
                    "kind": w.kind,
                    "counted_from": counted_from.isoformat(),
                    "first_day": w.start.isoformat(),
                    "deadline": w.deadline.isoformat(),
                    "business_days": w.business_days,
                    "skipped": "; ".join(f"{d.date.isoformat()} {d.reason}" for d in w.skipped),
                }
            )
    return out


def items_frame(analyses: list[CourseAnalysis]) -> pd.DataFrame:
    """``items.csv``: per course, all groups pooled (group ``all``), then each group."""
    frames = []
    for a in analyses:
        frames.append(items_table(a.pooled, a.course.code, "all"))
        frames += [items_table(s, a.course.code, g) for g, s in a.by_group.items()]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def summary_frame(analyses: list[CourseAnalysis], rows: list[CourseResult]) -> pd.DataFrame:
    """One row per course: sheets by status, and the test statistics."""
    out = []
    for a in analyses:
        mine = [r.status for r in rows if r.course == a.course.code]
        t = a.test
        out.append(
            {
                "course": a.course.code,
                "name": a.course.name,
                "sheets": len(mine),
                "scored": mine.count(SCORED),
                "void": sum(s.startswith("void:") for s in mine),
                "absent": mine.count("absent"),
                "review": sum(s.startswith("review:") for s in mine),
                "items": t.k,
                "mean": t.mean,
                "sd": t.sd,
                "kr20": t.kr20,
                "sem": t.sem,
            }
        )
    return pd.DataFrame(out)


def write_xlsx(path: Path, rows: list[CourseResult], summary: pd.DataFrame, exam: Exam) -> None:
    """``results.xlsx``: a Summary sheet, then one sheet per course (text stays text)."""
    table = pd.DataFrame([result_row(r) for r in rows], columns=RESULT_COLUMNS)
    titles = sheet_titles(c.code for c in exam.courses)

    def write(tmp: Path) -> None:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
            summary.to_excel(xl, sheet_name="Summary", index=False)
            for course in exam.courses:
                part = table[table["course"] == course.code]
                part.to_excel(xl, sheet_name=titles[course.code], index=False)
            cells_as_text(xl.book)

    _atomic(path, write)


def report_data(
    exam: Exam,
    analyses: list[CourseAnalysis],
    windows: list[ObjectionWindow],
    rows: list[CourseResult],
    candidates: int,
) -> ReportData:
    """The instructors' page contents: one section per course."""
    courses = []
    for a in analyses:
        statuses: dict[str, int] = {}
        for r in rows:
            if r.course == a.course.code:
                statuses[r.status] = statuses.get(r.status, 0) + 1
        courses.append(
            CourseReport(
                code=a.course.code,
                name=a.course.name,
                scores=a.scores,
                scale=exam.scoring.scale,
                test=a.test,
                items=a.pooled,
                items_by_group=a.by_group,
                options=a.options,
                windows=windows,
                statuses=statuses,
            )
        )
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return ReportData(exam.name, exam.date, generated, courses, candidates, session_notes(exam))


def write_evidence(out: Path, evidence: dict[str, bytes], rows: list[CourseResult]) -> None:
    """``evidence/<sheet>.png`` for every sheet whose flagged marks have a picture."""
    flagged = {r.sheet for r in rows if r.status.endswith(":non-pencil")}
    folder = out / "evidence"
    for sheet, png in evidence.items():
        if sheet not in flagged:
            continue
        folder.mkdir(exist_ok=True)
        name = sheet.replace("/", "_").replace(":", "-p") + ".png"
        _atomic(folder / name, lambda tmp, png=png: tmp.write_bytes(png))


def write_exports(
    out: Path,
    exam: Exam,
    form: Form,
    reads: list[SheetRead],
    rows: list[CourseResult],
    evidence: dict[str, bytes] | None = None,
) -> None:
    """Write every result file of a session into ``out``.

    ``results.csv``, ``results.xlsx``, ``review.csv``, ``flagged.csv``,
    ``items.csv``, ``objections.csv`` and ``report.html``, and ``letters.csv``
    when the exam asks for its letter grids (names); each appears whole or
    not at all.
    """
    analyses = [
        analyse_course(rows, c, exam, form.answer_blocks[c.block].options) for c in exam.courses
    ]
    windows = objection_windows(
        exam.date,
        exam.announcement_date,
        closures=exam.closure_labels(),
        half_days_off=exam.half_days_off,
    )
    summary = summary_frame(analyses, rows)
    write_csv(out / "results.csv", RESULT_COLUMNS, (result_row(r) for r in rows))
    write_csv(out / "review.csv", REVIEW_COLUMNS, review_rows(reads, rows, exam))
    write_csv(out / "flagged.csv", FLAGGED_COLUMNS, flagged_rows(rows))
    write_csv(out / "objections.csv", OBJECTION_COLUMNS, objection_rows(exam, windows))
    letters = out / LETTERS_FILE
    if exam.export_letters and form.letter_grids:
        columns = ["sheet", "student_id", *form.letter_grids]
        write_csv(letters, columns, letters_rows(reads, form))
    else:
        letters.unlink(missing_ok=True)  # names only where the exam asks for them (KVKK)
    items = items_frame(analyses)
    items = items.map(csv_cell)
    _atomic(out / "items.csv", lambda tmp: items.to_csv(tmp, index=False, float_format="%.4f"))
    write_xlsx(out / "results.xlsx", rows, summary, exam)
    write_evidence(out, evidence or {}, rows)
    page = render_report(report_data(exam, analyses, windows, rows, len(reads)))
    _atomic(out / "report.html", lambda tmp: tmp.write_text(page, encoding="utf-8"))
