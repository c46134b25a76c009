"""Accuracy of reading with a definition made by `omr forms fit`, on the three test designs.

For each design in ``tests/designs.py``: scan it blank, fit it, name its
fields, simulate a stack printed on the design (with the chosen profile), read
the stack with the fitted file and evaluate against the truth. Appends one
line per design to ``bench/results.jsonl``.

    python bench/forms_fit.py --sheets 200 --seed 4 --profile standard
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from designs import DESIGNS  # noqa: E402
from fithelpers import session_on_fitted_form  # noqa: E402

from omr.evaluate import evaluate_run  # noqa: E402
from omr.pipeline import run_session  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=int, default=200)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--profile", default="standard")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--designs", nargs="*", default=list(DESIGNS))
    args = parser.parse_args()
    for name in args.designs:
        with tempfile.TemporaryDirectory() as tmp:
            session = session_on_fitted_form(
                Path(tmp), name, args.sheets, args.seed, profile=args.profile, jobs=args.jobs
            )
            start = time.perf_counter()
            run_session(session, jobs=args.jobs)
            seconds = time.perf_counter() - start
            report = evaluate_run(session / "out", session / "truth.json")
        line = {
            "bench": "forms-fit",
            "design": name,
            "profile": args.profile,
            "sheets": args.sheets,
            "seed": args.seed,
            "exact": round(report["sheets_exact"], 4),
            "review": round(report["review_rate"], 4),
            "silent_errors": report["silent_errors"],
            "review_reasons": report["review_reasons"],
            "lost_marks": report["lost_marks"],
            "sheets_per_s": round(args.sheets / seconds, 2),
        }
        print(json.dumps(line))
        with (ROOT / "bench" / "results.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
