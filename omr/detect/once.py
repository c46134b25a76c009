"""What is worked out once per form or layout (points, groupings, features), kept with it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def once_per(owner: object, cache: dict, make: Callable[[], T]) -> T:
    """``make()`` the first time ``owner`` is asked about, its answer after that.

    Keyed by identity (a form's models are not hashable); the owner is kept
    with its answer, so an id reused by a new object never gets an old one's.
    """
    hit = cache.get(id(owner))
    if hit is None or hit[0] is not owner:
        hit = cache[id(owner)] = (owner, make())
    return hit[1]
