"""Decompression bombs and absurd pages among ten good sheets, through the whole command in
a subprocess: each refused as oversized with a reason, the good sheets read right, and the
run's peak memory (ru_maxrss of the process and its workers) under 1 GiB."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from hostile import files

from omr.errors import ExitCode
from omr.evaluate import evaluate_run
from omr.forms import find_form
from omr.simulate import simulate_session

REPO = Path(__file__).resolve().parents[1]
PEAK_LIMIT_KB = 1024 * 1024  # 1 GiB

# The command as a user runs it, reporting its own and its workers' peak resident memory.
RUNNER = """
import resource, sys
sys.argv = ["omr", *sys.argv[1:]]
from omr.cli import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
peak = max(resource.getrusage(who).ru_maxrss
           for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
print(f"PEAK_KB {peak}", file=sys.stderr)
sys.exit(code)
"""

BOMBS = {
    "bomb-1bit.png": lambda: files.png_bomb(30_000, 30_000),
    "bomb-15k.png": lambda: files.png_bomb(15_000, 15_000),
    "bomb.tif": lambda: files.tiff([files.tiff_bomb_page(30_000, 30_000)]),
    "bomb-scan.pdf": lambda: files.pdf_image_bomb(30_000, 30_000),
    "huge-page.pdf": lambda: files.pdf([files.PdfPage((14_400, 14_400))]),
}


def run_measured(args: list[str], cwd: Path) -> tuple[int, int, str]:
    """Run ``omr ARGS`` in a fresh interpreter: exit code, peak RSS in KB, output."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    peak = [line for line in done.stderr.splitlines() if line.startswith("PEAK_KB ")]
    assert peak, done.stderr
    return done.returncode, int(peak[-1].split()[1]), done.stdout + done.stderr


def test_bombs_are_refused_under_1_gib_while_ten_good_sheets_are_read(tmp_path):
    root = tmp_path / "session"
    simulate_session(find_form("quiz-a5"), 10, 5, root, profile="clean", jobs=1)
    scans = root / "scans"
    for name, make in BOMBS.items():
        (scans / name).write_bytes(make())
    good = [files.tiff_page(files.sheet_grey(v)) for v in (200, 210)]
    tall = [good[0], files.tiff_bomb_page(50_000, 50_000), good[1]]
    (scans / "tall.tif").write_bytes(files.tiff(tall))

    code, peak_kb, output = run_measured(["run", str(root), "--jobs", "2"], tmp_path)

    assert code == ExitCode.review_needed, output
    print(f"peak RSS {peak_kb / 1024:.0f} MiB")
    assert peak_kb < PEAK_LIMIT_KB, f"peak RSS {peak_kb / 1024:.0f} MiB"
    report = evaluate_run(root / "out", root / "truth.json")
    assert report["sheets"] == 10 and report["sheets_exact_count"] == 10
    assert report["silent_errors"] == 0
    with (root / "out" / "review.csv").open(encoding="utf-8", newline="") as fh:
        review = {row["sheet"]: row for row in csv.DictReader(fh)}
    refused = [f"{name}:1" for name in BOMBS] + ["tall.tif:2"]
    for sheet in refused:
        assert review[sheet]["status"] == "review:unreadable-page"
        assert "oversized" in review[sheet]["detail"], review[sheet]
    assert {"tall.tif:1", "tall.tif:3"} <= set(review)  # read, and blank: not lost
