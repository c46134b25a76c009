"""The audit log: one append-only line per act that changes what a candidate gets."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from omr.errors import BadArgument
from omr.store import Store


@dataclass(frozen=True)
class AuditEntry:
    """One act: who, when, the command, what it touched, before -> after, and why."""

    id: int
    at: str
    by: str
    command: str
    target: str
    before: str
    after: str
    why: str


# Where an act comes from. The command line records its own command ("omr review set");
# the review desk runs the same acts, recorded as "omr serve: review set".
_channel: ContextVar[str | None] = ContextVar("omr_audit_channel", default=None)


@contextlib.contextmanager
def acting_from(channel: str) -> Iterator[None]:
    """Record every act in this block as made through ``channel`` (e.g. ``"omr serve"``)."""
    token = _channel.set(channel)
    try:
        yield
    finally:
        _channel.reset(token)


def command_name(command: str) -> str:
    """``command`` as the audit log and key history show it, naming the channel if not the CLI."""
    channel = _channel.get()
    if channel is None:
        return command
    return f"{channel}: {command.removeprefix('omr ')}"


def now() -> str:
    """The time acts are stamped with (UTC, seconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def check_person(by: str, why: str) -> tuple[str, str]:
    """``by`` and ``why`` stripped; :class:`BadArgument` when either is empty."""
    by, why = (by or "").strip(), (why or "").strip()
    if not by:
        raise BadArgument("say who decides: --by NAME")
    if not why:
        raise BadArgument("say why: --why TEXT (it goes into the audit log)")
    return by, why


def record(
    store: Store, *, by: str, command: str, target: str, before: str, after: str, why: str
) -> int:
    """Append one line to the audit log; return its number."""
    return store.append(
        "audit",
        at=now(),
        by=by,
        command=command_name(command),
        target=target,
        before=before,
        after=after,
        why=why,
    )


def audit_log(store: Store) -> list[AuditEntry]:
    """Every act, oldest first."""
    return [AuditEntry(**row) for row in store.records("audit")]
