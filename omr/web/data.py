"""What the desk's pages show, read through the workflow layer (:mod:`omr.workflow`).

Nothing here decides or scores: loading, the queue, pictures, acts and their
checks are :mod:`omr.workflow`'s functions, the ones the ``omr`` command calls.
This module keeps the session's state between requests (loaded again when the
store or the exam changes), draws at most one picture at a time, and lets one
act run at a time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from omr.records import SheetRead
from omr.store import STORE_NAME, Store
from omr.workflow import desk

PICTURES_KEPT = 32


@dataclass(frozen=True)
class Picture:
    """A sheet's annotated PNG and the crop of its items in doubt (None when there is none)."""

    png: bytes
    doubt: bytes | None


class SessionDesk:
    """One session's output folder as the desk sees it."""

    def __init__(self, out: Path, session_root: Path | None = None):
        self.out = Path(out)
        self.session_root = session_root
        desk.store_path(self.out)  # InputFileError when OUT holds no session
        self.acts = threading.Lock()  # one act at a time
        self._loading = threading.Lock()
        self._state: tuple[tuple, desk.State, list[desk.QueueItem]] | None = None
        self._pictures: OrderedDict[tuple, Picture] = OrderedDict()
        self._drawing = threading.Lock()

    # --- state ------------------------------------------------------------------

    def _fingerprint(self) -> tuple:
        paths = [self.out / STORE_NAME, self.out / f"{STORE_NAME}-wal"]
        if self._state is not None:
            root = self._state[1].session.root
            paths += [root / "exam.yaml", root / "roster.csv"]
        stats = []
        for p in paths:
            try:
                st = p.stat()
                stats.append((st.st_mtime_ns, st.st_size))
            except OSError:
                stats.append(None)
        return tuple(stats)

    def _load(self) -> tuple[tuple, desk.State, list[desk.QueueItem]]:
        with self._loading:
            mark = self._fingerprint()
            if self._state is None or self._state[0] != mark:
                state = desk.load_state(self.out, self.session_root)
                self._state = (self._fingerprint(), state, desk.queue_of(state))
            return self._state

    def state(self) -> desk.State:
        """The session's results as they stand (see :func:`omr.workflow.desk.load_state`)."""
        return self._load()[1]

    def queue(self) -> list[desk.QueueItem]:
        """The review queue as it stands (see :func:`omr.workflow.desk.review_queue`)."""
        return self._load()[2]

    def version(self) -> tuple:
        """A value that changes whenever the state does (for caching pictures)."""
        return self._load()[0]

    # --- what a page shows about one sheet ----------------------------------------

    def measured(self, sheet: str) -> SheetRead:
        """The sheet's read as stored, with every bubble's numbers (darkness, ring, cover)."""
        self.state().read(sheet)  # BadArgument for an unknown sheet
        with Store(desk.store_path(self.out)) as store:
            return store.read(sheet)

    def picture(self, sheet: str) -> Picture:
        """The sheet's annotated image as ``omr review show`` writes it (into ``OUT/review``)."""
        self.state().read(sheet)
        key = (self.version(), sheet)
        with self._drawing:
            found = self._pictures.get(key)
            if found is None:
                paths = desk.review_picture(self.out, sheet, session_root=self.session_root)
                found = Picture(
                    paths[0].read_bytes(), paths[1].read_bytes() if len(paths) > 1 else None
                )
                self._pictures[key] = found
                while len(self._pictures) > PICTURES_KEPT:
                    self._pictures.popitem(last=False)
            return found

    def scan(self, sheet: str) -> bytes:
        """The page ``sheet`` was read from, as scanned, as a PNG."""
        import cv2

        from omr.annotate import png_bytes
        from omr.errors import InputFileError
        from omr.pages import PageLoadError, PageRef, load_page

        state = self.state()
        read = state.read(sheet)
        path = state.session.scans / read.source
        if not path.is_file():
            raise InputFileError(f"{sheet}: the scan {read.source} is not there any more")
        with self._drawing:
            try:
                page = load_page(PageRef(path, read.page - 1, read.source))
            except PageLoadError as exc:
                raise InputFileError(str(exc)) from exc
        pixels = page.pixels
        rgb = cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB) if pixels.ndim == 2 else pixels
        return png_bytes(rgb)

    def name_of(self, student: str) -> str:
        """The roster's name of ``student`` (empty when not on the roster or it has none)."""
        roster = self.state().session.roster
        found = roster.by_student.get(student) if roster is not None else None
        return found.name if found is not None else ""
