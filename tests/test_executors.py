"""How pages reach the store: a bounded queue, one writer, batched commits, a Dask cluster."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from omr.calibration import find_calibration
from omr.forms import find_form
from omr.pages import find_pages
from omr.pipeline import bounded_map, run_session, save_stream
from omr.simulate import simulate_session
from omr.store import STORE_NAME, Store
from omr.worker import read_and_serialise


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    root = tmp_path_factory.mktemp("sim") / "session"
    simulate_session(find_form("quiz-a5"), 6, 5, root, jobs=1)
    return root


def _records(out) -> dict[str, str]:
    db = sqlite3.connect(out / STORE_NAME)
    try:
        return dict(db.execute("SELECT sheet_id, record FROM pages"))
    finally:
        db.close()


def test_bounded_map_keeps_order_and_never_queues_more_than_its_window():
    outstanding, most = [0], [0]
    lock = threading.Lock()

    def work(x):
        time.sleep(0.002 * (x % 3))
        with lock:
            outstanding[0] -= 1
        return x * x

    with ThreadPoolExecutor(4) as pool:

        def submit(fn, x):
            with lock:
                outstanding[0] += 1
                most[0] = max(most[0], outstanding[0])
            return pool.submit(fn, x)

        got = list(bounded_map(submit, work, range(40), 5))
    assert got == [x * x for x in range(40)]
    assert most[0] <= 5


def test_a_stopped_run_keeps_every_page_read_before_it_stopped(simulated, tmp_path):
    refs, _ = find_pages([simulated / "scans"])
    form, cal = find_form("quiz-a5"), find_calibration("default")

    def results():
        for i, ref in enumerate(refs):
            if i == 3:
                raise KeyboardInterrupt
            yield read_and_serialise(ref, form, cal)

    with Store(tmp_path / STORE_NAME) as store, pytest.raises(KeyboardInterrupt):
        save_stream(refs, results(), store)
    assert sorted(_records(tmp_path)) == sorted(r.sheet_id for r in refs[:3])


def test_two_workers_write_what_one_writes(simulated, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    run_session(simulated, one, jobs=1, fresh=True)
    run_session(simulated, two, jobs=2, fresh=True)
    assert _records(one) == _records(two)
    assert len(_records(one)) == 6


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_dask_cluster_reads_the_pages_and_a_killed_worker_loses_none(simulated, tmp_path):
    distributed = pytest.importorskip("distributed")
    session = tmp_path / "session"
    shutil.copytree(simulated, session, ignore=shutil.ignore_patterns("out"))
    run_session(session, tmp_path / "serial", jobs=1, fresh=True)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        summary = run_session(session, tmp_path / "dask", scheduler=cluster.scheduler_address)
        assert summary.read_now == 6
        assert _records(tmp_path / "dask") == _records(tmp_path / "serial")

        killed = []

        def kill_one(_read):
            if not killed:
                worker = next(iter(cluster.workers.values()))
                worker.process.process.kill()  # the worker dies with pages queued on it
                killed.append(worker)

        again = run_session(
            session,
            tmp_path / "killed",
            scheduler=cluster.scheduler_address,
            progress=kill_one,
            fresh=True,
        )
    assert killed and again.read_now == 6
    assert _records(tmp_path / "killed") == _records(tmp_path / "serial")
