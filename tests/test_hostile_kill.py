"""A run killed (SIGKILL, the whole process group) at several points while reading, each
followed by another run: the store stays sound, and the results at the end are those of
a run never stopped, one row per sheet and course."""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


def _session_and_calm_results(tmp_path: Path, seed: int) -> tuple[Path, str]:
    """A simulated session, and the results.csv of a run of its copy never stopped."""
    root = tmp_path / "session"
    simulate_session(find_form("quiz-a5"), SHEETS, seed, root, profile="clean", jobs=1)
    calm = tmp_path / "calm"
    shutil.copytree(root, calm)
    run_session(calm, jobs=1)
    return root, (calm / "out" / "results.csv").read_text(encoding="utf-8")


def test_sigkill_while_reading_loses_and_duplicates_nothing(tmp_path):
    root, want = _session_and_calm_results(tmp_path, 9)

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


# --- SIGKILL at exact points, each followed by a rerun -------------------------------------

KILLER = REPO / "tests" / "hostile" / "killer.py"
OUTPUTS = ("results.csv", "review.csv", "flagged.csv", "objections.csv", "items.csv")
#: (kill point, what the killed run is asked, the pages the store must hold after it).
#: ``sql`` points kill inside the store's transaction for a page (the statement after the
#: page's INSERT); ``open``/``rename`` points kill as a result file's temporary copy is
#: created or about to replace the file; the run before each has left a complete set.
KILL_POINTS = [
    ("sql:3:DELETE FROM evidence", (), 2),
    ("sql:9:DELETE FROM evidence", ("--fresh",), None),
    ("call:omr.pipeline:score_from_store", (), SHEETS),
    ("open:results.csv", (), SHEETS),
    ("rename:review.csv", (), SHEETS),
    ("open:results.xlsx", (), SHEETS),
    ("rename:results.xlsx", (), SHEETS),
    ("rename:report.html", (), SHEETS),
]


def _killed_at(point: str, root: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(KILLER), point, "run", str(root), "--jobs", "1", *extra],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _outputs_whole(out: Path) -> dict[str, object]:
    """Every result file in ``out`` parsed in full (an incomplete one fails here)."""
    import openpyxl

    from omr.export import RESULT_COLUMNS

    found: dict[str, object] = {}
    for name in OUTPUTS:
        if (out / name).exists():
            with (out / name).open(encoding="utf-8", newline="") as fh:
                rows = list(csv.reader(fh, strict=True))
            assert rows and all(len(r) == len(rows[0]) for r in rows), name
            found[name] = rows
    if "results.csv" in found:
        assert found["results.csv"][0] == RESULT_COLUMNS
    if (out / "results.xlsx").exists():
        book = openpyxl.load_workbook(out / "results.xlsx", read_only=True)
        found["results.xlsx"] = book.sheetnames
        book.close()
    if (out / "report.html").exists():
        page = (out / "report.html").read_text(encoding="utf-8")
        assert page.rstrip().endswith("</html>")
        found["report.html"] = len(page)
    return found


def _store_sound(out: Path) -> int:
    with sqlite3.connect(out / STORE_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored, distinct = db.execute(
            "SELECT count(*), count(DISTINCT sheet_id) FROM pages"
        ).fetchone()
    assert stored == distinct
    return stored


def test_sigkill_at_each_point_of_a_run_then_a_rerun_gives_the_calm_results(tmp_path):
    from omr.atomic import temp_files

    root, want = _session_and_calm_results(tmp_path, 4)
    out = root / "out"
    had_outputs = False
    for point, extra, pages in KILL_POINTS:
        killed = _killed_at(point, root, *extra)
        assert killed.returncode == -signal.SIGKILL, f"{point}: not killed\n{killed.stderr}"
        stored = _store_sound(out)
        assert pages is None or stored == pages, point
        whole = _outputs_whole(out)
        # complete or absent: before the first complete run none, after it every file
        assert len(whole) == (len(OUTPUTS) + 2 if had_outputs else 0), (point, sorted(whole))
        summary = run_session(root, jobs=1)  # the rerun
        assert summary.sheets == SHEETS
        assert (out / "results.csv").read_text(encoding="utf-8") == want, point
        assert len(_outputs_whole(out)) == len(OUTPUTS) + 2
        assert list(temp_files(out)) == [], point  # what the killed writer left is swept
        had_outputs = True
    with (out / "results.csv").open(encoding="utf-8", newline="") as fh:
        sheets = [row["sheet"] for row in csv.DictReader(fh)]
    assert len(sheets) == len(set(sheets)) == SHEETS  # one course: one row per sheet


def _children(pid: int) -> set[int]:
    """The pids of ``pid``'s children (Linux /proc), grandchildren included."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = {int(k) for k in (task / "children").read_text().split()}
            except OSError:
                continue
            todo += kids - found
            found |= kids
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start_run(root: Path, tmp_path: Path, jobs: int) -> tuple[subprocess.Popen, set[int]]:
    """``omr run ROOT -j JOBS`` (output to files: a pipe would wait for orphans), returned
    with its workers' pids once it has stored 2 pages."""
    code = "import sys; from omr.cli import main; sys.argv[0] = 'omr'; main()"
    with (tmp_path / "stderr").open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, "run", str(root), "--jobs", str(jobs)],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    store = root / "out" / STORE_NAME
    deadline = time.monotonic() + 120
    while _stored_pages(store) < 2 and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    children = _children(proc.pid)
    assert len(children) >= jobs, "no workers seen: not a test"  # the workers (+ tracker)
    return proc, children


def _left_alive(children: set[int], seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [c for c in children if _alive(c)]


LINUX_PROC = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc")


@pytest.fixture(scope="module")
def stack_of_32(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("signals") / "session"
    simulate_session(find_form("quiz-a5"), SHEETS * 2, 6, root, profile="clean", jobs=1)
    return root


@LINUX_PROC
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_a_signal_to_the_parent_alone_leaves_no_worker_and_keeps_the_store(
    stack_of_32, tmp_path, how
):
    root = Path(shutil.copytree(stack_of_32, tmp_path / "session"))
    proc, children = _start_run(root, tmp_path, jobs=2)
    try:
        proc.send_signal(how)  # the parent only, as a service manager or the OOM killer does
        proc.wait(timeout=60)
        assert _left_alive(children) == []  # workers and resource tracker ended with it
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    err = (tmp_path / "stderr").read_text()
    if how == signal.SIGTERM:
        assert proc.returncode == 143, err
        assert "stopped (SIGTERM, workers stopped): pages read so far are kept" in err
        assert "Traceback" not in err
    else:
        assert proc.returncode == -signal.SIGKILL
    stored = _store_sound(root / "out")
    assert 2 <= stored < SHEETS * 2
    assert not (root / "out" / "results.csv").exists()
    summary = run_session(root, jobs=1)
    assert summary.read_now == SHEETS * 2 - stored and summary.sheets == SHEETS * 2


def _group(pgid: int) -> list[str]:
    """What lives in process group ``pgid`` (Linux /proc): pid, state and command line."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
        except OSError:
            continue
        if int(fields[2]) == pgid:
            found.append(f"{stat.parent.name} {fields[0]} {cmd}")
    return found


def _left_in_its_group(*args: str) -> list[str]:
    """Run ``omr ARGS`` as the leader of a new process group; what of the group
    lives on the moment the leader is reaped (it must have exited 0)."""
    code = "import sys; from omr.cli import main; sys.argv[0] = 'omr'; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert proc.wait(timeout=300) == 0
        return _group(proc.pid)  # at once: the group's leader is reaped
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


@LINUX_PROC
def test_a_run_with_two_workers_leaves_nothing_in_its_process_group(stack_of_32, tmp_path):
    # Before: multiprocessing's resource tracker outlived omr and stayed in the group,
    # reparented to init, until init reaped it (1-1.5 s here).
    root = Path(shutil.copytree(stack_of_32, tmp_path / "session"))
    assert _left_in_its_group("run", str(root), "--jobs", "2") == []
    assert _store_sound(root / "out") == SHEETS * 2


@LINUX_PROC
def test_simulating_with_two_workers_leaves_nothing_in_its_process_group(tmp_path):
    # Its pool started the resource tracker too, which outlived the command.
    out = tmp_path / "S"
    args = ("simulate", "--form", "quiz-a5", "--sheets", "4", "--jobs", "2", "-q")
    assert _left_in_its_group(*args, "--out", str(out)) == []
    assert len(list((out / "scans").iterdir())) >= 1
