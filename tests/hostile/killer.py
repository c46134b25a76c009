"""Run ``omr ARGS`` and SIGKILL it at an exact point of its work (a test harness).

    python tests/hostile/killer.py POINT omr-args...

POINT is one of

- ``sql:N:TEXT``: at the N-th SQL statement containing TEXT (sqlite3's trace
  callback: the statement is about to run, so ``sql:3:DELETE FROM evidence``
  kills in the middle of the third page's store transaction);
- ``open:NAME``: when the temporary file of output NAME is created (empty);
- ``rename:NAME``: when that temporary file, written and synced, is about to
  be renamed into place;
- ``call:MODULE:FUNCTION``: when the function is entered (e.g. scoring).

The process kills itself with SIGKILL (nothing runs after: no ``finally``, no
``atexit``), as ``kill -9`` or the kernel's OOM killer would. The hooks are
Python's own (``sys.addaudithook``, ``sqlite3.Connection.set_trace_callback``);
the code under test is not changed.
"""

from __future__ import annotations

import importlib
import os
import re
import signal
import sqlite3
import sys
from pathlib import Path


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _temp_of(name: str):
    return re.compile(r"^\." + re.escape(name) + r"\.[a-z0-9_]{8}\.tmp")


def arm(point: str) -> None:
    """Install the hook that kills this process at ``point``."""
    kind, _, rest = point.partition(":")
    if kind == "sql":
        count, _, text = rest.partition(":")
        left = [int(count)]
        connect = sqlite3.connect

        def trace(statement: str) -> None:
            if text in statement:
                left[0] -= 1
                if left[0] == 0:
                    _die()

        def traced(*args, **kwargs):
            db = connect(*args, **kwargs)
            db.set_trace_callback(trace)
            return db

        sqlite3.connect = traced
    elif kind in ("open", "rename"):
        temp = _temp_of(rest)
        event = "open" if kind == "open" else "os.rename"

        def hook(name: str, args: tuple) -> None:
            if name == event and args and temp.match(Path(str(args[0])).name):
                _die()

        sys.addaudithook(hook)
    elif kind == "call":
        module_name, _, function = rest.partition(":")
        module = importlib.import_module(module_name)
        original = getattr(module, function)

        def entered(*args, **kwargs):
            _die()
            return original(*args, **kwargs)

        setattr(module, function, entered)
    else:
        raise SystemExit(f"unknown kill point {point!r}")


if __name__ == "__main__":
    arm(sys.argv[1])
    from omr.cli import main

    sys.argv = ["omr", *sys.argv[2:]]
    main()
