"""Read a stack's pages on a Dask cluster: the same page function, results back in order.

The driver (:func:`omr.pipeline.read_stack`) stays the single store writer;
the cluster's workers load each page from its path (shared storage: every
worker must see the stack at the path the driver sees), read it and send back
the read as its store row. The form and the calibration go to every
worker once. A page whose worker dies is read again on another (Dask
reschedules it, up to ``RETRIES`` more times). Needs the ``dask`` extra
(``pip install 'omr[dask]'``).
"""

from __future__ import annotations

from collections.abc import Iterator

from omr.calibration import Calibration
from omr.errors import BadArgument, OmrError
from omr.forms import Form
from omr.pages import PageRef
from omr.store import PageRow

RETRIES = 3
CONNECT_TIMEOUT_S = 30


def read_on_cluster(
    address: str, refs: list[PageRef], form: Form, calibration: Calibration, per_thread: int
) -> Iterator[PageRow]:
    """The store row of every page of ``refs``, in order, read by the cluster at ``address``.

    At most ``per_thread`` pages per worker thread are queued on the cluster
    at a time.
    """
    try:
        from distributed import Client
    except ImportError as exc:
        raise BadArgument(
            "--scheduler needs Dask: pip install 'omr[dask]' (dask[distributed])"
        ) from exc
    from omr.pipeline import bounded_map

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except OSError as exc:
        raise OmrError(f"no Dask scheduler answers at {address}: {exc}") from exc
    with client:
        threads = sum(client.nthreads().values())
        if threads == 0:
            raise OmrError(f"the Dask scheduler at {address} has no workers")
        shared = client.scatter([form, calibration], broadcast=True, hash=False)

        def submit(fn, ref):
            return client.submit(fn, ref, *shared, pure=False, retries=RETRIES)

        yield from bounded_map(submit, read_page_on_worker, refs, max(per_thread * threads, 2))


def read_page_on_worker(ref: PageRef, form: Form, calibration: Calibration) -> PageRow:
    """One page, read on a Dask worker with OpenCV on one thread (the task runs there)."""
    import cv2

    from omr.worker import read_and_serialise

    cv2.setNumThreads(1)
    return read_and_serialise(ref, form, calibration)
