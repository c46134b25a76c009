"""The page function: load one page, read it, make its store row. Run in each worker.

Kept apart from :mod:`omr.pipeline` so that a worker process imports only
what reading needs (the detectors, the page loaders), not the exports,
scoring and workbook libraries the driver uses at the end: 0.5 s of CPU less
at each worker's start.
"""

from __future__ import annotations

import os
import time

from omr.calibration import Calibration
from omr.detect import read_page
from omr.forms import Form
from omr.pages import PageLoadError, PageRef, load_page
from omr.records import SheetRead
from omr.stages import stage
from omr.store import PageRow


def process_page(ref: PageRef, form: Form, calibration: Calibration) -> SheetRead:
    """Load and read one page; a page that cannot be decoded comes back as a problem."""
    try:
        with stage("decode"):
            page = load_page(ref)
    except PageLoadError as exc:
        return SheetRead(
            ref.sheet_id, ref.name, ref.index + 1, form.name, "unreadable-page", str(exc)
        )
    return read_page(
        page.gray,
        form,
        calibration,
        sheet_id=ref.sheet_id,
        source=ref.name,
        page=ref.index + 1,
        dpi=round(page.dpi, 1) if page.dpi else None,
        colour=page.pixels if page.pixels.ndim == 3 else None,
        jpeg_quality=page.jpeg_quality,
        one_bit=page.one_bit,
    )


def read_and_serialise(ref: PageRef, form: Form, calibration: Calibration) -> PageRow:
    """:func:`process_page`, made into its store row, so the single writer only inserts."""
    read = process_page(ref, form, calibration)
    with stage("store write"):
        return PageRow.of(read)


_WORKER: dict = {}


def init_worker(form: Form, calibration: Calibration) -> None:
    """A pool worker's start: the form and calibration kept, one OpenCV thread."""
    import signal

    import cv2

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's: it stops the workers
    _exit_with_parent()
    cv2.setNumThreads(1)  # one thread per worker: the workers are the parallelism
    _WORKER["form"], _WORKER["calibration"] = form, calibration


def _exit_with_parent(every: float = 0.5) -> None:
    """End this worker when the driver that started it is gone (killed with SIGKILL, say):
    a daemon thread looks every ``every`` seconds; orphans would hold the stack open."""
    import threading

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="omr-parent-watch", daemon=True).start()


def work(ref: PageRef) -> PageRow:
    """A pool worker's task: one page's store row."""
    return read_and_serialise(ref, _WORKER["form"], _WORKER["calibration"])
