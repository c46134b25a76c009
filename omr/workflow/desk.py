"""The acts a person does on a session's results, as the CLI and the review desk call them.

Each act validates everything first (a bad argument raises
:class:`omr.errors.BadArgument` and changes nothing), then appends its
records and its audit line in one transaction, then rescores the session and
rewrites every export from the store.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from omr.errors import BadArgument, InputFileError
from omr.export import review_rows
from omr.records import SheetRead
from omr.score.scoring import CourseResult
from omr.store import STORE_NAME, Store
from omr.workflow.audit import check_person, now, record
from omr.workflow.decisions import (
    SHEET,
    Target,
    check_target_on_read,
    parse_target,
    parse_value,
    read_value,
    shown,
)


@dataclass
class State:
    """A session's results as they stand: decided reads, the exam in force, result rows."""

    out: Path
    session: object  # omr.pipeline.Session
    reads: list[SheetRead]
    exam: object  # omr.exam.Exam with the key in force
    rows: list[CourseResult]
    by_sheet: dict[str, SheetRead] = field(default_factory=dict)

    def read(self, sheet_id: str) -> SheetRead:
        """The (decided) read of ``sheet_id``; :class:`BadArgument` when there is none."""
        found = self.by_sheet.get(sheet_id)
        if found is None:
            example = next(iter(self.by_sheet), "stack.pdf:1")
            raise BadArgument(
                f"no sheet {sheet_id!r} in {self.out} (sheets are named like {example})"
            )
        return found

    def sheet_rows(self, sheet_id: str) -> list[CourseResult]:
        """The result rows of one sheet."""
        return [r for r in self.rows if r.sheet == sheet_id]


def store_path(out: Path) -> Path:
    """``OUT/session.sqlite``; :class:`InputFileError` when OUT holds no session."""
    path = Path(out) / STORE_NAME
    if not path.is_file():
        raise InputFileError(f"{out}: no {STORE_NAME} (run 'omr run' first)")
    return path


def load_state(out: Path, session_root: Path | None = None) -> State:
    """Everything as it stands in ``out`` (nothing is written but v1 of the key, once)."""
    from omr.pipeline import open_session, score_stored, session_root_for

    path = store_path(out)
    session = open_session(session_root_for(Path(out), session_root))
    with Store(path) as store:
        reads, exam, rows = score_stored(store, store.reads(measures=False), session)
    return State(Path(out), session, reads, exam, rows, {r.sheet_id: r for r in reads})


def rescore(out: Path, session_root: Path | None = None):
    """Rewrite every export of ``out`` from the store; return the run summary."""
    from omr.pipeline import rebuild_reports

    return rebuild_reports(Path(out), session_root)


# --- review -----------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    """One line of the review queue: a sheet (and course), why, and what to decide."""

    sheet: str
    course: str
    status: str
    detail: str
    decide: str  # the FIELDs of ``omr review set`` that clear it


def review_queue(out: Path, session_root: Path | None = None) -> list[QueueItem]:
    """The sheets a person must look at, as they stand after the decisions made."""
    state = load_state(out, session_root)
    items = []
    for row in review_rows(state.reads, state.rows, state.exam):
        items.append(
            QueueItem(row["sheet"], row["course"], row["status"], row["detail"], _hint(state, row))
        )
    return items


def _hint(state: State, row: dict) -> str:
    """Which fields to decide to clear a review row."""
    status = row["status"].split(":", 1)[1]
    read = state.by_sheet[row["sheet"]]
    if not read.ok:
        return "sheet void (or scan the page again)"
    if row["course"]:
        course = next(c for c in state.exam.courses if c.code == row["course"])
        if status.startswith("open-ended"):
            return ", ".join(o.field for o in course.open_ended)
        items = read.fields[course.block].items[: course.questions]
        doubt = [f"{course.code}:{n}" for n, i in enumerate(items, 1) if i.state == "unsure"]
        return ", ".join(doubt)
    return {
        "group-unclear": "group",
        "group-not-in-exam": "group",
        "proctor-box-unclear": "absent, cancelled",
        "identity-unreadable": "student_id",
        "national-id-invalid": "national_id",
        "not-on-roster": "student_id (or sheet score)",
        "identity-mismatch": "student_id, national_id (or sheet score)",
        "duplicate-id": "student_id (or sheet score|void)",
    }.get(status, "sheet score|void")


@dataclass(frozen=True)
class Decided:
    """What one review decision did."""

    sheet: str
    target: str
    before: str
    after: str
    statuses: tuple[str, ...]  # the sheet's row statuses after rescoring

    @property
    def in_doubt(self) -> bool:
        """Whether the sheet is still held for a person."""
        return any(s.startswith("review:") for s in self.statuses)


@dataclass(frozen=True)
class _Planned:
    sheet: str
    target: Target
    value: str
    before: str
    by: str
    why: str


def _plan(state: State, sheet: str, field_name: str, value: str, by: str, why: str) -> _Planned:
    by, why = check_person(by, why)
    read = state.read(sheet)
    target = parse_target(field_name, state.exam, state.session.form)
    check_target_on_read(read, target)
    stored = parse_value(target, value, state.session.form)
    return _Planned(sheet, target, stored, read_value(read, target), by, why)


def _write(store: Store, plans: list[_Planned], command: str) -> None:
    with store.atomic():
        for p in plans:
            store.append(
                "decisions",
                sheet_id=p.sheet,
                field=p.target.field,
                item=p.target.item,
                value=p.value,
                by=p.by,
                why=p.why,
                at=now(),
            )
            record(
                store,
                by=p.by,
                command=command,
                target=f"{p.sheet} {p.target.label}",
                before=shown(p.target, p.before) if p.target.field != SHEET else "as read",
                after=shown(p.target, p.value),
                why=p.why,
            )


def _outcomes(out: Path, plans: list[_Planned], session_root: Path | None) -> list[Decided]:
    rescore(out, session_root)
    state = load_state(out, session_root)
    return [
        Decided(
            p.sheet,
            p.target.label,
            shown(p.target, p.before),
            shown(p.target, p.value),
            tuple(r.status for r in state.sheet_rows(p.sheet)),
        )
        for p in plans
    ]


def set_review(
    out: Path,
    sheet: str,
    field_name: str,
    value: str,
    *,
    by: str,
    why: str,
    session_root: Path | None = None,
) -> Decided:
    """Decide one field of one sheet, record it with the audit line, and rescore."""
    state = load_state(out, session_root)
    plan = _plan(state, sheet, field_name, value, by, why)
    with Store(store_path(out)) as store:
        _write(store, [plan], "omr review set")
    return _outcomes(out, [plan], session_root)[0]


DECISION_COLUMNS = ["sheet", "course", "status", "detail", "decision", "by", "why"]


def apply_review_file(
    out: Path,
    path: Path,
    *,
    by: str | None = None,
    why: str | None = None,
    session_root: Path | None = None,
) -> list[Decided]:
    """Apply a decision CSV (``review.csv``'s columns plus ``decision``, ``by``, ``why``).

    ``decision`` holds ``FIELD=VALUE`` pairs separated by ``;`` (``q12=B``,
    with the row's course, or ``TUR101:12=B``, ``group=C``, ``sheet=score``);
    a row with an empty decision is skipped. ``by``/``why`` fill empty cells.
    Every row is checked first: one bad row changes nothing.
    """
    state = load_state(out, session_root)
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in ("sheet", "decision") if c not in (reader.fieldnames or [])]
            rows = list(reader)
    except OSError as exc:
        raise BadArgument(f"{path}: cannot read the decision file: {exc.strerror or exc}") from exc
    if missing:
        raise BadArgument(
            f"{path}: no column {', '.join(missing)} (columns: {','.join(DECISION_COLUMNS)})"
        )
    plans, problems = [], []
    for line, row in enumerate(rows, start=2):
        decision = (row.get("decision") or "").strip()
        if not decision:
            continue
        for part in filter(None, (p.strip() for p in decision.split(";"))):
            name, eq, value = part.partition("=")
            if not eq:
                problems.append(f"line {line}: {part!r} is not FIELD=VALUE")
                continue
            name = name.strip()
            course = (row.get("course") or "").strip()
            if course and (name.isdigit() or name.lower().lstrip("q").isdigit()):
                name = f"{course}:{name.lower().lstrip('q')}"
            try:
                plans.append(
                    _plan(
                        state,
                        (row.get("sheet") or "").strip(),
                        name,
                        value,
                        (row.get("by") or "").strip() or (by or ""),
                        (row.get("why") or "").strip() or (why or ""),
                    )
                )
            except BadArgument as exc:
                problems.append(f"line {line}: {exc}")
    if problems:
        raise BadArgument(
            f"{path}: nothing applied ({len(problems)} problem(s))\n  " + "\n  ".join(problems)
        )
    if not plans:
        raise BadArgument(f"{path}: no row has a decision")
    with Store(store_path(out)) as store:
        _write(store, plans, f"omr review apply {Path(path).name}")
    return _outcomes(out, plans, session_root)


def picture_name(sheet_id: str) -> str:
    """A file name for a sheet's pictures: ``stack-01.pdf:3`` -> ``stack-01.pdf-p3``."""
    return sheet_id.replace("/", "_").replace(":", "-p")


def review_picture(
    out: Path, sheet: str, dest: Path | None = None, *, session_root: Path | None = None
) -> list[Path]:
    """Write the sheet's annotated PNG (and a crop of its items in doubt) under ``dest``.

    ``dest`` defaults to ``OUT/review``. Returns the files written.
    """
    from omr.export import _atomic
    from omr.pipeline import sheet_picture

    state = load_state(out, session_root)
    read = state.read(sheet)
    caption = [f"{sheet} ({read.source} page {read.page})"]
    queue = [q for q in review_rows(state.reads, state.rows, state.exam) if q["sheet"] == sheet]
    for q in queue:
        caption.append(f"{q['course'] or 'sheet'}: {q['status']}  {q['detail']}")
    if not queue:
        statuses = sorted({r.status for r in state.sheet_rows(sheet)})
        caption.append("nothing in doubt: " + ", ".join(statuses))
    labels = {c.block: c.code for c in state.exam.courses}
    picture = sheet_picture(state.session, read, caption, labels=labels)
    folder = Path(dest) if dest is not None else Path(out) / "review"
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / f"{picture_name(sheet)}.png"]
    _atomic(written[0], lambda tmp: tmp.write_bytes(picture.png))
    if picture.doubt_png is not None:
        written.append(folder / f"{picture_name(sheet)}.doubt.png")
        _atomic(written[1], lambda tmp: tmp.write_bytes(picture.doubt_png))
    return written
