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

from omr.exam import NO_GROUP, Course, Exam, parse_key
from omr.store import Store
from omr.workflow.audit import now, record

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
        "key_versions", version=number, at=now(), by=by, command=command, why=why, keys=_dump(keys)
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


__all__ = ["NO_GROUP", "KeySet", "KeyVersion", "exam_in_force", "keys_in_force", "versions"]
