"""Reading a session: ``omr simulate``, ``run``, ``calibrate``, ``report``, ``evaluate``."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

import click

from omr.cli.base import (
    ExistingPath,
    cli,
    jobs_option,
    json_option,
    lang_option,
    out_argument,
    out_option,
    say,
    verbosity,
    wait_option,
    with_verbosity,
)
from omr.cli.progress import Progress
from omr.errors import ExitCode
from omr.session_lock import session_lock


@cli.command()
@click.option(
    "--form",
    "form_name",
    default="central-a4",
    show_default=True,
    help="Built-in form name or form .yaml file.",
)
@click.option("--sheets", type=click.IntRange(min=1), default=40, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@out_option(
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Session folder to create.",
)
@click.option(
    "--profile",
    default="standard",
    show_default=True,
    help="Mix of student and scanner behaviour: standard, clean, stress, photo, ink, "
    "ink-scanner-b, ink-photo, real-marks, demo.",
)
@click.option(
    "--format",
    "image_format",
    type=click.Choice(["pdf", "tiff"]),
    default="pdf",
    show_default=True,
    help="Container of the scanned stack.",
)
@click.option(
    "--calibration-sheet",
    is_flag=True,
    help="Instead of a session, scan one filled calibration sheet (OUT/scan.pdf, OUT/truth.json).",
)
@click.option(
    "--per-file",
    type=click.IntRange(min=1),
    default=None,
    help="Split the stack into files of at most this many sheets.",
)
@click.option(
    "--blank",
    is_flag=True,
    help="Write only OUT/blank.png: one blank sheet of the form, scanned (to try omr forms fit).",
)
@click.option(
    "--misregister",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Share of pages printed out of register (bubble fields shifted by 0.5-1.5 pitches "
    "against the marks, or a sister form's page); truth.json records each as misregistered.",
)
@click.option(
    "--reference-dpi",
    type=click.IntRange(min=72),
    default=None,
    help="Read the session with a reference-image form made from one simulated filled sheet "
    "scanned at this dpi (OUT/form/FORM-reference.yaml and .png, named in exam.yaml).",
)
@jobs_option
@with_verbosity
def simulate(
    form_name,
    sheets,
    seed,
    out,
    profile,
    image_format,
    calibration_sheet,
    per_file,
    blank,
    misregister,
    reference_dpi,
    jobs,
) -> None:
    """Make a synthetic exam session with known truth (deterministic for a seed).

    Writes OUT/scans/ (the stack), OUT/exam.yaml, OUT/roster.csv and
    OUT/truth.json.

    \b
    Example:
        omr simulate --form central-a4 --sheets 200 --seed 1 --out S
        omr simulate --profile stress --misregister 0.1 --sheets 200 --out M
        omr simulate --reference-dpi 150 --misregister 0.2 --sheets 40 --out R
    """
    from omr.forms import find_form
    from omr.simulate import PROFILES, simulate_session

    if profile not in PROFILES:
        raise click.BadParameter(f"choose one of {', '.join(PROFILES)}", param_hint="--profile")
    if blank:
        from PIL import Image

        from omr.simulate.session import scan_blank

        out.mkdir(parents=True, exist_ok=True)
        Image.fromarray(scan_blank(find_form(form_name), seed)).save(
            out / "blank.png", dpi=(200, 200)
        )
        say(f"wrote {out / 'blank.png'} (200 dpi)")
        return
    if calibration_sheet:
        from omr.calibrate import calibration_sheet as sheet_form
        from omr.simulate import simulate_calibration_scan

        simulate_calibration_scan(sheet_form(), profile, seed, out)
        say(f"wrote {out / 'scan.pdf'} and {out / 'truth.json'}")
        return
    form = find_form(form_name)
    exam_form = None
    if reference_dpi is not None:
        from omr.simulate.reference import reference_form

        path = reference_form(form, out / "form", dpi=reference_dpi, seed=seed)
        exam_form = f"form/{path.name}"
        say(f"wrote {path} (defined on one filled sheet scanned at {reference_dpi} dpi)")
    with Progress("drawing", enabled=verbosity() >= 0) as bar:
        bar.start(sheets)
        truth = simulate_session(
            form,
            sheets,
            seed,
            out,
            profile=profile,
            image_format=image_format,
            jobs=jobs or os.cpu_count() or 1,
            per_file=per_file,
            misregister=misregister,
            exam_form=exam_form,
            progress=bar.step,
        )
    statuses: dict[str, int] = {}
    for sheet in truth["sheets"].values():
        statuses[sheet["status"]] = statuses.get(sheet["status"], 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    say(f"wrote {len(truth['sheets'])} sheets to {out} ({summary})")
    misregistered = [s["misregistered"] for s in truth["sheets"].values() if s.get("misregistered")]
    if misregistered:
        kinds = Counter(m["kind"] for m in misregistered)
        say(
            f"{len(misregistered)} printed out of register: "
            + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        )


@cli.command()
@click.argument("session", type=ExistingPath(file_okay=False))
@out_option(
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: SESSION/out).",
)
@click.option(
    "--calibration",
    default="default",
    show_default=True,
    help="Scanner calibration profile: built-in name or .yaml file.",
)
@click.option("--fresh", is_flag=True, help="Read every page again, ignoring earlier reads.")
@jobs_option
@lang_option
@json_option
@with_verbosity
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Read the pages on this Dask cluster (e.g. tcp://10.0.0.5:8786) instead of local "
    "workers; every worker must see SESSION/scans at the same path. Needs omr[dask].",
)
@wait_option
def run(session, out, calibration, fresh, jobs, lang, as_json, scheduler, wait) -> None:
    """Read and score the stack in SESSION/scans under SESSION/exam.yaml.

    Writes OUT/results.csv, OUT/review.csv (sheets held for a person),
    OUT/flagged.csv (sheets counted with flags to check), the reports and the
    session store. Pages read by an earlier run are not read again. Exit
    status 10 means results were written and some sheets need a person; 7
    that another omr command was writing OUT (one writer at a time).

    \b
    Example:
        omr run samples/demo
        omr run samples/demo --lang en -o /tmp/demo-en --json
    """
    from omr.pipeline import run_session

    with Progress("reading", enabled=verbosity() >= 0) as bar:
        summary = run_session(
            session,
            out,
            calibration=calibration,
            jobs=jobs,
            fresh=fresh,
            progress=bar.step,
            on_start=bar.start,
            lang=lang,
            scheduler=scheduler,
            wait=wait,
        )
    if as_json:
        _print_json("run", summary)
    else:
        _print_summary(summary, f"{summary.sheets} sheets")
    if summary.review:
        sys.exit(int(ExitCode.review_needed))


def _print_summary(summary, head: str) -> None:
    """The closing lines of ``run`` and ``report`` (none under ``-q``)."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.statuses.items()))
    say(f"{head}: {counts}")
    if summary.read_now:
        say(
            f"read {summary.read_now} page(s) in {summary.seconds:.1f} s "
            f"({summary.sheets_per_second:.1f} sheets/s)"
        )
    key = _key_in_force(summary.out_dir)
    if key is not None:
        when = key.at[:16].replace("T", " ")
        say(f"scored with key v{key.version} ({when}, {key.by}: {key.why})")
    say(f"results: {summary.out_dir / 'results.csv'}")
    if summary.without_colour:
        say(
            f"note: {summary.without_colour} sheet(s) have no usable colour (grey or 1-bit scans, "
            "or JPEG compressed below quality 45), where pencil cannot be told from ink "
            "(article 7.7): their marks' medium is 'unknown'. Scan in colour to check it."
        )
    for note in summary.notes:
        say(f"note: {note}")
    if summary.flagged:
        say(
            f"{summary.flagged} sheet(s) counted with flags for a person to check: "
            f"{summary.out_dir / 'flagged.csv'}"
        )
    if summary.review:
        say(f"{summary.review} sheet(s) need a person: {summary.out_dir / 'review.csv'}")


def _key_in_force(out: Path):
    """The key version the results in ``out`` were scored with (None before any scoring)."""
    from omr.store import STORE_NAME, Store
    from omr.workflow.keys import versions

    path = out / STORE_NAME
    if not path.is_file():
        return None
    with Store(path) as store:
        found = versions(store)
    return found[-1] if found else None


def _print_json(command: str, summary, **extra) -> None:
    """The closing summary as one JSON object on stdout (``extra`` keys added)."""
    from omr.export import POSTED_FILES

    out = summary.out_dir
    status = ExitCode.review_needed if summary.review else ExitCode.ok
    data = {
        "command": command,
        "out": str(out),
        "sheets": summary.sheets,
        "statuses": dict(sorted(summary.statuses.items())),
        "review": summary.review,
        "flagged": summary.flagged,
        "read_now": summary.read_now,
        "seconds": round(summary.seconds, 3),
        "without_colour": summary.without_colour,
        "notes": list(summary.notes),
        "key_version": key.version if (key := _key_in_force(out)) else None,
        "files": {name: str(out / name) for name in POSTED_FILES if (out / name).is_file()},
        "exit_status": int(status),
        **extra,
    }
    click.echo(json.dumps(data, ensure_ascii=False, indent=1))


@cli.command()
@click.argument("scans", nargs=-1, required=True, type=ExistingPath())
@out_option(
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Profile to write, e.g. calibration/scanner-b.yaml.",
)
@click.option("--name", default=None, help="Profile name (default: the file's stem).")
def calibrate(scans, out, name) -> None:
    """Fit a scanner profile from scans of the calibration sheet.

    Print the sheet with 'omr forms render calibration/calibration-sheet.yaml',
    fill each block with the pen it names, scan it on the scanner to profile
    (in colour), then fit. Use the profile with 'omr run --calibration NAME'.

    \b
    Example:
        omr calibrate scans/calib.pdf --out calibration/scanner-b.yaml
    """
    from omr.calibrate import fit_calibration, write_calibration

    profile = fit_calibration(list(scans), name or out.stem)
    write_calibration(profile, out)
    click.echo(f"wrote {out}: {profile.description}")
    click.echo(
        f"marks: empty below {profile.marks.empty_floor}, marked above {profile.marks.mark_floor}; "
        f"ink: saturation above {profile.ink.saturation_max}, black pen density above "
        f"{profile.ink.black_density_min}"
    )


@cli.command()
@out_argument
@click.option(
    "--session",
    "session_root",
    type=ExistingPath(file_okay=False),
    default=None,
    help="Session folder whose exam.yaml to use (default: OUT's parent if it has one, "
    "else the session the run read).",
)
@click.option(
    "--internal",
    is_flag=True,
    help="Also write OUT/internal/results-internal.csv and .xlsx with full national IDs, "
    "roster names, hall and seat (personal data: needs --by and --why; recorded in the "
    "audit log).",
)
@click.option(
    "--internal-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the internal export (default OUT/internal).",
)
@click.option("--by", default="", help="Who asks for the internal export.")
@click.option("--why", default="", help="Why the full identity is needed (audit log).")
@lang_option
@json_option
@wait_option
@with_verbosity
def report(out, session_root, internal, internal_dir, by, why, lang, as_json, wait) -> None:
    """Rescore the reads stored in OUT and rewrite every report, without reading scans.

    Use it after changing exam.yaml: a cancelled question, an accepted second
    answer or a corrected key rescores everyone. Posted files mask national
    IDs and carry no names; --internal adds files with the full identity.
    Exit status 10 while sheets are held for a person, as for 'omr run'.

    \b
    Example:
        omr report samples/demo/out
        omr report samples/demo/out --lang en --json
        omr report samples/demo/out --internal --by "A. Yılmaz" --why "registry match"
    """
    from omr.pipeline import rebuild_reports
    from omr.workflow.audit import check_person

    if internal:
        check_person(by, why)  # refuse before anything is written
    elif internal_dir or by or why:
        raise click.UsageError("--internal-dir, --by and --why go with --internal")
    extra = {}
    with session_lock(out, wait=wait):  # one writer at a time (exit 7 after --wait)
        summary = rebuild_reports(out, session_root, lang=lang)
        if internal:
            from omr.workflow.internal_export import write_internal_export

            path, count = write_internal_export(
                out, by=by, why=why, dest=internal_dir, session_root=session_root
            )
            extra["internal"] = str(path)
    if as_json:
        _print_json("report", summary, **extra)
    else:
        _print_summary(summary, f"{summary.sheets} sheets rescored")
        say(f"reports rewritten in {summary.out_dir}")
        if internal:
            say(
                f"internal export (full identity, do not post): {path}, {count} rows; "
                "recorded in the audit log"
            )
    if summary.review:
        sys.exit(int(ExitCode.review_needed))


@cli.command()
@out_argument
@click.option(
    "--truth",
    type=ExistingPath(dir_okay=False),
    required=True,
    help="truth.json written by 'omr simulate'.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def evaluate(out, truth, as_json) -> None:
    """Compare the run in OUT with the simulator's truth.

    Exit status 8 if any item was read wrong without being sent to review, or a page
    the truth records as printed out of register was scored (misregistered-scored).

    \b
    Example:
        omr evaluate S/out --truth S/truth.json
    """
    from omr.evaluate import evaluate_run

    report = evaluate_run(out, truth)
    if as_json:
        click.echo(json.dumps(report, indent=1, ensure_ascii=False))
    else:
        _print_evaluation(report)
    if report["silent_errors"]:
        sys.exit(int(ExitCode.silent_errors))


def _print_evaluation(r: dict) -> None:
    click.echo(f"sheets              {r['sheets']}")
    click.echo(f"sheets read exactly {r['sheets_exact_count']} ({r['sheets_exact']:.2%})")
    click.echo(f"sheets in review    {r['review_sheets']} ({r['review_rate']:.2%})")
    click.echo(f"silent errors       {r['silent_errors']}")
    m = r["misregistered"]
    if m["pages"]:
        click.echo(
            f"misregistered       {m['scored']} of {m['pages']} pages printed out of register "
            f"scored (silent: misregistered-scored), {m['review']} in review, "
            f"{m['refused']} refused"
        )
        for kind, row in m["by_kind"].items():
            click.echo(
                f"  {kind:<17} scored {row['scored']}, review {row['review']}, "
                f"refused {row['refused']}"
            )
    click.echo(
        f"bubbles             {r['bubble_accuracy']:.4%} right of "
        f"{r['bubbles'] - r['bubbles_unsure']} decided, {r['bubbles_unsure']} unsure"
    )
    click.echo(
        f"questions           {r['question_accuracy']:.4%} right of {r['questions']}, "
        f"{r['questions_unsure']} unsure"
    )
    click.echo(f"void sheets         {r['void_right_reason']} of {r['void_sheets']} right reason")
    g = r["group_suspect"]
    click.echo(
        f"wrong-group check   {g['miscoded_flagged']} of {g['miscoded']} mis-coded sheets flagged, "
        f"{g['honest_flagged']} of {g['honest']} honest ones"
    )
    if r["lost_marks"]:
        click.echo(f"marks the scan lost {r['lost_marks']} (wiped out by a 1-bit threshold)")
    odd = r["odd_reads"]
    if odd["items"]:
        click.echo(
            f"read from odd marks {odd['right']} of {odd['items']} right "
            "(a circled option, a dot or a light tick alone in its question)"
        )
    click.echo(
        "bubbles (truth -> read): "
        + ", ".join(f"{k} {v}" for k, v in r["bubble_confusion"].items())
    )
    if r["review_reasons"]:
        click.echo(
            "sheets in review by reason: "
            + ", ".join(f"{k} {v}" for k, v in r["review_reasons"].items())
        )
        click.echo(
            "items in review by reason: "
            + ", ".join(f"{k} {v}" for k, v in r["review_items"].items())
        )
    click.echo("status (truth -> read):")
    for s in r["statuses"]:
        click.echo(f"  {s['truth']:<22} -> {s['read']:<28} {s['sheets']}")
    for e in m["scored_pages"][:20]:
        click.echo(
            f"  misregistered-scored {e['sheet']} ({e['kind']}, {e['pitches']:+g} pitch "
            f"along {e['axis']}): {e['status']}"
        )
    for e in r["errors"][:20]:
        click.echo(f"  error {e['sheet']} {e['where']}: read {e['read']!r}, truth {e['truth']!r}")
    if r["missing_sheets"]:
        click.echo(f"missing sheets: {', '.join(r['missing_sheets'][:20])}")
