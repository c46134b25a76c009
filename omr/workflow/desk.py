"""The acts a person does on a session's results, as the CLI and the review desk call them.

Each act validates everything first (a bad argument raises
:class:`omr.errors.BadArgument` and changes nothing), then appends its
records and its audit line in one transaction, then rescores the session and
rewrites every export from the store.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from omr.errors import BadArgument, InputFileError
from omr.export import review_rows
from omr.records import SheetRead
from omr.safe_text import from_csv_cell, picture_name
from omr.score.scoring import CourseResult
from omr.session_lock import holds_session
from omr.sheets_seen import SheetsSeen
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
    """A session's results as they stand: what is kept of the decided reads, the exam in
    force, the result rows. A read itself is fetched from the store when asked for."""

    out: Path
    session: object  # omr.pipeline.Session
    reads: SheetsSeen  # ``reads.lookup``: sheet id -> its decided read, from the store
    exam: object  # omr.exam.Exam with the key in force
    rows: list[CourseResult]

    def read(self, sheet_id: str) -> SheetRead:
        """The (decided) read of ``sheet_id``; :class:`BadArgument` when there is none."""
        if sheet_id not in self.reads.lookup:
            example = self.reads.ids[0] if self.reads.ids else "stack.pdf:1"
            raise BadArgument(
                f"no sheet {sheet_id!r} in {self.out} (sheets are named like {example})"
            )
        return self.reads.lookup[sheet_id]

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
    """Everything as it stands in ``out`` (nothing is written but v1 of the key, once).

    The reads stream past from the store; a few bytes of each are kept (flat memory).
    """
    from omr.pipeline import score_from_store

    session = session_of(out, session_root)
    path = store_path(out)
    with Store(path) as store:
        reads, exam, rows = score_from_store(store, session)
    reads.lookup.reopening(path)
    return State(Path(out), session, reads, exam, rows)


def session_of(out: Path, session_root: Path | None = None):
    """The session (:class:`omr.pipeline.Session`) whose results ``out`` holds; no read is
    loaded. :class:`InputFileError` when OUT holds no session."""
    from omr.pipeline import open_session, session_root_for

    store_path(out)
    return open_session(session_root_for(Path(out), session_root))


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
    fields: tuple[str, ...] = ()  # the same FIELDs, one per entry (``sheet`` last when offered)


def review_queue(out: Path, session_root: Path | None = None) -> list[QueueItem]:
    """The sheets a person must look at, as they stand after the decisions made."""
    return queue_of(load_state(out, session_root))


def queue_of(state: State) -> list[QueueItem]:
    """The review queue of a loaded state (see :func:`review_queue`)."""
    items = []
    for row in review_rows(state.reads.lookup, state.rows, state.exam):
        hint, fields = _hint(state, row)
        items.append(
            QueueItem(row["sheet"], row["course"], row["status"], row["detail"], hint, fields)
        )
    return items


_FIELD_HINTS = {
    "group-unclear": ("group", ("group",)),
    "group-not-in-exam": ("group", ("group",)),
    "proctor-box-unclear": ("absent, cancelled", ("absent", "cancelled")),
    "identity-unreadable": ("student_id", ("student_id",)),
    "national-id-invalid": ("national_id", ("national_id",)),
    "not-on-roster": ("student_id (or sheet score)", ("student_id", SHEET)),
    "identity-mismatch": (
        "student_id, national_id (or sheet score)",
        ("student_id", "national_id", SHEET),
    ),
    "duplicate-id": ("student_id (or sheet score|void)", ("student_id", SHEET)),
}


def _hint(state: State, row: dict) -> tuple[str, tuple[str, ...]]:
    """Which fields to decide to clear a review row: as the CLI prints them, and one by one."""
    status = row["status"].split(":", 1)[1]
    read = state.reads.lookup[row["sheet"]]
    if not read.ok:
        return "sheet void (or scan the page again)", (SHEET,)
    if row["course"]:
        course = next(c for c in state.exam.courses if c.code == row["course"])
        if status.startswith("open-ended"):
            fields = tuple(o.field for o in course.open_ended)
            return ", ".join(fields), fields
        items = read.fields[course.block].items[: course.questions]
        doubt = tuple(f"{course.code}:{n}" for n, i in enumerate(items, 1) if i.state == "unsure")
        return ", ".join(doubt), doubt
    return _FIELD_HINTS.get(status, ("sheet score|void", (SHEET,)))


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
    return set_reviews(
        out, sheet, [(field_name, value)], by=by, why=why, session_root=session_root
    )[0]


@holds_session
def set_reviews(
    out: Path,
    sheet: str,
    values: list[tuple[str, str]],
    *,
    by: str,
    why: str,
    session_root: Path | None = None,
    command: str = "omr review set",
) -> list[Decided]:
    """Decide several ``(FIELD, VALUE)`` of one sheet at once: all are checked, then recorded.

    One bad value raises :class:`BadArgument` and records nothing.
    """
    if not values:
        raise BadArgument(f"{sheet}: nothing to decide")
    state = load_state(out, session_root)
    plans = [_plan(state, sheet, name, value, by, why) for name, value in values]
    with Store(store_path(out)) as store:
        _write(store, plans, command)
    return _outcomes(out, plans, session_root)


DECISION_COLUMNS = ["sheet", "course", "status", "detail", "decision", "by", "why"]


def _from_our_csv(row: dict) -> dict:
    """A row of a CSV we wrote, its sheet and course cells as they were before export."""
    for key in ("sheet", "course"):
        if isinstance(row.get(key), str):
            row[key] = from_csv_cell(row[key])
    return row


@holds_session
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
            rows = [_from_our_csv(row) for row in reader]
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


def review_picture(
    out: Path, sheet: str, dest: Path | None = None, *, session_root: Path | None = None
) -> list[Path]:
    """Write the sheet's annotated PNG (and a crop of its items in doubt) under ``dest``.

    ``dest`` defaults to ``OUT/review``. Returns the files written.
    """
    from omr.atomic import write_atomic
    from omr.pipeline import sheet_picture

    state = load_state(out, session_root)
    read = state.read(sheet)
    caption = [f"{sheet} ({read.source} page {read.page})"]
    queue = review_rows(state.reads.lookup, [r for r in state.rows if r.sheet == sheet], state.exam)
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
    write_atomic(written[0], lambda tmp: tmp.write_bytes(picture.png))
    if picture.doubt_png is not None:
        written.append(folder / f"{picture_name(sheet)}.doubt.png")
        write_atomic(written[1], lambda tmp: tmp.write_bytes(picture.doubt_png))
    return written


# --- keys -------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreChange:
    """One candidate's course result that differs between two key versions."""

    student_id: str
    sheet: str
    course: str
    old: str
    new: str
    why: str


def result_text(row: CourseResult | None) -> str:
    """A row's score (four decimals), or its status when it has none."""
    if row is None:
        return "-"
    return f"{row.score.score:.4f}" if row.score is not None else row.status


def _scores(out: Path, session, *keysets) -> list[dict[tuple[str, str], CourseResult]]:
    """Every (sheet, course) result under each key set, the stored reads (with the review
    decisions) streamed once for all of them."""
    from omr.pipeline import score_under

    with Store(store_path(out)) as store:
        _, scored = score_under(store, session, list(keysets))
    return [{(r.sheet, r.course): r for r in rows} for _, rows in scored]


def key_history(out: Path, session_root: Path | None = None):
    """Every key version, oldest first (v1 is recorded from exam.yaml if there is none)."""
    from omr.workflow.keys import keys_in_force, versions

    session = session_of(out, session_root)
    with Store(store_path(out)) as store:
        keys_in_force(store, session.exam)  # records v1 on a session scored before key versions
        return versions(store)


def key_diff(
    out: Path,
    from_version: int | None = None,
    to_version: int | None = None,
    *,
    session_root: Path | None = None,
) -> tuple[int, int, list[ScoreChange]]:
    """Every candidate whose course result differs from version ``from`` to ``to``.

    Defaults: the version before the latest, and the latest. Both are scored
    over the same reads with the same review decisions, so only the key moves.
    """
    from omr.workflow.keys import changed_courses

    session = session_of(out, session_root)
    history = key_history(out, session_root)
    numbers = [v.version for v in history]
    to_version = numbers[-1] if to_version is None else to_version
    if from_version is None:
        from_version = max(to_version - 1, numbers[0])
    for v in (from_version, to_version):
        if v not in numbers:
            raise BadArgument(f"no key version {v} (versions: {', '.join(map(str, numbers))})")
    by_number = {v.version: v for v in history}
    old, new = _scores(out, session, by_number[from_version].keys, by_number[to_version].keys)
    low, high = sorted((from_version, to_version))
    reasons: dict[str, list[str]] = {}
    for v in range(low + 1, high + 1):
        for course in changed_courses(by_number[v - 1].keys, by_number[v].keys):
            reasons.setdefault(course, []).append(f"v{v} {by_number[v].by}: {by_number[v].why}")
    return from_version, to_version, _changes(old, new, reasons)


def _changes(old: dict, new: dict, reasons: dict[str, list[str]]) -> list[ScoreChange]:
    """The (sheet, course) results that differ between two scorings, with the reasons."""
    changes = []
    for key in sorted(set(old) | set(new)):
        a, b = result_text(old.get(key)), result_text(new.get(key))
        if a != b:
            row = new.get(key) or old[key]
            changes.append(
                ScoreChange(
                    row.student_id, key[0], key[1], a, b, "; ".join(reasons.get(key[1], []))
                )
            )
    return changes


@dataclass(frozen=True)
class KeyOutcome:
    """What a key change did: the new version and whose results it changed."""

    version: int
    target: str
    before: str
    after: str
    changes: list[ScoreChange]


@holds_session
def change_key(
    out: Path,
    action: str,
    course: str,
    item: int,
    option: str | None = None,
    group: str | None = None,
    *,
    by: str,
    why: str,
    session_root: Path | None = None,
    command: str | None = None,
) -> KeyOutcome:
    """``cancel``, ``accept`` or ``set`` one item of a course's key: a new key version.

    Everyone is rescored at once; the outcome lists whose result changed.
    """
    by, why = check_person(by, why)
    session = session_of(out, session_root)
    with Store(store_path(out)) as store:
        version, change = _key_change(
            store, session, action, course, item, option, group, by, why, command
        )
    rescore(out, session_root)
    _, _, changes = key_diff(out, version - 1, version, session_root=session_root)
    return KeyOutcome(version, change.target, change.before, change.after, changes)


def preview_key_change(
    out: Path,
    action: str,
    course: str,
    item: int,
    option: str | None = None,
    group: str | None = None,
    *,
    session_root: Path | None = None,
) -> KeyOutcome:
    """Whose result ``change_key`` with the same arguments would move; nothing is recorded.

    The outcome's ``version`` is the one the change would make (the version in
    force + 1). Both key sets are scored over the same reads and review
    decisions, as in :func:`key_diff`. A bad argument raises :class:`BadArgument`.
    """
    from omr.workflow import keys as k

    session = session_of(out, session_root)
    with Store(store_path(out)) as store:
        latest = k.keys_in_force(store, session.exam)
    change = _planned_key(latest.keys, session, action, course, item, option, group)
    old, new = _scores(out, session, latest.keys, change.keys)
    reasons = {change.course: [f"{change.target}: {change.before} -> {change.after}"]}
    return KeyOutcome(
        latest.version + 1, change.target, change.before, change.after, _changes(old, new, reasons)
    )


def _planned_key(keys, session, action, course, item, option, group):
    """The :class:`omr.workflow.keys.KeyChange` one action makes from ``keys``."""
    from omr.workflow import keys as k

    exam, form = session.exam, session.form
    if action == "cancel":
        return k.cancel_item(keys, exam, course, item)
    if action == "accept":
        return k.accept_option(keys, exam, form, course, item, option or "")
    if action == "set":
        return k.set_answer(keys, exam, form, course, group, item, option or "")
    raise ValueError(f"unknown key action {action!r}")


def _key_change(store, session, action, course, item, option, group, by, why, command):
    """Record one key change with its audit line (inside the caller's transaction if any)."""
    from omr.workflow import keys as k

    latest = k.keys_in_force(store, session.exam)
    change = _planned_key(latest.keys, session, action, course, item, option, group)
    command = command or f"omr key {action}"
    with store.atomic():
        version = k.add_version(store, change.keys, by=by, command=command, why=why)
        record(
            store,
            by=by,
            command=command,
            target=f"key {change.target}",
            before=f"v{latest.version}: {change.before}",
            after=f"v{version}: {change.after}",
            why=why,
        )
    return version, change


# --- find a candidate ---------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """Everything read and scored for one student: per sheet, its source and rows."""

    student: str
    sheets: list[tuple[SheetRead, list[CourseResult]]]
    pictures: list[Path]


def candidate_reads(state: State, student: str) -> list[SheetRead]:
    """The (decided) reads whose student number is ``student``."""
    student = (student or "").strip()
    return [state.reads.lookup[s] for s in state.reads.of_student(student)]


def show_candidate(
    out: Path,
    student: str,
    dest: Path | None = None,
    *,
    session_root: Path | None = None,
    pictures: bool = True,
) -> Candidate:
    """Find ``student``'s sheet(s) by student number and write each annotated sheet image.

    ``pictures=False`` finds them and writes nothing (``Candidate.pictures`` is empty).
    """
    from omr.atomic import write_atomic
    from omr.pipeline import sheet_picture

    state = load_state(out, session_root)
    student = (student or "").strip()
    mine = candidate_reads(state, student)
    if not mine:
        raise BadArgument(f"no sheet was read for student {student!r}")
    if not pictures:
        return Candidate(student, [(r, state.sheet_rows(r.sheet_id)) for r in mine], [])
    folder = Path(dest) if dest is not None else Path(out) / "show"
    folder.mkdir(parents=True, exist_ok=True)
    labels = {c.block: c.code for c in state.exam.courses}
    sheets, pictures = [], []
    for read in mine:
        rows = state.sheet_rows(read.sheet_id)
        caption = [f"student {student}: {read.sheet_id} ({read.source} page {read.page})"]
        caption += [f"{r.course}: {r.status} {result_text(r)}" for r in rows]
        picture = sheet_picture(state.session, read, caption, labels=labels)
        path = folder / f"{picture_name(read.sheet_id)}.png"
        write_atomic(path, lambda tmp, png=picture.png: tmp.write_bytes(png))
        sheets.append((read, rows))
        pictures.append(path)
    return Candidate(student, sheets, pictures)
