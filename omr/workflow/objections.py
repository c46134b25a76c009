"""Objections (RULES.md, the objections article): filed, checked against the window, decided.

A question objection may be filed within 3 business days following the exam,
a result objection within 7 from the announcement (Turkish business days,
:mod:`omr.score.calendar`). A late one is recorded and refused, with the
deadline it missed. Accepting a question objection changes the key (a new
key version: the item cancelled, a second answer accepted, or the key
corrected); accepting a result objection records review decisions on the
candidate's sheet. Each decided objection gets a one-page answer PDF.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from omr.errors import BadArgument
from omr.score.calendar import objection_windows
from omr.session_lock import holds_session
from omr.store import Store
from omr.workflow.audit import check_person, now, record
from omr.workflow.desk import (
    State,
    _plan,
    _write,
    candidate_reads,
    load_state,
    rescore,
    result_text,
    store_path,
)
from omr.workflow.keys import find_course

KINDS = ("question", "result")
ANSWERS_DIR = "objections"


@dataclass(frozen=True)
class Objection:
    """One objection as filed, with its window and (once decided) the decision."""

    id: int
    student: str
    course: str
    kind: str
    filed_on: str
    item: int | None
    text: str
    deadline: str
    on_time: bool
    sheet: str
    decision: dict | None = None

    @property
    def state(self) -> str:
        """``open``, ``refused-late``, ``accepted`` or ``rejected``."""
        if not self.on_time:
            return "refused-late"
        if self.decision is None:
            return "open"
        return "accepted" if self.decision["accepted"] else "rejected"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        raise BadArgument(f"--date {text!r}: give the date as YYYY-MM-DD") from None


def candidate_sheet(state: State, student: str) -> str:
    """The sheet read for ``student`` (student number); :class:`BadArgument` if none or several."""
    student = (student or "").strip()
    found = [r.sheet_id for r in candidate_reads(state, student)]
    if not found:
        raise BadArgument(f"no sheet was read for student {student!r} (see omr show OUT ID)")
    if len(found) > 1:
        raise BadArgument(
            f"student {student!r} is on {len(found)} sheets ({', '.join(found)}): "
            "clear the duplicate in review first"
        )
    return found[0]


def windows(state: State):
    """The exam's objection windows (:class:`omr.score.calendar.ObjectionWindow`)."""
    exam = state.session.exam
    return objection_windows(
        exam.date,
        exam.announcement_date,
        closures=exam.closure_labels(),
        half_days_off=exam.half_days_off,
    )


def window_deadline(state: State, kind: str) -> dt.date:
    """The last day of the ``kind`` window of this exam."""
    return next(w.deadline for w in windows(state) if w.kind == kind)


def objections(out: Path) -> list[Objection]:
    """Every objection, in the order filed, with its decision if any."""
    with Store(store_path(out)) as store:
        decided = {d["objection_id"]: d for d in store.records("objection_decisions")}
        return [
            Objection(
                r["id"],
                r["student"],
                r["course"],
                r["kind"],
                r["filed_on"],
                r["item"],
                r["text"],
                r["deadline"],
                bool(r["on_time"]),
                r["sheet_id"],
                decided.get(r["id"]),
            )
            for r in store.records("objections")
        ]


@holds_session
def add_objection(
    out: Path,
    *,
    student: str,
    course: str,
    kind: str,
    date: str,
    text: str,
    by: str,
    item: int | None = None,
    session_root: Path | None = None,
) -> Objection:
    """File an objection; a late one is recorded and refused (its state says so)."""
    by, text = check_person(by, text)
    state = load_state(out, session_root)
    exam = state.session.exam
    c = find_course(exam, course)
    if kind not in KINDS:
        raise BadArgument(f"--kind: give question or result, not {kind!r}")
    filed = _date(date)
    if filed < exam.date:
        raise BadArgument(f"--date {filed}: before the exam ({exam.date})")
    if kind == "result":
        if exam.announcement_date is None:
            raise BadArgument("the results are not announced (no announcement_date in exam.yaml)")
        if filed < exam.announcement_date:
            raise BadArgument(
                f"--date {filed}: before the results were announced ({exam.announcement_date})"
            )
    if item is not None and not 1 <= item <= c.questions:
        raise BadArgument(f"--item {item}: out of range, {c.code} has items 1-{c.questions}")
    if kind == "question" and item is None:
        raise BadArgument("a question objection names the item: --item N (master numbering)")
    sheet = candidate_sheet(state, student)
    deadline = window_deadline(state, kind)
    on_time = filed <= deadline
    with Store(store_path(out)) as store, store.atomic():
        n = store.append(
            "objections",
            at=now(),
            student=student.strip(),
            course=c.code,
            kind=kind,
            filed_on=filed.isoformat(),
            item=item,
            text=text,
            deadline=deadline.isoformat(),
            on_time=int(on_time),
            sheet_id=sheet,
        )
        what = f"{kind} objection, {c.code}" + (f" item {item}" if item else "")
        record(
            store,
            by=by,
            command="omr objection add",
            target=f"objection {n}",
            before="",
            after=f"{what}, filed {filed}: "
            + ("on time" if on_time else "refused, late")
            + f" (deadline {deadline})",
            why=text,
        )
    return next(o for o in objections(out) if o.id == n)


@holds_session
def decide_objection(
    out: Path,
    number: int,
    *,
    accept: bool,
    by: str,
    why: str,
    cancel: bool = False,
    also: str | None = None,
    key: str | None = None,
    sets: tuple[str, ...] = (),
    session_root: Path | None = None,
) -> tuple[Objection, Path]:
    """Decide objection ``number``; return it and its answer PDF.

    Accepting a question objection needs the change: ``cancel`` the item,
    ``also`` accept another option, or ``key`` correct it (every booklet
    group, master item). Accepting a result objection needs ``sets``:
    ``FIELD=VALUE`` review decisions on the candidate's sheet.
    """
    by, why = check_person(by, why)
    found = [o for o in objections(out) if o.id == number]
    if not found:
        raise BadArgument(f"no objection {number} (see omr objection list OUT)")
    obj = found[0]
    if not obj.on_time:
        raise BadArgument(
            f"objection {number} was refused as late (filed {obj.filed_on}, deadline "
            f"{obj.deadline}): nothing to decide"
        )
    if obj.decision is not None:
        raise BadArgument(f"objection {number} is already {obj.state}")
    changes = [x for x in (cancel, also, key) if x]
    if not accept and (changes or sets):
        raise BadArgument("a rejected objection changes nothing: drop --cancel/--also/--key/--set")
    if (
        accept
        and obj.kind == "question"
        and len(changes) != 1
        or (accept and obj.kind == "question" and sets)
    ):
        raise BadArgument(
            "an accepted question objection changes the key: give one of --cancel, "
            "--also OPTION or --key OPTION"
        )
    if accept and obj.kind == "result" and (changes or not sets):
        raise BadArgument(
            "an accepted result objection corrects the read: give --set FIELD=VALUE "
            "(as omr review set) for each correction"
        )
    state = load_state(out, session_root)
    before = _score(state, obj)
    command = f"omr objection decide {number}"
    reason = f"objection {number}: {why}"
    change = "none"
    with Store(store_path(out)) as store, store.atomic():
        after = before
        if accept and obj.kind == "question":
            from omr.workflow import keys as k
            from omr.workflow.desk import _key_change

            session = state.session
            course = k.find_course(session.exam, obj.course)
            if cancel:
                version, kc = _key_change(
                    store, session, "cancel", obj.course, obj.item, None, None, by, reason, command
                )
            elif also:
                version, kc = _key_change(
                    store, session, "accept", obj.course, obj.item, also, None, by, reason, command
                )
            else:
                version, kc = _correct_master(
                    store, state, course, obj.item, key, by, reason, command
                )
            change = f"key v{version}: {kc.target} {kc.before} -> {kc.after}"
            after = _score_with(state, obj, keys=kc.keys)
        elif accept:
            plans = []
            for s in sets:
                name, eq, value = s.partition("=")
                if not eq:
                    raise BadArgument(f"--set {s!r}: give FIELD=VALUE")
                plans.append(_plan(state, obj.sheet, name.strip(), value, by, reason))
            _write(store, plans, command)
            change = "; ".join(f"{p.target.label} -> {p.value or 'blank'}" for p in plans)
            after = _score_with(state, obj, plans=plans)
        store.append(
            "objection_decisions",
            objection_id=number,
            at=now(),
            by=by,
            why=why,
            accepted=int(accept),
            change=change,
            score_before=before,
            score_after=after,
        )
        record(
            store,
            by=by,
            command=command,
            target=f"objection {number}",
            before="open",
            after=("accepted: " + change) if accept else "rejected",
            why=why,
        )
    rescore(out, session_root)
    after_state = load_state(out, session_root)
    decided = next(o for o in objections(out) if o.id == number)
    pdf = write_answer(out, decided, after_state, before, after)
    return decided, pdf


def _correct_master(store, state, course, item, option, by, why, command):
    """Correct master ``item``'s key to ``option`` in every booklet group."""
    from omr.workflow import keys as k

    latest = k.keys_in_force(store, state.session.exam)
    option = k._check_option(course, state.session.form, option)
    new = k._copy(latest.keys)
    places = k.master_places(course, item)
    before = {g: new[course.code][g][p] for g, p in places.items()}
    if all(t == option for t in before.values()):
        raise BadArgument(f"{course.code} item {item}: the key is already {option}")
    for g, p in places.items():
        new[course.code][g][p] = option
    version = k.add_version(store, new, by=by, command=command, why=why)
    change = k.KeyChange(
        new, course.code, f"{course.code} item {item}", k._describe(before), option
    )
    record(
        store,
        by=by,
        command=command,
        target=f"key {change.target}",
        before=f"v{latest.version}: {change.before}",
        after=f"v{version}: {option}",
        why=why,
    )
    return version, change


def _score_with(state: State, obj: Objection, *, keys=None, plans=()) -> str:
    """The candidate's course result with a key set or review decisions not yet committed
    (everyone is scored again, the reads streamed from the store: a duplicate counts)."""
    from omr.pipeline import score_from_store
    from omr.workflow.decisions import Decision
    from omr.workflow.keys import keys_in_force

    pending = [
        Decision(p.sheet, p.target.field, p.target.item, p.value, p.by, p.why, "") for p in plans
    ]
    with Store(store_path(state.out)) as store:
        keys = keys if keys is not None else keys_in_force(store, state.session.exam).keys
        _, _, rows = score_from_store(store, state.session, keys=keys, pending=pending)
    mine = [r for r in rows if r.sheet == obj.sheet and r.course == obj.course]
    return result_text(mine[0] if mine else None)


def _score(state: State, obj: Objection) -> str:
    rows = [r for r in state.sheet_rows(obj.sheet) if r.course == obj.course]
    return result_text(rows[0] if rows else None)


def answer_path(out: Path, number: int) -> Path:
    """Where objection ``number``'s answer PDF is written."""
    return Path(out) / ANSWERS_DIR / f"objection-{number}.pdf"


def write_answer(out: Path, obj: Objection, state: State, before: str, after: str) -> Path:
    """Write the one-page answer PDF of a decided objection; return its path."""
    from omr.answer_pdf import AnswerPage, answer_pdf
    from omr.atomic import write_atomic
    from omr.pipeline import out_lang, sheet_picture

    exam = state.session.exam
    course = next(c for c in exam.courses if c.code == obj.course)
    read = state.read(obj.sheet)
    rows = [r for r in state.sheet_rows(obj.sheet) if r.course == obj.course]
    row = rows[0] if rows else None
    group = row.group if row is not None else ""
    coded = group.rstrip("?") if exam.groups else ""
    if coded in course.keys:
        key = course.key(coded)
        key_text = (f"group {group}, " if group else "") + "printed order: "
        key_text += " ".join(f"{n}:{'|'.join(sorted(a)) or '*'}" for n, a in enumerate(key, 1))
    else:  # a sheet with no (or no known) booklet group: no key applies
        key_text = "no booklet group read: no key applies"
    try:
        picture = sheet_picture(
            state.session,
            read,
            [f"{obj.sheet} ({read.source} page {read.page})"],
            labels={c.block: c.code for c in exam.courses},
        ).png
    except Exception as exc:  # noqa: BLE001 - the answer is still written, without the image
        picture = None
        note = f"(the sheet image could not be drawn: {exc})"
    else:
        note = ""
    d = obj.decision or {}
    page = AnswerPage(
        exam=f"{exam.name} ({exam.date})",
        number=obj.id,
        student=obj.student,
        course=f"{course.code} {course.name}".strip(),
        kind=obj.kind,
        item=obj.item,
        filed_on=obj.filed_on,
        deadline=obj.deadline,
        text=obj.text,
        sheet=f"{obj.sheet} ({read.source}, page {read.page})",
        group=group or "-",
        answers=row.answers if row is not None else "",
        key=key_text,
        before=before,
        after=after,
        decision="accepted" if d.get("accepted") else "rejected",
        change=d.get("change", ""),
        by=d.get("by", ""),
        why=d.get("why", ""),
        decided_at=d.get("at", ""),
        picture=picture,
        note=note,
    )
    path = answer_path(out, obj.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = answer_pdf(page, lang=out_lang(out, exam))
    write_atomic(path, lambda tmp: tmp.write_bytes(data))
    return path
