"""Key versions: every key change is a new version; v1 is what ``exam.yaml`` said first.

A key set is ``{course: {group: [token per printed question]}}`` with tokens
``"B"``, ``"B|C"`` (a second answer accepted) or ``"*"`` (cancelled). An exam
without booklet groups keys its courses under the group ``""``.

Cancelling an item or accepting a second answer names the **master** item: it
follows the item to its printed place in every booklet group (RULES.md). A
corrected key (``set``) names a group's printed question.

When ``exam.yaml`` is edited by hand and ``omr report`` runs, the change is
taken in as a new version (by ``exam.yaml``), merged over the versions made
with ``omr key``: only the questions the edit changed take the file's answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from omr.errors import BadArgument
from omr.exam import NO_GROUP, Course, Exam, parse_key
from omr.store import Store
from omr.workflow.audit import command_name, now, record

KeySet = dict[str, dict[str, list[str]]]
YAML_SEEN = "exam_keys"  # meta: the keys exam.yaml held when last taken in
BY_FILE = "exam.yaml"


@dataclass(frozen=True)
class KeyVersion:
    """One version of every course's key."""

    version: int
    at: str
    by: str
    command: str
    why: str
    keys: KeySet


def token(accepted: frozenset[str]) -> str:
    """``"*"`` for a cancelled question, else the options joined with ``|``."""
    return "|".join(sorted(accepted)) if accepted else "*"


def exam_keys(exam: Exam) -> KeySet:
    """The key set ``exam`` gives, normalised."""
    return {c.code: {g: [token(a) for a in c.key(g)] for g in sorted(c.keys)} for c in exam.courses}


def _dump(keys: KeySet) -> str:
    return json.dumps(keys, sort_keys=True, separators=(",", ":"))


def versions(store: Store) -> list[KeyVersion]:
    """Every key version, oldest first."""
    return [
        KeyVersion(r["version"], r["at"], r["by"], r["command"], r["why"], json.loads(r["keys"]))
        for r in store.records("key_versions")
    ]


def add_version(store: Store, keys: KeySet, *, by: str, command: str, why: str) -> int:
    """Record ``keys`` as the next version; return its number."""
    row = store.db.execute("SELECT MAX(version) FROM key_versions").fetchone()
    number = (row[0] or 0) + 1
    store.append(
        "key_versions",
        version=number,
        at=now(),
        by=by,
        command=command_name(command),
        why=why,
        keys=_dump(keys),
    )
    return number


def _merge(base: KeySet, old_file: KeySet, new_file: KeySet) -> KeySet:
    """``base`` with every question ``new_file`` changed from ``old_file`` taken from it."""
    out: KeySet = {}
    for code, groups in new_file.items():
        out[code] = {}
        for group, tokens in groups.items():
            mine = base.get(code, {}).get(group)
            before = old_file.get(code, {}).get(group)
            if mine is None or before is None or len(mine) != len(tokens):
                out[code][group] = list(tokens)
                continue
            out[code][group] = [
                new if new != old else kept
                for new, old, kept in zip(tokens, before, mine, strict=True)
            ]
    return out


def keys_in_force(store: Store, exam: Exam) -> KeyVersion:
    """The latest key version; v1 (from ``exam``) is recorded when there is none.

    A hand edit of ``exam.yaml`` since it was last taken in becomes a new version.
    """
    with store.atomic():
        found = versions(store)
        from_file = exam_keys(exam)
        seen = store.meta().get(YAML_SEEN)
        if not found:
            add_version(
                store,
                from_file,
                by=BY_FILE,
                command="omr run",
                why="the key in exam.yaml when the session was first scored",
            )
            store.set_meta(YAML_SEEN, _dump(from_file))
        elif seen is not None and seen != _dump(from_file):
            latest = found[-1]
            merged = _merge(latest.keys, json.loads(seen), from_file)
            if _dump(merged) != _dump(latest.keys):
                number = add_version(
                    store, merged, by=BY_FILE, command="omr report", why="exam.yaml edited"
                )
                record(
                    store,
                    by=BY_FILE,
                    command="omr report",
                    target="key",
                    before=f"v{latest.version}",
                    after=f"v{number}",
                    why="exam.yaml edited",
                )
            store.set_meta(YAML_SEEN, _dump(from_file))
        elif seen is None:
            store.set_meta(YAML_SEEN, _dump(from_file))
        return versions(store)[-1]


def with_keys(exam: Exam, keys: KeySet) -> Exam:
    """``exam`` with its courses keyed by ``keys`` (courses ``keys`` does not name keep theirs)."""
    courses: list[Course] = []
    for c in exam.courses:
        given = keys.get(c.code)
        if given is None or set(given) != set(c.keys):
            courses.append(c)
        else:
            courses.append(c.model_copy(update={"keys": {g: list(t) for g, t in given.items()}}))
    return exam.model_copy(update={"courses": courses})


def exam_in_force(store: Store, exam: Exam) -> Exam:
    """``exam`` scored with the key version in force (recording v1 on the first call)."""
    return with_keys(exam, keys_in_force(store, exam).keys)


def accepted(tok: str) -> frozenset[str]:
    """Options a token accepts (empty: cancelled)."""
    return parse_key([tok])[0]


# --- changes: each makes a new key set from the one in force ------------------


@dataclass(frozen=True)
class KeyChange:
    """A new key set, what it changed (for the audit log) and the course it touched."""

    keys: KeySet
    course: str
    target: str  # ``TUR101 item 5``
    before: str
    after: str


def find_course(exam: Exam, code: str) -> Course:
    """The course ``code`` (case-insensitive); :class:`BadArgument` naming the courses."""
    for c in exam.courses:
        if c.code.lower() == (code or "").strip().lower():
            return c
    raise BadArgument(f"no course {code!r} in the exam ({', '.join(c.code for c in exam.courses)})")


def _check_item(course: Course, item: int, what: str = "item") -> None:
    if not 1 <= item <= course.questions:
        raise BadArgument(
            f"{course.code}: {what} {item} out of range, the course has 1-{course.questions}"
        )


def _check_option(course: Course, form, option: str) -> str:
    options = form.answer_blocks[course.block].options
    letters = (option or "").strip().upper()
    if len(letters) != 1 or letters not in options:
        raise BadArgument(
            f"{course.code}: {option!r} is not an option on the form ({''.join(options)})"
        )
    return letters


def master_places(course: Course, item: int) -> dict[str, int]:
    """Group -> printed index (0-based) of master ``item`` in that group's booklet."""
    return {g: course.master_order(g).index(item) for g in sorted(course.keys)}


def _describe(tokens: dict[str, str]) -> str:
    """``B`` when every group agrees, else ``A:B C:D`` (group: token)."""
    if len(set(tokens.values())) == 1:
        return next(iter(tokens.values()))
    return " ".join(f"{g}:{t}" for g, t in tokens.items())


def _copy(keys: KeySet) -> KeySet:
    return {c: {g: list(t) for g, t in groups.items()} for c, groups in keys.items()}


def cancel_item(keys: KeySet, exam: Exam, code: str, item: int) -> KeyChange:
    """Cancel master ``item`` of course ``code`` in every booklet group (RULES.md)."""
    course = find_course(exam, code)
    _check_item(course, item)
    new = _copy(keys)
    places = master_places(course, item)
    before = {g: new[course.code][g][p] for g, p in places.items()}
    if all(t == "*" for t in before.values()):
        raise BadArgument(f"{course.code} item {item} is already cancelled")
    for g, p in places.items():
        new[course.code][g][p] = "*"
    return KeyChange(new, course.code, f"{course.code} item {item}", _describe(before), "*")


def accept_option(keys: KeySet, exam: Exam, form, code: str, item: int, option: str) -> KeyChange:
    """Accept ``option`` as a right answer of master ``item`` too, in every booklet group."""
    course = find_course(exam, code)
    _check_item(course, item)
    option = _check_option(course, form, option)
    new = _copy(keys)
    places = master_places(course, item)
    before = {g: new[course.code][g][p] for g, p in places.items()}
    if any(t == "*" for t in before.values()):
        raise BadArgument(f"{course.code} item {item} is cancelled: nothing to accept")
    if all(option in accepted(t) for t in before.values()):
        raise BadArgument(f"{course.code} item {item}: {option} is already accepted")
    after = {}
    for g, p in places.items():
        after[g] = token(accepted(before[g]) | {option})
        new[course.code][g][p] = after[g]
    return KeyChange(
        new, course.code, f"{course.code} item {item}", _describe(before), _describe(after)
    )


def set_answer(
    keys: KeySet, exam: Exam, form, code: str, group: str | None, item: int, option: str
) -> KeyChange:
    """Correct the key of printed question ``item`` of booklet ``group`` (None: no groups)."""
    course = find_course(exam, code)
    if exam.groups:
        if group is None:
            raise BadArgument(
                f"the exam has booklet groups ({', '.join(exam.groups)}): "
                "give COURSE GROUP ITEM OPTION"
            )
        group = group.strip().upper()
        if group not in exam.groups:
            raise BadArgument(f"no booklet group {group!r} in the exam ({', '.join(exam.groups)})")
    else:
        if group is not None:
            raise BadArgument("this exam has no booklet groups: give COURSE ITEM OPTION")
        group = NO_GROUP
    _check_item(course, item, "question")
    option = _check_option(course, form, option)
    new = _copy(keys)
    old = new[course.code][group][item - 1]
    if old == option:
        raise BadArgument(f"{course.code} question {item}: the key is already {option}")
    new[course.code][group][item - 1] = option
    where = (
        f"{course.code} group {group} question {item}"
        if group
        else f"{course.code} question {item}"
    )
    return KeyChange(new, course.code, where, old, option)


def changed_courses(old: KeySet, new: KeySet) -> set[str]:
    """The courses whose key differs between two key sets."""
    return {c for c in set(old) | set(new) if old.get(c) != new.get(c)}
