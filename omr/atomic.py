"""Files that appear whole or not at all: written under a temporary name, synced, renamed.

Every file ``omr`` writes into an output folder goes through :func:`write_atomic`
(or a :class:`Staged` set of them, renamed together once all are written): a
kill, a full disk or an error while writing leaves the previous file as it was
and no partial one. A temporary file a killed writer left behind
(``.NAME.XXXXXXXX.tmp.EXT``) is removed by :func:`sweep_temps` on the next
write to the folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

_TMP = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp(\.[^.]*)?$")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def _sync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temp_beside(path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}"
    )
    os.close(fd)
    return Path(tmp)


def _write_synced(tmp: Path, write: Callable[[Path], object], mode: int | None) -> None:
    """``write(tmp)``, its mode set, its bytes on disk; ``tmp`` removed on any failure."""
    try:
        write(tmp)
        tmp.chmod(mode if mode is not None else 0o666 & ~_UMASK)  # mkstemp makes 0600
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, write: Callable[[Path], object], *, mode: int | None = None) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, sync it, rename it to ``path``.

    ``mode`` (e.g. ``0o600`` for files with full identities) is set before the
    rename, so the file is never readable by others; by default the mode of an
    ordinary file under the umask. On any failure ``path`` is left as it was.
    """
    path = Path(path)
    tmp = _temp_beside(path)
    _write_synced(tmp, write, mode)
    try:
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_dir(path.parent)


class Staged:
    """Files written one by one under temporary names, renamed into place together.

    Use as a context manager: on a clean exit every staged file replaces its
    target (in the order staged); on an error none does and the temporary
    files are removed, so the folder keeps the previous set whole.
    """

    def __init__(self) -> None:
        self._done: list[tuple[Path, Path]] = []

    def write(
        self, path: Path, write: Callable[[Path], object], *, mode: int | None = None
    ) -> None:
        """Write ``path``'s new contents to a temporary file (see :func:`write_atomic`)."""
        path = Path(path)
        tmp = _temp_beside(path)
        _write_synced(tmp, write, mode)
        self._done.append((tmp, path))

    def __enter__(self) -> Staged:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is not None:
            for tmp, _ in self._done:
                tmp.unlink(missing_ok=True)
            return
        for tmp, path in self._done:
            tmp.replace(path)
        for folder in {path.parent for _, path in self._done}:
            _sync_dir(folder)


def temp_files(folder: Path) -> Iterator[Path]:
    """The temporary files of :func:`write_atomic` in ``folder`` (not below it)."""
    with contextlib.suppress(OSError):
        for entry in Path(folder).iterdir():
            if _TMP.match(entry.name) and entry.is_file():
                yield entry


def sweep_temps(folder: Path) -> int:
    """Remove the temporary files a killed writer left in ``folder``; return how many.

    Call it only while holding the folder's session lock
    (:func:`omr.session_lock.session_lock`), when no other writer is at work.
    """
    count = 0
    for entry in list(temp_files(folder)):
        with contextlib.suppress(OSError):
            entry.unlink()
            count += 1
    return count
