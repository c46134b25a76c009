"""Benchmark: CPU per sheet and per stage of ``omr run``, by input kind; memory; accuracy.

Usage::

    python bench/benchmark.py --sheets 200 --dpi 200 --kinds pdf,tiff-g4,jpeg [--jobs 1]
        [--profile standard] [--keep DIR] [--json OUT.json] [--markdown]

Simulates one central-a4 session (``omr simulate``'s code, every sheet at
``--dpi``), writes its pages as each input kind asked for (``pdf``: the
simulated stack of scanned JPEG pages; ``tiff-grey``: one multi-page LZW
TIFF; ``tiff-g4``: one multi-page CCITT group-4 TIFF, thresholded at 128;
``jpeg``: a folder of the scanner's JPEG files as they are; ``png``: a
folder of PNG files), then reads each with ``run_session(fresh=True)`` in a
fresh process and reports, per kind: CPU ms per sheet (user + sys of the
whole process and its workers, the read and the exports), per stage
(decode, register, measure, decide, medium, store write, store read, score,
reports: :mod:`omr.stages`, with ``--jobs 1`` only, where the stages run in
the process), the decode floor (the pipeline's own page loading, the
``decode`` stage) and the ratio to it, peak RSS, sheets/s, and the
evaluation against the truth. Prints one JSON line per kind and appends it
to ``bench/results.jsonl``; ``--json`` writes them all to a file,
``--markdown`` prints a table.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = ("pdf", "tiff-grey", "tiff-g4", "jpeg", "png")
STAGES = (
    "decode",
    "register",
    "measure",
    "decide",
    "medium",
    "store write",
    "store read",
    "score",
    "reports",
)


def simulate(session: Path, *, form: str, sheets: int, seed: int, dpi: int, profile: str) -> None:
    """Simulate a session at one resolution (the profile's scanner otherwise)."""
    from omr.forms import find_form
    from omr.simulate import simulate_session
    from omr.simulate.profile import PROFILES

    prof = dataclasses.replace(PROFILES[profile], dpi_choices=(dpi,), dpi_weights=(1.0,))
    simulate_session(find_form(form), sheets, seed, session, profile=prof, jobs=1)


def write_kind(base: Path, kind: str, out: Path) -> None:
    """``out``: the session ``base`` with its stack written as ``kind``."""
    import pypdfium2 as pdfium
    from PIL import Image, TiffImagePlugin

    if out.is_dir():
        return
    part = out.with_name(out.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    shutil.copytree(base, part, ignore=shutil.ignore_patterns("scans", "out"))
    scans = part / "scans"
    scans.mkdir()
    pdfs = sorted((base / "scans").glob("*.pdf"))
    if kind == "pdf":
        for pdf in pdfs:
            shutil.copy(pdf, scans / pdf.name)
        part.rename(out)
        return
    tiff = writer = None
    ids: dict[str, str] = {}  # the simulated stack's sheet ids -> this kind's
    for pdf in pdfs:
        doc = pdfium.PdfDocument(pdf)
        for i in range(len(doc)):
            (image,) = list(doc[i].get_objects(max_depth=1))
            jpeg = bytes(image.get_data(decode_simple=False))
            dpi = round(image.get_metadata().width / (doc[i].get_size()[0] / 72))
            name = f"{pdf.stem}-{i + 1:05d}"
            suffix = {"jpeg": ".jpg", "png": ".png"}.get(kind)
            ids[f"{pdf.name}:{i + 1}"] = (
                f"{name}{suffix}:1" if suffix else f"stack.tif:{len(ids) + 1}"
            )
            if kind == "jpeg":
                with Image.open(io.BytesIO(jpeg)) as im:
                    im.save(scans / f"{name}.jpg", quality="keep", dpi=(dpi, dpi))
                continue
            with Image.open(io.BytesIO(jpeg)) as im:
                im.load()
                page = im.convert("L") if kind != "png" else im.copy()
            if kind == "png":
                page.save(scans / f"{name}.png", dpi=(dpi, dpi))
                continue
            if kind == "tiff-g4":
                page = page.point(lambda v: 255 if v >= 128 else 0, mode="1")
            compression = "group4" if kind == "tiff-g4" else "tiff_lzw"
            if writer is None:
                tiff = (scans / "stack.tif").open("w+b")
                writer = TiffImagePlugin.AppendingTiffWriter(tiff, new=True)
            page.save(writer, format="TIFF", dpi=(dpi, dpi), compression=compression)
            writer.newFrame()
        doc.close()
    if writer is not None:
        writer.close()
        tiff.close()
    truth = json.loads((part / "truth.json").read_text(encoding="utf-8"))
    truth["sheets"] = {ids[k]: v for k, v in truth["sheets"].items()}
    (part / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    part.rename(out)


def run_one(session: Path, jobs: int) -> dict:
    """Read ``session`` afresh in this process; CPU, stages and memory as plain data."""
    from omr import stages
    from omr.evaluate import evaluate_run
    from omr.pipeline import run_session

    shutil.rmtree(session / "out", ignore_errors=True)
    before = _cpu()
    stages.start()
    summary = run_session(session, jobs=jobs, fresh=True)
    per_stage = stages.stop()
    cpu = _cpu() - before
    report = evaluate_run(session / "out", session / "truth.json")
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "sheets": summary.sheets,
        "cpu_s": cpu,
        "read_seconds": summary.seconds,
        "stages_s": dict(per_stage) if jobs == 1 else {},
        "peak_rss_mib": round(max(self_rss, child_rss)),
        "peak_rss_driver_mib": round(self_rss),
        "sheets_exact": round(report["sheets_exact"], 4),
        "silent_errors": report["silent_errors"],
        "review_rate": round(report["review_rate"], 4),
        "bubble_accuracy": round(report["bubble_accuracy"], 6),
    }


def _cpu() -> float:
    """User + sys CPU seconds of this process and its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def record(kind: str, args, result: dict) -> dict:
    """The JSON line of one kind's run."""
    n = max(result["sheets"], 1)
    per_stage = {s: round(1000 * result["stages_s"].get(s, 0.0) / n, 1) for s in STAGES}
    if result["stages_s"]:
        counted = sum(result["stages_s"].values())
        per_stage["other"] = round(1000 * (result["cpu_s"] - counted) / n, 1)
    cpu_ms = 1000 * result["cpu_s"] / n
    floor = per_stage.get("decode", 0.0)
    return {
        "bench": "stages",
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "form": args.form,
        "profile": args.profile,
        "kind": kind,
        "dpi": args.dpi,
        "sheets": result["sheets"],
        "seed": args.seed,
        "jobs": args.jobs,
        "cpu_ms_per_sheet": round(cpu_ms, 1),
        "decode_floor_ms": floor if result["stages_s"] else None,
        "ratio_to_floor": round(cpu_ms / floor, 2) if result["stages_s"] and floor else None,
        "stages_ms_per_sheet": per_stage if result["stages_s"] else {},
        "sheets_per_second": round(result["sheets"] / result["read_seconds"], 2),
        "peak_rss_mib": result["peak_rss_mib"],
        "peak_rss_driver_mib": result["peak_rss_driver_mib"],
        "sheets_exact": result["sheets_exact"],
        "silent_errors": result["silent_errors"],
        "review_rate": result["review_rate"],
        "bubble_accuracy": result["bubble_accuracy"],
    }


def markdown(records: list[dict]) -> str:
    """A table: one row per kind, CPU ms per sheet in all and per stage."""
    stages = [s for s in (*STAGES, "other") if any(s in r["stages_ms_per_sheet"] for r in records)]
    head = ["input", "CPU ms/sheet", "× decode", *stages, "peak RSS MiB", "silent errors"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in records:
        ratio = f"{r['ratio_to_floor']:.1f}" if r["ratio_to_floor"] else "–"
        cells = [
            r["kind"],
            f"{r['cpu_ms_per_sheet']:.0f}",
            ratio,
            *(f"{r['stages_ms_per_sheet'].get(s, 0):.1f}" for s in stages),
            str(r["peak_rss_mib"]),
            str(r["silent_errors"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--form", default="central-a4")
    parser.add_argument("--sheets", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--profile", default="standard")
    parser.add_argument("--kinds", default="pdf", help=f"comma-separated, of {', '.join(KINDS)}")
    parser.add_argument("--keep", type=Path, default=None, help="keep (and reuse) sessions here")
    parser.add_argument("--json", type=Path, default=None, help="write the records here")
    parser.add_argument("--markdown", action="store_true", help="print a table too")
    parser.add_argument("--run-one", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one is not None:
        print(json.dumps(run_one(args.run_one, args.jobs)))
        return
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        parser.error(f"unknown kind(s): {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp)
        tag = f"{args.form}-{args.profile}-{args.dpi}dpi-{args.sheets}-s{args.seed}"
        base = where / tag / "base"
        if not (base / "truth.json").is_file():
            simulate(
                base,
                form=args.form,
                sheets=args.sheets,
                seed=args.seed,
                dpi=args.dpi,
                profile=args.profile,
            )
        records = []
        for kind in kinds:
            session = where / tag / kind
            write_kind(base, kind, session)
            command = [sys.executable, __file__, "--run-one", str(session), "--jobs"]
            done = subprocess.run(
                [*command, str(args.jobs)], check=True, capture_output=True, text=True
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            line = record(kind, args, result)
            records.append(line)
            print(json.dumps(line, ensure_ascii=False), flush=True)
            with (ROOT / "bench" / "results.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    if args.json is not None:
        args.json.write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n")
    if args.markdown:
        print(markdown(records))


if __name__ == "__main__":
    main()
