"""One writer at a time on a session's output folder.

Every command that writes a session's store or its result files (``omr run``,
``omr report``, ``omr review set``/``apply``, ``omr key``, ``omr objection``,
the review desk's acts) holds ``OUT/.omr.lock`` while it works: an operating
system lock on an open file (``filelock``: ``flock`` on Unix, ``msvcrt`` on
Windows), which the system drops when its process ends, however it ends, so
a killed run never leaves it stuck. A second writer waits a bounded time,
then refuses with :class:`SessionBusy` (exit status 7), naming who holds it.
Reading (``omr review list``, ``omr show``, the desk's pages) takes no lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from omr.atomic import sweep_temps, write_atomic
from omr.errors import ExitCode, OmrError

LOCK_NAME = ".omr.lock"
HOLDER_NAME = ".omr.lock.json"  # who holds the lock: pid, command, since (for the message)
DEFAULT_WAIT = 10.0  # seconds a writer waits for another before refusing


class SessionBusy(OmrError):
    """Another ``omr`` command is writing the same session's results."""

    exit_code = ExitCode.busy


class _Held:
    """This process's hold on one folder's lock: a thread lock over the file lock."""

    def __init__(self, path: Path) -> None:
        self.threads = threading.RLock()
        self.file = FileLock(str(path), thread_local=False)
        self.depth = 0


_HELD: dict[Path, _Held] = {}
_HELD_GUARD = threading.Lock()


def _holder(out: Path) -> str:
    try:
        info = json.loads((out / HOLDER_NAME).read_text(encoding="utf-8"))
        return f"{info['command']} (process {info['pid']}, since {info['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another omr command"


def _busy(out: Path, wait: float) -> SessionBusy:
    waited = f" (waited {wait:g} s)" if wait > 0 else ""
    return SessionBusy(
        f"{out}: {_holder(out)} is writing this session's results{waited}. "
        "Wait until it ends and try again, or stop it (Ctrl-C) first; two commands never "
        "write one session at once. / Bu oturumun sonuçlarını şu anda başka bir omr komutu "
        "yazıyor: bitince yeniden deneyin."
    )


def _command() -> str:
    """``omr run``, ``omr review set``: this process's command words (no paths, no names)."""
    words = ["omr"]
    for arg in sys.argv[1:]:
        if arg.startswith("-"):
            continue
        if not arg.isalpha() or not arg.islower() or len(words) == 3:
            break
        words.append(arg)
    return " ".join(words)


@contextmanager
def session_lock(out: Path, *, wait: float = DEFAULT_WAIT) -> Iterator[None]:
    """Hold ``out``'s lock for the block; re-entrant in one thread, shared by none.

    Raises
    ------
    SessionBusy
        Another process (or another thread of this one) held it for ``wait`` seconds.
    """
    out = Path(out)
    if not out.is_dir():  # nothing written there yet: the caller says what is missing
        yield
        return
    key = out.resolve()
    with _HELD_GUARD:
        held = _HELD.setdefault(key, _Held(key / LOCK_NAME))
    if not held.threads.acquire(timeout=max(wait, 0)):
        raise _busy(out, wait)
    try:
        if held.depth == 0:
            try:
                held.file.acquire(timeout=max(wait, 0), poll_interval=0.1)
            except Timeout:
                raise _busy(out, wait) from None
            _write_holder(out)
            for folder in (out, out / "evidence", out / "internal"):
                sweep_temps(folder)  # what a killed writer left
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0:
                with contextlib.suppress(OSError):
                    (out / HOLDER_NAME).unlink(missing_ok=True)
                held.file.release()
    finally:
        held.threads.release()


def _write_holder(out: Path) -> None:
    since = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
    info = json.dumps({"pid": os.getpid(), "command": _command(), "since": since})
    with contextlib.suppress(OSError):  # for the message only: a full disk must not stop it
        write_atomic(out / HOLDER_NAME, lambda tmp: tmp.write_text(info, encoding="utf-8"))


def holds_session(fn):
    """Run ``fn(out, ...)`` holding ``out``'s session lock (waiting :data:`DEFAULT_WAIT`)."""

    @functools.wraps(fn)
    def locked(out, *args, **kwargs):
        with session_lock(Path(out), wait=DEFAULT_WAIT):
            return fn(out, *args, **kwargs)

    return locked
