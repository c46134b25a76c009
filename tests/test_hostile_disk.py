"""A full disk while writing: a clear message and exit status 9, the store sound, the
previous result files as they were. The full disk is made without root: the command runs
in a child process whose RLIMIT_FSIZE caps every file it writes (Python ignores SIGXFSZ,
so a write past the cap fails with EFBIG, as one on a full disk fails with ENOSPC)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from omr.atomic import temp_files
from omr.forms import find_form
from omr.pipeline import run_session
from omr.simulate import simulate_session
from omr.store import STORE_NAME

resource = pytest.importorskip("resource")

REPO = Path(__file__).resolve().parents[1]
SHEETS = 12
OMR = "import sys; from omr.cli import main; sys.argv[0] = 'omr'; main()"


def omr_capped(cap: int, *args) -> subprocess.CompletedProcess:
    """``omr ARGS`` in a child whose files cannot grow past ``cap`` bytes."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))

    return subprocess.run(
        [sys.executable, "-c", OMR, *map(str, args)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit,
    )


def store_facts(out: Path) -> tuple:
    with sqlite3.connect(out / STORE_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        pages = db.execute("SELECT count(*), count(DISTINCT sheet_id) FROM pages").fetchone()
        keys = db.execute("SELECT count(*) FROM key_versions").fetchone()
    return pages, keys


def result_files(out: Path) -> dict[str, bytes]:
    """Every result file of ``out`` (not the store, not the lock), by name, and its bytes."""
    return {
        p.name: p.read_bytes()
        for p in out.iterdir()
        if p.is_file() and not p.name.startswith((STORE_NAME, "."))
    }


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("disk") / "S"
    simulate_session(find_form("quiz-a5"), SHEETS, 8, root, profile="clean", jobs=1)
    return root


def test_a_full_disk_while_writing_the_reports_keeps_the_store_and_the_old_files(base, tmp_path):
    root = Path(shutil.copytree(base, tmp_path / "S"))
    run_session(root, jobs=1)
    out = root / "out"
    before = result_files(out)
    big = max(len(b) for b in before.values())
    facts = store_facts(out)
    capped = omr_capped(big // 2, "report", out, "--lang", "en")
    assert capped.returncode == 9, capped.stderr
    assert "Traceback" not in capped.stderr
    assert "cannot write the results" in capped.stderr
    assert "File too large" in capped.stderr or "No space" in capped.stderr
    assert "the previous result files and the store are as they were" in capped.stderr
    assert result_files(out) == before  # every old file whole, none half-replaced
    assert list(temp_files(out)) == []
    assert store_facts(out) == facts


def test_a_full_disk_while_reading_keeps_what_was_stored_and_the_rerun_ends_it(base, tmp_path):
    root = Path(shutil.copytree(base, tmp_path / "S"))
    calm = Path(shutil.copytree(base, tmp_path / "calm"))
    run_session(calm, jobs=1)
    capped = omr_capped(256 * 1024, "run", root, "--jobs", 1)
    assert capped.returncode == 9, capped.stderr
    assert "Traceback" not in capped.stderr
    assert "the disk is full" in capped.stderr and str(root / "out") in capped.stderr
    (stored, distinct), _ = store_facts(root / "out")
    assert 0 < stored == distinct < SHEETS
    assert not (root / "out" / "results.csv").exists()
    summary = run_session(root, jobs=1)  # space again: the run goes on where it stopped
    assert summary.read_now == SHEETS - stored
    want = (calm / "out" / "results.csv").read_bytes()
    assert (root / "out" / "results.csv").read_bytes() == want
