"""One writer at a time on a session's OUT, proven with real processes: a second ``omr run``
(or ``omr report``, ``omr review set``, a desk act) waits its bounded time, then refuses with
exit status 7 naming the holder, and changes nothing; a killed holder leaves no stuck lock."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import omr.session_lock
from omr.forms import find_form
from omr.simulate import simulate_session
from omr.store import STORE_NAME

REPO = Path(__file__).resolve().parents[1]
SHEETS = 12
OMR = "import sys; from omr.cli import main; sys.argv[0] = 'omr'; main()"
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def omr_process(*args, **kw) -> subprocess.Popen:
    """``omr ARGS`` in a process group of its own (so a kill reaches its workers)."""
    return subprocess.Popen(
        [sys.executable, "-c", OMR, *map(str, args)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kw,
    )


def omr_run(*args, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", OMR, *map(str, args)],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def stored_pages(out: Path) -> int:
    try:
        with sqlite3.connect(f"file:{out / STORE_NAME}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT count(*) FROM pages").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def wait_for(check, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lock") / "S"
    simulate_session(find_form("quiz-a5"), SHEETS, 3, root, profile="clean", jobs=1)
    return root


@pytest.fixture
def session(base, tmp_path) -> Path:
    import shutil

    return Path(shutil.copytree(base, tmp_path / "S"))


def start_first_run(session: Path) -> subprocess.Popen:
    """``omr run SESSION -j 1``, paused (SIGSTOP) once it holds the lock and stored a page:
    a real run in the middle of its work, for as long as the test needs (SIGCONT resumes)."""
    first = omr_process("run", session, "--jobs", 1, "--json")
    wait_for(lambda: stored_pages(session / "out") >= 1 or first.poll() is not None, "a page")
    os.killpg(first.pid, signal.SIGSTOP)
    assert first.poll() is None, first.communicate()
    return first


def test_a_second_run_refuses_with_exit_7_naming_the_first_and_reads_nothing(session):
    first = start_first_run(session)
    try:
        second = omr_run("run", session, "--jobs", 1, "--wait", 0, "--json")
        report = omr_run("report", session / "out", "--wait", 0)
    finally:
        stop(first)
    assert second.returncode == 7, second.stderr
    assert f"omr run (process {first.pid}, since" in second.stderr
    assert "is writing this session's results" in second.stderr
    assert "Traceback" not in second.stderr and second.stdout == ""
    assert report.returncode == 7 and f"process {first.pid}" in report.stderr
    # killed (SIGKILL) while holding it: the next run gets the lock at once and finishes
    pages_left = stored_pages(session / "out")
    third = omr_run("run", session, "--jobs", 1, "--wait", 0, "--json")
    assert third.returncode in (0, 10), third.stderr
    summary = json.loads(third.stdout)
    assert summary["sheets"] == SHEETS and summary["read_now"] == SHEETS - pages_left
    assert not (session / "out" / omr.session_lock.HOLDER_NAME).exists()


def test_a_second_run_that_waits_starts_after_the_first_and_never_interleaves(session):
    first = start_first_run(session)
    second = omr_process("run", session, "--jobs", 1, "--wait", 300, "--json")
    time.sleep(4)  # long enough for it to start and find the lock taken
    assert second.poll() is None, second.communicate()  # waiting, not refused
    os.killpg(first.pid, signal.SIGCONT)
    out, err = second.communicate(timeout=300)
    first_out, first_err = first.communicate(timeout=60)
    assert first.returncode in (0, 10), first_err
    assert second.returncode in (0, 10), err
    summary = json.loads(out)
    # the second read nothing: every page was the first run's, stored before it got the lock
    assert summary["read_now"] == 0 and summary["sheets"] == SHEETS
    assert json.loads(first_out)["read_now"] == SHEETS
    with sqlite3.connect(session / "out" / STORE_NAME) as db:
        assert db.execute("SELECT count(*), count(DISTINCT sheet_id) FROM pages").fetchone() == (
            SHEETS,
            SHEETS,
        )


HOLD = """
import sys, time
from pathlib import Path
from omr.session_lock import session_lock
with session_lock(Path(sys.argv[1]), wait=0):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(out: Path, seconds: float) -> subprocess.Popen:
    """Another process holding OUT's lock for ``seconds``; returned once it holds it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out), str(seconds)],
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def stop(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc`` (its whole group when it leads one) and collect it."""
    with contextlib.suppress(ProcessLookupError):
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    proc.communicate(timeout=60)


@pytest.fixture
def read_out(session) -> Path:
    result = omr_run("run", session, "--jobs", 1)
    assert result.returncode in (0, 10), result.stderr
    return session / "out"


def test_review_set_waits_for_a_short_holder_then_refuses_a_long_one(read_out):
    args = ("review", "set", read_out, "stack.pdf:1", "sheet", "void", "--by", "a", "--why", "b")
    holder = hold_lock(read_out, 2)
    started = time.monotonic()
    waited = omr_run(*args)
    assert holder.communicate(timeout=30) == ("", None) and holder.returncode == 0
    assert waited.returncode == 0, waited.stderr
    assert time.monotonic() - started >= 1.5  # it waited for the holder
    holder = hold_lock(read_out, 60)
    try:
        before = (read_out / "results.csv").read_bytes()
        refused = omr_run(*args)
        assert holder.poll() is None
    finally:
        stop(holder)
    assert refused.returncode == 7, refused.stderr
    assert "waited 10 s" in refused.stderr
    assert (read_out / "results.csv").read_bytes() == before
    with sqlite3.connect(read_out / STORE_NAME) as db:
        assert db.execute("SELECT count(*) FROM decisions").fetchone() == (1,)


def test_a_desk_act_while_a_run_writes_is_refused_and_changes_nothing(read_out, monkeypatch):
    import re

    from starlette.testclient import TestClient

    from omr.web.app import create_app

    monkeypatch.setattr(omr.session_lock, "DEFAULT_WAIT", 0.5)
    client = TestClient(create_app(read_out), base_url="http://127.0.0.1:8000")
    page = client.get("/sheet", params={"id": "stack.pdf:1"}).text
    form = {
        "csrf": re.search(r'name="csrf" value="([^"]+)"', page)[1],
        "sheet": "stack.pdf:1",
        "field": "sheet",
        "value": "void",
        "by": "ayse",
        "why": "torn",
    }
    holder = hold_lock(read_out, 60)
    try:
        shown = client.post("/sheet/decide", data=form).text
    finally:
        stop(holder)
    assert "is writing this session&#39;s results" in shown or "is writing this session" in shown
    with sqlite3.connect(read_out / STORE_NAME) as db:
        assert db.execute("SELECT count(*) FROM decisions").fetchone() == (0,)
    done = client.post("/sheet/decide", data=form).text  # the holder gone: it goes through
    with sqlite3.connect(read_out / STORE_NAME) as db:
        assert db.execute("SELECT count(*) FROM decisions").fetchone() == (1,), done[:300]
