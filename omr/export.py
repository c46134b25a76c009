"""Write a session's result files; each appears only when complete (temp file, then rename)."""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pandas as pd

from omr.atomic import Staged, write_atomic
from omr.errors import OutputError
from omr.exam import Course, Exam
from omr.excel import Column, Rows, Table, write_workbook
from omr.forms import Form, Identity
from omr.i18n import N_, _, activate, default_lang
from omr.i18n.labels import flags_text, reason_text, status_label
from omr.records import ItemRead, ItemState, SheetRead
from omr.report_html import CourseReport, ReportData, render_report
from omr.safe_text import csv_cell, csv_row, picture_name, sheet_titles
from omr.score.analysis import CourseAnalysis, analyse_course
from omr.score.calendar import ObjectionWindow, objection_windows
from omr.score.identity import Candidate, Roster
from omr.score.items import BLANK, MULTIPLE, items_table
from omr.score.scoring import SCORED, CourseResult, mask_national_id, session_notes
from omr.sheets_seen import SheetsSeen, identity, letters_row
from omr.sheets_seen import letters_text as letters_text  # re-exported

RESULT_COLUMNS = [
    "sheet",
    "student_id",
    "national_id",
    "group",
    "course",
    "status",
    "reason",
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
#: The files of a session that may be posted or handed on (masked IDs, no names).
POSTED_FILES = (
    "results.csv",
    "results.xlsx",
    "review.csv",
    "flagged.csv",
    "items.csv",
    "objections.csv",
    "report.html",
)
REVIEW_COLUMNS = ["sheet", "course", "status", "reason", "detail"]
NO_SHEET = "no-sheet"  # a roster candidate whom no sheet names
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


def csv_writer(columns: list[str], rows: Iterable[dict]) -> Callable[[Path], None]:
    """A function writing ``rows`` as CSV to the path it is given (UTF-8, header first; no
    cell a formula), for :func:`omr.atomic.write_atomic` or :class:`omr.atomic.Staged`."""

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(csv_row(r) for r in rows)

    return write


def write_csv(path: Path, columns: list[str], rows: Iterable[dict], *, mode=None) -> None:
    """Write ``rows`` to ``path`` atomically (see :func:`csv_writer`); ``mode`` as in
    :func:`omr.atomic.write_atomic`."""
    write_atomic(path, csv_writer(columns, rows), mode=mode)


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
        "reason": reason_text(row.status),
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


def review_rows(
    reads: Iterable[SheetRead] | Mapping[str, SheetRead], rows: list[CourseResult], exam: Exam
) -> list[dict]:
    """One line per sheet (or sheet and course) a person must look at, with what to look at.

    ``reads``: the reads, or sheet id -> read (only the sheets in review are asked for).
    """
    reads_by_id = reads if isinstance(reads, Mapping) else {r.sheet_id: r for r in reads}
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
                _("{field}: read {text} of at most {points}").format(
                    field=oe.field, text=read.fields[oe.field].text(), points=f"{oe.points:g}"
                )
                for oe in course.open_ended
            )
        elif course_level:
            detail = "; ".join(
                _("q{n} ({reason}): marked {marked}, unsure {unsure}").format(
                    n=n, reason=i.reason, marked=i.value or _("none"), unsure=i.unsure
                )
                for n, i in unsure
            )
        else:
            detail = "; ".join(p for p in (row.note, _sheet_detail(read)) if p)
        out.append(
            {
                "sheet": row.sheet,
                "course": key[1],
                "status": row.status,
                "reason": reason_text(row.status),
                "detail": detail,
            }
        )
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


#: A field's state as a person reads it (the review detail).
ITEM_STATES = {"unsure": N_("unsure"), "multiple": N_("several marked"), "one": N_("marked")}


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
                parts.append(f"{name}: {_(ITEM_STATES.get(state, state))}")
        elif bad:
            parts.append(
                _("{name}: position(s) {positions} not one clear mark").format(
                    name=name, positions=", ".join(map(str, bad))
                )
            )
    return "; ".join(parts)


def letters_rows(reads: Iterable[SheetRead], form: Form) -> list[dict]:
    """``letters.csv``: per sheet read, its student number and each letter grid's text."""
    return [letters_row(read, form.letter_grids) for read in reads if read.ok]


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


def unnamed_candidates(reads: Iterable[SheetRead], roster: Roster | None) -> list[Candidate]:
    """Roster candidates whom no sheet names, in roster order.

    A sheet names a candidate when its student number or national ID (as read,
    or as a person decided) finds them on the roster. A candidate whose sheet is
    held with an unreadable identity is listed here too, until it is decided.
    """
    return candidates_not_named((identity(r) for r in reads if r.ok), roster)


def candidates_not_named(
    identities: Iterable[tuple[str, str]], roster: Roster | None
) -> list[Candidate]:
    """:func:`unnamed_candidates` from the (student number, national ID) each read sheet names."""
    if roster is None:
        return []
    named: set[int] = set()
    for number, national in identities:
        found = roster.find(number, national)
        if found is not None:
            named.add(id(found))
    everyone: dict[int, Candidate] = {}
    for c in [*roster.by_student.values(), *roster.by_national_id.values()]:
        everyone.setdefault(id(c), c)
    return [c for key, c in everyone.items() if key not in named]


def no_sheet_rows(
    identities: Iterable[tuple[str, str]], roster: Roster | None, exam: Exam
) -> list[CourseResult]:
    """Roster candidates whom no sheet names (:func:`candidates_not_named`, from the
    identities the sheets name): one ``no-sheet`` row per course each."""
    return [
        CourseResult(
            sheet="",
            student_id=c.student_number,
            national_id_masked=mask_national_id(c.national_id),
            group="",
            course=course.code,
            status=NO_SHEET,
            score=None,
            responses=(),
        )
        for c in candidates_not_named(identities, roster)
        for course in exam.courses
    ]


def _mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and population SD; nan for no values."""
    if not values:
        return math.nan, math.nan
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def summary_frame(analyses: list[CourseAnalysis], rows: list[CourseResult]) -> pd.DataFrame:
    """One row per course: sheets by status, the 0-100 score's mean and SD, test statistics.

    ``mean`` and ``sd`` are over the number correct (raw), ``mean_score`` and
    ``sd_score`` over the score on the exam's scale (population SD).
    """
    out = []
    for a in analyses:
        mine = [r.status for r in rows if r.course == a.course.code]
        t = a.test
        mean_score, sd_score = _mean_sd(list(a.scores))
        out.append(
            {
                "course": a.course.code,
                "name": a.course.name,
                "sheets": sum(s != NO_SHEET for s in mine),
                "scored": mine.count(SCORED),
                "void": sum(s.startswith("void:") for s in mine),
                "absent": mine.count("absent"),
                "review": sum(s.startswith("review:") for s in mine),
                "no_sheet": mine.count(NO_SHEET),
                "items": t.k,
                "mean_score": mean_score,
                "sd_score": sd_score,
                "mean": t.mean,
                "sd": t.sd,
                "kr20": t.kr20,
                "sem": t.sem,
            }
        )
    return pd.DataFrame(out)


SUMMARY_SHEET = [
    Column("course", N_("course"), "text"),
    Column("name", N_("name"), "text"),
    Column("sheets", N_("sheets"), "int"),
    Column("scored", N_("scored"), "int"),
    Column("void", N_("void"), "int"),
    Column("absent", N_("absent"), "int"),
    Column("review", N_("in review"), "int"),
    Column("no_sheet", N_("no sheet"), "int"),
    Column("items", N_("items counted"), "int"),
    Column("mean_score", N_("mean score"), "score"),
    Column("sd_score", N_("SD of the score"), "score"),
    Column("mean", N_("mean correct"), "stat"),
    Column("sd", N_("SD of correct"), "stat"),
    Column("kr20", N_("KR-20"), "stat"),
    Column("sem", N_("SEM (items)"), "stat"),
]
RESULT_SHEET = [
    Column("sheet", N_("sheet"), "text"),
    Column("student_id", N_("student number"), "text"),
    Column("national_id", N_("national ID (masked)"), "text"),
    Column("group", N_("booklet"), "text"),
    Column("status_label", N_("status"), "text"),
    Column("reason", N_("reason"), "text"),
    Column("correct", N_("correct"), "int"),
    Column("wrong", N_("wrong"), "int"),
    Column("blank", N_("blank"), "int"),
    Column("multiple", N_("several marked"), "int"),
    Column("questions", N_("questions"), "int"),
    Column("open_points", N_("open-ended points"), "stat"),
    Column("score", N_("score"), "score"),
    Column("score_rounded", N_("score (rounded)"), "int"),
    Column("answers", N_("answers read"), "text"),
    Column("flags_text", N_("flags"), "text"),
    Column("status", N_("status code"), "text"),
]
REVIEW_SHEET = [
    Column("sheet", N_("sheet"), "text"),
    Column("course", N_("course"), "text"),
    Column("reason", N_("reason"), "text"),
    Column("detail", N_("what to look at"), "text"),
    Column("status", N_("status code"), "text"),
]
FLAGGED_SHEET = [
    Column("sheet", N_("sheet"), "text"),
    Column("status_label", N_("status"), "text"),
    Column("flags_text", N_("flags"), "text"),
    Column("detail", N_("detail"), "text"),
    Column("flags", N_("flag codes"), "text"),
]
OBJECTION_SHEET = [
    Column("course", N_("course"), "text"),
    Column("kind_label", N_("objection"), "text"),
    Column("counted_from", N_("counted from"), "date"),
    Column("first_day", N_("first day counted"), "date"),
    Column("deadline", N_("deadline"), "date"),
    Column("business_days", N_("business days"), "int"),
    Column("skipped", N_("holidays and closures skipped"), "text"),
]
WINDOW_KINDS = {
    "question": N_("to the questions (exam + 3 business days)"),
    "result": N_("to the results (announcement + 7 business days)"),
}
ITEM_HEADERS = {
    "course": N_("course"),
    "group": N_("booklet"),
    "item": N_("item"),
    "n": N_("students"),
    "key": N_("key"),
    "cancelled": N_("cancelled"),
    "p": N_("difficulty p"),
    "p_upper": N_("p upper 27%"),
    "p_lower": N_("p lower 27%"),
    "discrimination": N_("discrimination D"),
    "point_biserial": N_("point-biserial"),
    "tail_size": N_("upper/lower group size"),
    "nonfunctional": N_("non-functional distractors"),
    "flags": N_("flags"),
    "suspect_groups": N_("suspect booklets"),
}
OPTION_LABELS = {BLANK: N_("blank"), MULTIPLE: N_("several marked")}
COUNT_GROUPS = {"upper": N_("upper 27%"), "lower": N_("lower 27%")}
ITEM_STATS = {"p", "p_upper", "p_lower", "discrimination", "point_biserial"}


def _item_columns(items: pd.DataFrame) -> list[Column]:
    """The Items sheet's columns: named ones translated, option counts as ``n_A``, ``upper_A``."""
    columns = []
    for key in items.columns:
        if key in ITEM_HEADERS:
            kind = "stat" if key in ITEM_STATS else "text"
            if key in {"item", "n", "tail_size"}:
                kind = "int"
            columns.append(Column(key, ITEM_HEADERS[key], kind))
        else:  # n_A, upper_A, lower_blank, ...: the option and the group it counts in
            prefix, _sep, option = key.partition("_")
            label = _(OPTION_LABELS[option]) if option in OPTION_LABELS else option
            header = label if prefix == "n" else f"{_(COUNT_GROUPS[prefix])}: {label}"
            columns.append(Column(key, header, "int"))
    return columns


def _shown_row(row: CourseResult) -> dict:
    """A results row for people: the status and flags in words beside the codes."""
    out = result_row(row)
    out["status_label"] = status_label(row.status)
    out["flags_text"] = flags_text(row.flags)
    return out


def workbook_tables(
    exam: Exam,
    rows: list[CourseResult],
    summary: pd.DataFrame,
    review: list[dict],
    flagged: list[dict],
    items: pd.DataFrame,
    objections: list[dict],
) -> list[Table]:
    """The sheets of ``results.xlsx``, in the active language (headers, statuses, reasons)."""
    tables = [Table(_("Summary"), SUMMARY_SHEET, summary.to_dict("records"))]
    own = [_(n) for n in ("Summary", "Review", "Flagged", "Items", "Objection windows")]
    titles = sheet_titles((c.code for c in exam.courses), reserved=own)
    for course in exam.courses:
        count = sum(r.course == course.code for r in rows)
        shown = Rows(
            lambda code=course.code: (_shown_row(r) for r in rows if r.course == code), count
        )
        tables.append(Table(titles[course.code], RESULT_SHEET, shown))
    tables.append(
        Table(
            _("Review"),
            REVIEW_SHEET,
            review,
        )
    )
    tables.append(
        Table(
            _("Flagged"),
            FLAGGED_SHEET,
            [
                {
                    **r,
                    "status_label": status_label(r["status"]),
                    "flags_text": flags_text(r["flags"].split(";")),
                }
                for r in flagged
            ],
        )
    )
    item_rows = items.to_dict("records") if not items.empty else []
    for r in item_rows:
        r["cancelled"] = _("yes") if r.get("cancelled") else ""
        r["group"] = _("all booklets") if r.get("group") == "all" else r.get("group")
        r["flags"] = flags_text([f for f in str(r.get("flags") or "").split(";") if f])
    tables.append(Table(_("Items"), _item_columns(items) if not items.empty else [], item_rows))
    tables.append(
        Table(
            _("Objection windows"),
            OBJECTION_SHEET,
            [{**r, "kind_label": _(WINDOW_KINDS[r["kind"]])} for r in objections],
        )
    )
    return tables


INTERNAL_SHEET = [
    Column("student_id", N_("student number"), "text"),
    Column("national_id", N_("national ID"), "text"),
    Column("name", N_("name (roster)"), "text"),
    Column("name_on_sheet", N_("name on the sheet"), "text"),
    Column("hall", N_("hall"), "text"),
    Column("seat", N_("seat"), "text"),
    Column("course", N_("course"), "text"),
    Column("group", N_("booklet"), "text"),
    Column("status_label", N_("status"), "text"),
    Column("reason", N_("reason"), "text"),
    Column("score", N_("score"), "score"),
    Column("score_rounded", N_("score (rounded)"), "int"),
    Column("sheet", N_("sheet"), "text"),
    Column("source", N_("file"), "text"),
    Column("page", N_("page"), "int"),
    Column("status", N_("status code"), "text"),
]


def write_internal_xlsx(path: Path, rows: list[dict], lang: str, *, mode=None) -> None:
    """The internal workbook (full identity: never posted): one row per candidate and course,
    with the roster's name, hall and seat, in ``lang``; ``mode`` as in
    :func:`omr.atomic.write_atomic`."""
    with activate(lang):
        shown = [
            {**r, "status_label": status_label(r["status"]), "reason": reason_text(r["status"])}
            for r in rows
        ]
        table = Table(_("Internal results"), INTERNAL_SHEET, shown)
        write_atomic(path, lambda tmp: write_workbook(tmp, [table], lang=lang), mode=mode)


def report_data(
    exam: Exam,
    analyses: list[CourseAnalysis],
    windows: list[ObjectionWindow],
    rows: list[CourseResult],
    candidates: int,
    lang: str = "en",
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
    return ReportData(
        exam.name, exam.date, generated, courses, candidates, session_notes(exam), lang=lang
    )


def write_evidence(
    out: Path,
    evidence: Mapping[str, bytes] | Iterable[tuple[str, bytes]],
    rows: list[CourseResult],
    staged: Staged,
) -> None:
    """``evidence/<sheet>.png`` for every sheet whose flagged marks have a picture
    (``evidence``: sheet id -> PNG, or such pairs as the store yields them)."""
    flagged = {r.sheet for r in rows if r.status.endswith(":non-pencil")}
    folder = out / "evidence"
    for sheet, png in evidence.items() if isinstance(evidence, Mapping) else evidence:
        if sheet not in flagged:
            continue
        folder.mkdir(exist_ok=True)
        name = picture_name(sheet) + ".png"
        staged.write(folder / name, lambda tmp, png=png: tmp.write_bytes(png))


def exam_lang(exam: Exam, lang: str | None = None) -> str:
    """The language of a session's files: ``lang`` if given, else ``exam.yaml``'s ``lang:``,
    else Turkish for a Turkish exam definition (:func:`omr.i18n.default_lang`)."""
    return lang or exam.lang or default_lang(exam.name, [c.name for c in exam.courses])


def write_exports(
    out: Path,
    exam: Exam,
    form: Form,
    reads: list[SheetRead] | SheetsSeen,
    rows: list[CourseResult],
    evidence: Mapping[str, bytes] | Iterable[tuple[str, bytes]] | None = None,
    *,
    roster: Roster | None = None,
    lang: str | None = None,
) -> None:
    """Write every result file of a session into ``out``, in ``lang`` (see :func:`exam_lang`).

    ``results.csv``, ``results.xlsx``, ``review.csv``, ``flagged.csv``,
    ``items.csv``, ``objections.csv`` and ``report.html``, and ``letters.csv``
    when the exam asks for its letter grids (names). All are written under
    temporary names first and renamed together at the end (:class:`Staged`):
    an error or a kill while writing leaves the previous set as it was.
    Roster candidates whom no sheet names are listed as ``no-sheet`` in
    ``results.csv`` and the workbook. ``reads`` may be what was kept of them
    as they streamed past (:class:`omr.sheets_seen.SheetsSeen`), ``evidence``
    pairs from the store: then no read is held in memory.
    """
    if not isinstance(reads, SheetsSeen):
        wanted = form.letter_grids if exam.export_letters else ()
        reads = SheetsSeen.of(reads, wanted)
    try:
        with activate(exam_lang(exam, lang)) as active:
            _write_exports(out, exam, form, reads, rows, evidence or {}, roster, active)
    except OSError as exc:  # a full disk, a quota, a file-size limit, a read-only folder
        raise OutputError(
            f"{out}: cannot write the results ({exc.strerror or exc}); the previous result "
            "files and the store are as they were. Free space (or make the folder writable) "
            f"and run 'omr report {out}'. / Sonuçlar yazılamadı (disk dolu mu?): önceki "
            "dosyalar ve oturum kaydı olduğu gibi duruyor."
        ) from exc


def _write_exports(out, exam, form, reads, rows, evidence, roster, lang) -> None:
    analyses = [
        analyse_course(rows, c, exam, form.answer_blocks[c.block].options) for c in exam.courses
    ]
    windows = objection_windows(
        exam.date,
        exam.announcement_date,
        closures=exam.closure_labels(),
        half_days_off=exam.half_days_off,
    )
    listed = rows + no_sheet_rows(reads.identities, roster, exam)
    summary = summary_frame(analyses, listed)
    review = review_rows(reads.lookup, rows, exam)
    flagged = flagged_rows(rows)
    objections = objection_rows(exam, windows)
    items = items_frame(analyses)
    items_csv = items.map(csv_cell)  # no cell a formula; the workbook keeps text as text
    tables = workbook_tables(exam, listed, summary, review, flagged, items, objections)
    page = render_report(report_data(exam, analyses, windows, rows, len(reads), lang))
    letters = out / LETTERS_FILE
    with Staged() as staged:
        staged.write(out / "results.csv", csv_writer(RESULT_COLUMNS, map(result_row, listed)))
        staged.write(out / "review.csv", csv_writer(REVIEW_COLUMNS, review))
        staged.write(out / "flagged.csv", csv_writer(FLAGGED_COLUMNS, flagged))
        staged.write(out / "objections.csv", csv_writer(OBJECTION_COLUMNS, objections))
        if exam.export_letters and form.letter_grids:
            columns = ["sheet", "student_id", *form.letter_grids]
            staged.write(letters, csv_writer(columns, reads.letters))
        staged.write(
            out / "items.csv",
            lambda tmp: items_csv.to_csv(tmp, index=False, float_format="%.4f"),
        )
        staged.write(out / "results.xlsx", lambda tmp: write_workbook(tmp, tables, lang=lang))
        write_evidence(out, evidence, rows, staged)
        staged.write(out / "report.html", lambda tmp: tmp.write_text(page, encoding="utf-8"))
    if not (exam.export_letters and form.letter_grids):
        letters.unlink(missing_ok=True)  # names only where the exam asks for them (KVKK)
