"""A run killed (SIGKILL, the whole process group) at several points while reading, each
followed by another run: the store stays sound, and the results at the end are those of
a run never stopped, one row per sheet and course."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from omr.forms import find_form
from omr.pipeline import run_session
from omr.simulate import simulate_session
from omr.store import STORE_NAME

REPO = Path(__file__).resolve().parents[1]
SHEETS = 16


def _stored_pages(store: Path) -> int:
    if not store.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT count(*) FROM pages").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def _run_and_kill(root: Path, pages: int) -> int:
    """Start ``omr run ROOT`` and kill it once the store holds ``pages`` pages; its exit code."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    code = "import sys; from omr.cli import main; sys.argv[0] = 'omr'; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "run", str(root), "--jobs", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    store = root / "out" / STORE_NAME
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if _stored_pages(store) >= pages:
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    return proc.wait(timeout=60)


def test_sigkill_while_reading_loses_and_duplicates_nothing(tmp_path):
    root = tmp_path / "session"
    simulate_session(find_form("quiz-a5"), SHEETS, 9, root, profile="clean", jobs=1)
    calm = tmp_path / "calm"
    shutil.copytree(root, calm)
    run_session(calm, jobs=1)
    want = (calm / "out" / "results.csv").read_text(encoding="utf-8")

    for pages in (2, 7, 12):
        assert _run_and_kill(root, pages) == -signal.SIGKILL, f"not killed at {pages}"
        store = root / "out" / STORE_NAME
        with sqlite3.connect(store) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            stored = db.execute("SELECT count(*) FROM pages").fetchone()[0]
            distinct = db.execute("SELECT count(DISTINCT sheet_id) FROM pages").fetchone()[0]
        assert pages <= stored < SHEETS and distinct == stored

    summary = run_session(root, jobs=1)
    assert summary.read_now <= SHEETS - 12  # only what the kills left unread
    assert (root / "out" / "results.csv").read_text(encoding="utf-8") == want
    with (root / "out" / "results.csv").open(encoding="utf-8", newline="") as fh:
        sheets = [row["sheet"] for row in csv.DictReader(fh)]
    assert len(sheets) == len(set(sheets)) == SHEETS  # one course: one row per sheet
