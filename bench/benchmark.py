"""Benchmark: simulate a session, read it, evaluate it; record speed, memory and accuracy.

Usage::

    python bench/benchmark.py --sheets 200 --seed 1 --jobs 2 [--profile standard]

Appends one JSON line per run to ``bench/results.jsonl`` (sheets per second of
the reading stage, peak resident memory of the driver and of the worker
processes, and the evaluation figures) and prints it.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from omr.evaluate import evaluate_run  # noqa: E402
from omr.forms import find_form  # noqa: E402
from omr.pipeline import run_session  # noqa: E402
from omr.simulate import simulate_session  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--form", default="central-a4")
    parser.add_argument("--sheets", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--profile", default="standard")
    parser.add_argument("--format", default="pdf", choices=["pdf", "tiff"])
    parser.add_argument("--keep", type=Path, default=None, help="keep the session here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        session = args.keep or Path(tmp) / "session"
        started = time.perf_counter()
        simulate_session(
            find_form(args.form),
            args.sheets,
            args.seed,
            session,
            profile=args.profile,
            image_format=args.format,
            jobs=args.jobs,
        )
        simulated = time.perf_counter() - started
        summary = run_session(session, jobs=args.jobs, fresh=True)
        report = evaluate_run(session / "out", session / "truth.json")
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    record = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "form": args.form,
        "profile": args.profile,
        "format": args.format,
        "sheets": args.sheets,
        "seed": args.seed,
        "jobs": args.jobs,
        "simulate_seconds": round(simulated, 1),
        "read_seconds": round(summary.seconds, 1),
        "sheets_per_second": round(summary.sheets_per_second, 2),
        "peak_rss_driver_mib": round(peak_self),
        "peak_rss_worker_mib": round(peak_children),
        "sheets_exact": round(report["sheets_exact"], 4),
        "silent_errors": report["silent_errors"],
        "review_rate": round(report["review_rate"], 4),
        "bubble_accuracy": round(report["bubble_accuracy"], 6),
        "void_right_reason": f"{report['void_right_reason']}/{report['void_sheets']}",
    }
    line = json.dumps(record, ensure_ascii=False)
    with (ROOT / "bench" / "results.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    print(line)


if __name__ == "__main__":
    main()
