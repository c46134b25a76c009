"""Multiprocessing's resource tracker, ended with the pool that started it.

A process pool starts the tracker as this process's child (its queues'
semaphores register with it, before any worker starts); left alone it ends
only after this process has exited, then lives on as an orphan in the
process group until init reaps it (1-1.5 s on this machine, seen as a
zombie with ps).
"""

from __future__ import annotations

import gc
from contextlib import suppress
from multiprocessing import resource_tracker


def tracker_running() -> bool:
    """Whether this process has a resource tracker now."""
    return resource_tracker._resource_tracker._pid is not None


def stop_resource_tracker() -> None:
    """End the resource tracker and wait for it, once the pool is gone.

    Only after a pool that finished: while an error or a signal unwinds, its
    frames still hold the pool's queues, whose semaphores would then
    unregister with a new tracker that never knew them (a KeyError traceback
    on stderr); the tracker ends by itself as this process exits. A later
    pool starts a new one.
    """
    gc.collect()  # the pool's queues unregister their semaphores first
    stop = getattr(resource_tracker._resource_tracker, "_stop", None)  # Python >= 3.11.5
    if stop is not None:
        with suppress(ChildProcessError, OSError):
            stop()
