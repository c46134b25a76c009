"""Drive Debian's headless Chromium from tests: dump a page's DOM, take a screenshot.

Chromium runs with the flags this machine needs (no sandbox as root, no GPU, and no
background networking, whose connections the closed network refuses), a fresh
profile in a temporary folder, and its log on stderr, where every message the page
writes to the console appears as an ``INFO:CONSOLE`` line. Every run has a timeout.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: Seconds a single Chromium run may take before the test fails.
TIMEOUT = 60

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)


@dataclass(frozen=True)
class Run:
    """What one Chromium run printed: ``stdout`` (the DOM for ``--dump-dom``) and ``stderr``."""

    stdout: str
    stderr: str

    def console(self) -> list[str]:
        """Lines the page wrote to the console, uncaught errors and CSP violations included."""
        return [
            line for line in self.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line
        ]


def chromium() -> str | None:
    """Path of the Chromium executable, or None when it is not installed."""
    return shutil.which("chromium")


def run_chromium(url: str, *args: str, timeout: float = TIMEOUT) -> Run:
    """Run headless Chromium on ``url`` with extra ``args``; raise if it fails or hangs."""
    exe = chromium()
    if exe is None:
        raise FileNotFoundError("chromium is not installed")
    # A session of its own, so that a hung run is ended with all its helper processes.
    with (
        tempfile.TemporaryDirectory(prefix="omr-chromium-", ignore_cleanup_errors=True) as profile,
        subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={profile}", *args, url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        ) as proc,
    ):
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    if proc.returncode != 0:
        raise RuntimeError(f"chromium exited with {proc.returncode}:\n{stderr[-3000:]}")
    return Run(stdout, stderr)


def dump_dom(page: Path, *, timeout: float = TIMEOUT) -> Run:
    """Load the file ``page`` and return the DOM as serialised after loading."""
    return run_chromium(page.resolve().as_uri(), "--dump-dom", timeout=timeout)


def screenshot(
    page: Path, png: Path, *, size: tuple[int, int] = (1280, 2000), timeout: float = TIMEOUT
) -> Run:
    """Load the file ``page`` and save a ``size`` (width, height) screenshot to ``png``."""
    return run_chromium(
        page.resolve().as_uri(),
        f"--screenshot={png.resolve()}",
        f"--window-size={size[0]},{size[1]}",
        timeout=timeout,
    )
