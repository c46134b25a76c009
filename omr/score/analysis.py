"""Per-course item analysis on master item numbers, pooled and per booklet group.

Each group's printed order is mapped back to the master items through the
exam's ``order``. Per-group statistics use that group's own key, so a key
typed wrong in one booklet shows up in that group. Pooled statistics use the
first group's key; where groups' keys disagree on a master item, the item is
flagged ``key-mismatch``. An exam without booklet groups has pooled
statistics only.

``key-suspect`` compares the top 27% of students with the key: on a handful
of students it fires by chance, so it is only raised where at least
``MIN_STUDENTS_FOR_KEY_CHECK`` scored sheets back it (pooled, or in the group).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from omr.exam import Course, Exam
from omr.score.items import (
    ItemStats,
    TestStats,
    item_statistics,
    test_statistics,
)
from omr.score.scoring import SCORED, CourseResult

MIN_STUDENTS_FOR_KEY_CHECK = 50


def _quiet_small(stats: list[ItemStats]) -> list[ItemStats]:
    """Drop ``key-suspect`` from statistics over too few students to support it."""
    return [
        replace(s, flags=tuple(f for f in s.flags if f != "key-suspect"))
        if s.n < MIN_STUDENTS_FOR_KEY_CHECK
        else s
        for s in stats
    ]


@dataclass(frozen=True, eq=False)
class CourseAnalysis:
    """Item and test statistics of one course over its scored sheets."""

    course: Course
    options: tuple[str, ...]
    groups: np.ndarray
    responses: np.ndarray
    scores: list[float]
    pooled: list[ItemStats]
    by_group: dict[str, list[ItemStats]]
    test: TestStats
    key_mismatch: tuple[int, ...]


def master_key(course: Course, group: str) -> list[frozenset[str]]:
    """The group's key rearranged into master item order."""
    key = course.key(group)
    order = course.master_order(group)
    out: list[frozenset[str]] = [frozenset()] * course.questions
    for position, item in enumerate(order):
        out[item - 1] = key[position]
    return out


def master_responses(row: CourseResult, course: Course) -> list[str]:
    """One scored row's responses in master order; several marks become ``*``."""
    out = [""] * course.questions
    for position, item in enumerate(course.master_order(row.group)):
        token = row.responses[position]
        out[item - 1] = "*" if len(token) > 1 else token
    return out


def analyse_course(rows: list[CourseResult], course: Course, exam: Exam, options) -> CourseAnalysis:
    """Statistics of ``course`` over the scored rows among ``rows``."""
    scored = [r for r in rows if r.course == course.code and r.status == SCORED]
    n, k = len(scored), course.questions
    responses = np.array([master_responses(r, course) for r in scored], dtype=object).reshape(n, k)
    groups = np.array([r.group for r in scored], dtype=object)
    keys = {g: master_key(course, g) for g in exam.key_groups}
    reference = keys[exam.key_groups[0]]
    mismatch = tuple(item + 1 for item in range(k) if len({key[item] for key in keys.values()}) > 1)
    by_group = {}
    for g in exam.groups:  # one by one: each group is scored against its own key
        mine = groups == g
        if mine.any():
            by_group[g] = _quiet_small(item_statistics(responses[mine], keys[g], options))
    pooled = []
    for s in _quiet_small(item_statistics(responses, reference, options)):
        suspect = tuple(
            g for g, stats in by_group.items() if "key-suspect" in stats[s.item - 1].flags
        )
        flags = (*s.flags, "key-mismatch") if s.item in mismatch else s.flags
        pooled.append(replace(s, flags=flags, suspect_groups=suspect))
    return CourseAnalysis(
        course=course,
        options=tuple(options),
        groups=groups,
        responses=responses,
        scores=[r.score.score for r in scored],
        pooled=pooled,
        by_group=by_group,
        test=test_statistics(responses, reference),
        key_mismatch=mismatch,
    )
