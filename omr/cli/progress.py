"""The progress bar of long commands (``omr run``, ``omr simulate``): tqdm, on stderr.

Shown only when stderr is a terminal and ``-q`` was not given, so logs and
pipes stay clean. The time left is estimated from a moving rate over the
last pages, counted from the first page done (the workers' start-up is not
a page), and shown only once a few pages are done: an average from the start
would read a worker start-up of seconds as a slow rate and promise a quarter
of an hour for a run of a minute.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Sequence

from tqdm import tqdm

#: Pages done (after the first) before the time left is shown.
ETA_AFTER = 3
#: Pages the moving rate is measured over.
ETA_WINDOW = 20


def eta_seconds(times: Sequence[float], done: int, total: int) -> float | None:
    """Seconds left, from the moving rate over ``times`` (when each of the last pages was done).

    Parameters
    ----------
    times : sequence of float
        Monotonic clock readings of the last pages done, oldest first (at
        most :data:`ETA_WINDOW` of them; the first page done starts the clock).
    done, total : int
        Pages done so far and pages in the run.

    Returns
    -------
    float or None
        None until :data:`ETA_AFTER` intervals were seen, or when the clock did
        not move; else the pages left times the mean time per page in the window.
    """
    intervals = len(times) - 1
    if intervals < ETA_AFTER or times[-1] <= times[0]:
        return None
    per_page = (times[-1] - times[0]) / intervals
    return max(0, total - done) * per_page


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class Progress:
    """A bar over ``total`` steps; ``step()`` after each. Silent when not on a terminal.

    Use as a context manager; ``enabled`` False (``-q``, or stderr not a terminal)
    draws nothing.
    """

    def __init__(
        self,
        label: str,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        file=None,
    ) -> None:
        self.label = label
        self.file = file or sys.stderr
        self.enabled = enabled and _is_terminal(self.file)
        self.clock = clock
        self.times: deque[float] = deque(maxlen=ETA_WINDOW + 1)
        self.total = 0
        self.done = 0
        self.bar: tqdm | None = None

    def start(self, total: int) -> None:
        """Begin a bar of ``total`` steps."""
        self.total = total
        if self.enabled and total:
            self.bar = tqdm(
                total=total,
                desc=self.label,
                file=self.file,
                unit="page",
                dynamic_ncols=True,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                "[{elapsed}{postfix}]",
            )

    def step(self, *_args) -> None:
        """One step done."""
        self.done += 1
        self.times.append(self.clock())
        if self.bar is None:
            return
        eta = eta_seconds(list(self.times), self.done, self.total)
        self.bar.set_postfix_str(f"{_clock(eta)} left" if eta is not None else "", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _is_terminal(file) -> bool:
    try:
        return file.isatty()
    except (AttributeError, ValueError):
        return False
