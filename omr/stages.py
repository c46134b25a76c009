"""CPU time per stage of the reader (decode, register, measure, ...), for the benchmark.

Off unless :func:`start` is called: :func:`stage` then costs one dict lookup.
Time is the process's CPU time (user + sys, :func:`time.process_time`), and
exclusive: a stage entered inside another is charged to itself only.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

_STATE: dict = {"totals": None, "stack": [], "since": 0.0}


def start() -> None:
    """Start counting (again from zero)."""
    _STATE.update(totals=Counter(), stack=[], since=time.process_time())


def stop() -> Counter:
    """Stop counting; return CPU seconds per stage."""
    totals = _STATE["totals"] or Counter()
    _STATE.update(totals=None, stack=[])
    return totals


def totals() -> Counter:
    """CPU seconds per stage so far (empty when not counting)."""
    return Counter(_STATE["totals"] or {})


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Charge the CPU time spent inside to ``name`` (not to the stage around it)."""
    counts = _STATE["totals"]
    if counts is None:
        yield
        return
    stack = _STATE["stack"]
    _charge(counts, stack)
    stack.append(name)
    try:
        yield
    finally:
        _charge(counts, stack)
        stack.pop()


def _charge(counts: Counter, stack: list[str]) -> None:
    now = time.process_time()
    if stack:
        counts[stack[-1]] += now - _STATE["since"]
    _STATE["since"] = now
