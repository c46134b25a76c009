"""The ``omr`` command: a thin click layer over the library.

Library functions raise :class:`omr.errors.OmrError`; this layer prints the
message and exits with the error's code.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

import click

from omr.errors import ExitCode, OmrError


class OmrGroup(click.Group):
    """A click group that turns library errors into messages and exit codes."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OmrError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(int(exc.exit_code))
        except KeyboardInterrupt:
            click.echo("interrupted: pages read so far are kept; run again to resume", err=True)
            ctx.exit(int(ExitCode.ctrl_c))


@click.group(cls=OmrGroup)
@click.version_option(package_name="omr")
def cli() -> None:
    """Read scanned optical answer sheets, score them under the exam rules, report.

    \b
    Example:
        omr simulate --form central-a4 --sheets 40 --seed 1 --out S
        omr run S
        omr evaluate S/out --truth S/truth.json
    """


jobs_option = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: one per CPU core).",
)


@cli.group()
def forms() -> None:
    """Answer-sheet form definitions: list and render them."""


@forms.command("list")
def forms_list() -> None:
    """List the built-in forms.

    \b
    Example:
        omr forms list
    """
    from omr.forms import builtin_forms, load_form

    for name, path in builtin_forms().items():
        form = load_form(path)
        blocks = ", ".join(
            f"{b}: {blk.questions}×{len(blk.options)}" for b, blk in form.answer_blocks.items()
        )
        click.echo(
            f"{name:<14} {form.page.width:g}×{form.page.height:g} mm  "
            f"groups {''.join(form.group.options) if form.group else '-'}  "
            f"{len(form.layout)} bubbles  [{blocks}]"
        )


@forms.command("render")
@click.argument("form")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the PDF.",
)
def forms_render(form: str, output: Path) -> None:
    """Render FORM (a built-in name or a .yaml file) as a printable vector PDF.

    \b
    Example:
        omr forms render central-a4 -o sheet.pdf
    """
    from omr.forms import find_form
    from omr.render import render_form_pdf

    output.write_bytes(render_form_pdf(find_form(form)))
    click.echo(f"wrote {output}")


@forms.command("check")
@click.argument("form")
@click.argument("scan", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Overlay PNG to write (default: SCAN's name with .check.png).",
)
def forms_check(form: str, scan: Path, output: Path | None) -> None:
    """Check a form definition on a scan: registration error in mm and an overlay image.

    The overlay draws every bubble of FORM (green) and its registration marks
    (red) where the reader will look for them on the first page of SCAN.

    \b
    Example:
        omr forms check central-a4 scans/stack.pdf -o check.png
    """
    from omr.forms import find_form
    from omr.pipeline import check_form_on_scan

    result = check_form_on_scan(find_form(form), scan)
    out = output or scan.with_suffix(".check.png")
    out.write_bytes(result.png)
    if not result.ok:
        click.echo(f"not registered: {result.message}")
        for name, (fit, margin) in result.fields.items():
            click.echo(f"  {name:<16} outline fit {fit:.2f}  proof margin {_margin(margin)}")
        drawn = (
            "the form drawn where the fit put it" if result.fields else "the page, nothing drawn"
        )
        click.echo(f"wrote {out} ({drawn})")
        sys.exit(int(ExitCode.review_needed))
    r = result.registration
    if r.get("proven"):
        how = f"proven by the printed outlines (margin {r['proof_margin']:.2f})"
    else:
        how = "taken on the marks alone: the printed outlines are too faint to prove it"
    click.echo(
        f"registered: {r['marks_found']} of {r['marks_expected']} marks, "
        f"misfit {r['residual_mm']} mm, turned {r['rotation_deg']} degrees; {how}"
    )
    for name, (fit, margin) in result.fields.items():
        click.echo(f"  {name:<16} outline fit {fit:.2f}  proof margin {_margin(margin)}")
    for note in result.notes:
        click.echo(f"note: {note}")
    click.echo(f"wrote {out}")


def _margin(value: float) -> str:
    """A proof margin as shown, or "-" for a field with too few bubbles to be tested alone."""
    return "-" if value != value else f"{value:.2f}"


@forms.command("fit")
@click.argument("scan", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Form file to write (e.g. forms/dept-quiz.yaml); the overlay goes beside it.",
)
@click.option(
    "--name", default=None, help="Form name (default: the file's stem, made a valid name)."
)
@click.option("--dpi", type=float, default=None, help="Resolution, when the image lacks it.")
def forms_fit(scan: Path, out: Path, name: str | None, dpi: float | None) -> None:
    """Propose a form definition from a scan of the sheet (blank or filled).

    Finds the printed bubbles and groups them into grids, finds the registration
    (corner marks, a timing track, or none: then the straightened scan is saved
    beside the form as its reference image), guesses each grid's role and
    writes the form file with an overlay PNG. Check the overlay, then name the
    fields (group, identity grids, answer blocks by course) in the file.

    \b
    Example:
        omr forms fit blank.pdf --out forms/dept-quiz.yaml
    """
    import cv2

    from omr.formfit import form_name
    from omr.pipeline import fit_form_on_scan

    name = name or form_name(out.stem)
    result = fit_form_on_scan(scan, name, dpi=dpi)
    proposal = result.proposal
    out.parent.mkdir(parents=True, exist_ok=True)
    overlay_path = out.with_suffix(".fit.png")
    overlay_path.write_bytes(result.png)
    if result.refusal is not None:
        click.echo(f"wrote {overlay_path} (what was found: nothing to make a form of)")
        raise result.refusal
    out.write_text(proposal.yaml_text(), encoding="utf-8")
    reg = proposal.data.get("registration", {})
    if reg.get("kind") == "reference-image":
        cv2.imwrite(str(out.parent / reg["image"]), proposal.page)
        click.echo(
            f"no marks found: aligning on the scan itself, saved as {out.parent / reg['image']}"
        )
    elif reg:
        click.echo(
            f"registration: {reg['kind']}" + (f" ({reg['shape']})" if "shape" in reg else "")
        )
    click.echo(f"straightened by {proposal.skew_deg:.2f} degrees")
    for f in proposal.fields:
        click.echo(f"  {f.section + '.' + f.name:<28} {f.describe()}")
    for note in proposal.notes:
        click.echo(f"note: {note}")
    click.echo(f"wrote {out} and {overlay_path}")
    if result.problems:
        click.echo(
            f"the proposed form does not validate yet ({len(result.problems)} problem(s)); "
            f"fix them in {out}, then run: omr forms check {out} SCAN"
        )
        for where, what in result.problems:
            click.echo(f"problem: {where}: {what}" if where else f"problem: {what}")
        sys.exit(int(ExitCode.invalid_form))


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
@click.option(
    "--out",
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
        click.echo(f"wrote {out / 'blank.png'} (200 dpi)")
        return
    if calibration_sheet:
        from omr.calibrate import calibration_sheet as sheet_form
        from omr.simulate import simulate_calibration_scan

        simulate_calibration_scan(sheet_form(), profile, seed, out)
        click.echo(f"wrote {out / 'scan.pdf'} and {out / 'truth.json'}")
        return
    form = find_form(form_name)
    exam_form = None
    if reference_dpi is not None:
        from omr.simulate.reference import reference_form

        path = reference_form(form, out / "form", dpi=reference_dpi, seed=seed)
        exam_form = f"form/{path.name}"
        click.echo(f"wrote {path} (defined on one filled sheet scanned at {reference_dpi} dpi)")
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
    )
    statuses: dict[str, int] = {}
    for sheet in truth["sheets"].values():
        statuses[sheet["status"]] = statuses.get(sheet["status"], 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
    click.echo(f"wrote {len(truth['sheets'])} sheets to {out} ({summary})")
    misregistered = [s["misregistered"] for s in truth["sheets"].values() if s.get("misregistered")]
    if misregistered:
        kinds = Counter(m["kind"] for m in misregistered)
        click.echo(
            f"{len(misregistered)} printed out of register: "
            + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        )


@cli.command()
@click.argument("session", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
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
def run(session, out, calibration, fresh, jobs) -> None:
    """Read and score the stack in SESSION/scans under SESSION/exam.yaml.

    Writes OUT/results.csv, OUT/review.csv (sheets held for a person),
    OUT/flagged.csv (sheets counted with flags to check), the reports and the
    session store. Pages read by an earlier run are not read again. Exit
    status 10 means results were written and some sheets need a person.

    \b
    Example:
        omr run samples/demo
    """
    from omr.pipeline import run_session

    bar = {}

    def start(total: int) -> None:
        bar["bar"] = click.progressbar(length=total, label="reading", file=sys.stderr)
        bar["bar"].__enter__()

    def step(_read) -> None:
        bar["bar"].update(1)

    try:
        summary = run_session(
            session,
            out,
            calibration=calibration,
            jobs=jobs,
            fresh=fresh,
            progress=step,
            on_start=start,
        )
    finally:
        if "bar" in bar:
            bar["bar"].__exit__(None, None, None)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.statuses.items()))
    click.echo(f"{summary.sheets} sheets: {counts}")
    if summary.read_now:
        click.echo(
            f"read {summary.read_now} page(s) in {summary.seconds:.1f} s "
            f"({summary.sheets_per_second:.1f} sheets/s)"
        )
    click.echo(f"results: {summary.out_dir / 'results.csv'}")
    if summary.without_colour:
        click.echo(
            f"note: {summary.without_colour} sheet(s) have no usable colour (grey or 1-bit scans, "
            "or JPEG compressed below quality 45), where pencil cannot be told from ink "
            "(article 7.7): their marks' medium is 'unknown'. Scan in colour to check it."
        )
    for note in summary.notes:
        click.echo(f"note: {note}")
    if summary.flagged:
        click.echo(
            f"{summary.flagged} sheet(s) counted with flags for a person to check: "
            f"{summary.out_dir / 'flagged.csv'}"
        )
    if summary.review:
        click.echo(f"{summary.review} sheet(s) need a person: {summary.out_dir / 'review.csv'}")
        sys.exit(int(ExitCode.review_needed))


@cli.command()
@click.argument("scans", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
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
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--session",
    "session_root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Session folder whose exam.yaml to use (default: OUT's parent if it has one, "
    "else the session the run read).",
)
def report(out, session_root) -> None:
    """Rescore the reads stored in OUT and rewrite every report, without reading scans.

    Use it after changing exam.yaml: a cancelled question, an accepted second
    answer or a corrected key rescores everyone.

    \b
    Example:
        omr report samples/demo/out
    """
    from omr.pipeline import rebuild_reports

    summary = rebuild_reports(out, session_root)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.statuses.items()))
    click.echo(f"{summary.sheets} sheets rescored: {counts}")
    if summary.without_colour:
        click.echo(f"note: {summary.without_colour} sheet(s) without colour: medium unknown")
    for note in summary.notes:
        click.echo(f"note: {note}")
    if summary.flagged:
        click.echo(f"{summary.flagged} sheet(s) counted with flags: see flagged.csv")
    click.echo(f"reports rewritten in {summary.out_dir}")


@cli.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--truth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
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


# --- what people decide after the read (omr.workflow) ------------------------

out_argument = click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
session_option = click.option(
    "--session",
    "session_root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Session folder (default: OUT's parent if it has an exam.yaml, else the run's).",
)
person_options = [
    click.option("--by", required=True, help="Who decides (goes into the audit log)."),
    click.option("--why", required=True, help="Why (goes into the audit log)."),
]


def person(func):
    """``--by`` and ``--why``, required on every act that changes a result."""
    for option in reversed(person_options):
        func = option(func)
    return func


@cli.group()
def review() -> None:
    """Clear the review queue: list it, look at a sheet, decide what it says."""


@review.command("list")
@out_argument
@session_option
def review_list(out, session_root) -> None:
    """List the sheets held for a person, why, and which FIELD to decide.

    \b
    Example:
        omr review list samples/demo/out
    """
    from omr.workflow.desk import review_queue

    queue = review_queue(out, session_root)
    if not queue:
        click.echo("nothing to review")
        return
    for q in queue:
        where = f"{q.sheet} {q.course}".strip()
        click.echo(f"{where}  {q.status}  {q.detail}")
        click.echo(f"    decide: {q.decide}")
    click.echo(f"{len(queue)} line(s) in review")


@review.command("show")
@out_argument
@click.argument("sheet")
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the images (default: OUT/review).",
)
@session_option
def review_show(out, sheet, dest, session_root) -> None:
    """Write SHEET's annotated image: every bubble coloured by decision, and a crop of the doubts.

    Colours: marked green, blank grey, unsure orange, residue purple, ink red,
    decided by a person blue.

    \b
    Example:
        omr review show samples/demo/out stack-01.pdf:3
    """
    from omr.workflow.desk import review_picture

    for path in review_picture(out, sheet, dest, session_root=session_root):
        click.echo(f"wrote {path}")


@review.command("set")
@out_argument
@click.argument("sheet")
@click.argument("field")
@click.argument("value")
@person
@session_option
def review_set(out, sheet, field, value, by, why, session_root) -> None:
    """Decide FIELD of SHEET: a question (TUR101:12), group, student_id, national_id, a box, sheet.

    VALUE: an option (B), several (AC: wrong), or blank for a question; a
    group letter; all the digits of an identity field; marked or blank for a
    proctor box; score or void for the sheet as a whole. The sheet is scored
    once nothing on it is left in doubt.

    \b
    Example:
        omr review set OUT stack-01.pdf:3 TUR101:12 B --by ayse --why "clear on the scan"
    """
    from omr.workflow.desk import set_review

    _echo_decided([set_review(out, sheet, field, value, by=by, why=why, session_root=session_root)])


@review.command("apply")
@out_argument
@click.argument("decisions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", default=None, help="Who decides, for rows with no 'by'.")
@click.option("--why", default=None, help="Why, for rows with no 'why'.")
@session_option
def review_apply(out, decisions, by, why, session_root) -> None:
    """Apply a decision CSV in one go: review.csv's columns plus decision, by, why.

    decision holds FIELD=VALUE pairs separated by ';' (q12=B uses the row's
    course). Every row is checked first; one bad row changes nothing.

    \b
    Example:
        omr review apply OUT decisions.csv --by ayse --why "review desk, 3 Dec"
    """
    from omr.workflow.desk import apply_review_file

    _echo_decided(apply_review_file(out, decisions, by=by, why=why, session_root=session_root))


def _echo_decided(done) -> None:
    for d in done:
        state = "still in review" if d.in_doubt else "nothing left in doubt"
        statuses = ", ".join(sorted(set(d.statuses)))
        click.echo(f"{d.sheet} {d.target}: {d.before} -> {d.after} ({state}: {statuses})")


@cli.group()
def key() -> None:
    """Key versions: cancel an item, accept a second answer, correct a key; history and diff."""


def _echo_key(outcome) -> None:
    click.echo(f"key v{outcome.version}: {outcome.target}: {outcome.before} -> {outcome.after}")
    _echo_changes(outcome.changes)


def _echo_changes(changes) -> None:
    click.echo(f"{len(changes)} result(s) changed")
    for c in changes:
        click.echo(f"  {c.student_id or '?'}  {c.course}  {c.old} -> {c.new}  ({c.sheet})")


@key.command("cancel")
@out_argument
@click.argument("course")
@click.argument("item", type=int)
@person
@session_option
def key_cancel(out, course, item, by, why, session_root) -> None:
    """Cancel master ITEM of COURSE in every booklet group; everyone is rescored.

    Scored under the exam's cancelled policy (drop: over the other questions).

    \\b
    Example:
        omr key cancel OUT TUR101 5 --by hoca --why "two right answers printed"
    """
    from omr.workflow.desk import change_key

    _echo_key(change_key(out, "cancel", course, item, by=by, why=why, session_root=session_root))


@key.command("accept")
@out_argument
@click.argument("course")
@click.argument("item", type=int)
@click.argument("option")
@person
@session_option
def key_accept(out, course, item, option, by, why, session_root) -> None:
    """Accept OPTION as a right answer of master ITEM too, in every booklet group.

    \\b
    Example:
        omr key accept OUT TUR101 7 D --by hoca --why "D is also right"
    """
    from omr.workflow.desk import change_key

    outcome = change_key(
        out, "accept", course, item, option, by=by, why=why, session_root=session_root
    )
    _echo_key(outcome)


@key.command("set", context_settings={"ignore_unknown_options": False})
@out_argument
@click.argument("course")
@click.argument("rest", nargs=-1, required=True, metavar="[GROUP] ITEM OPTION")
@person
@session_option
def key_set(out, course, rest, by, why, session_root) -> None:
    """Correct the key of question ITEM of booklet GROUP (no GROUP on an exam without groups).

    ITEM is the question number printed in that group's booklet.

    \\b
    Example:
        omr key set OUT TUR101 B 12 C --by hoca --why "key typed wrong"
    """
    from omr.errors import BadArgument
    from omr.workflow.desk import change_key

    if len(rest) not in (2, 3):
        raise BadArgument("give COURSE GROUP ITEM OPTION (COURSE ITEM OPTION without groups)")
    group = rest[0] if len(rest) == 3 else None
    item_text, option = rest[-2:]
    if not item_text.isdigit():
        raise BadArgument(f"ITEM {item_text!r}: give the question number")
    outcome = change_key(
        out, "set", course, int(item_text), option, group, by=by, why=why, session_root=session_root
    )
    _echo_key(outcome)


@key.command("history")
@out_argument
@session_option
def key_history_cmd(out, session_root) -> None:
    """List the key versions: who made each, when, with which command and why.

    \\b
    Example:
        omr key history OUT
    """
    from omr.workflow.desk import key_history

    for v in key_history(out, session_root):
        click.echo(f"v{v.version}  {v.at}  {v.by}  {v.command}  {v.why}")


@key.command("diff")
@out_argument
@click.option("--from", "from_version", type=int, default=None, help="Older version.")
@click.option("--to", "to_version", type=int, default=None, help="Newer version.")
@session_option
def key_diff_cmd(out, from_version, to_version, session_root) -> None:
    """Every candidate whose result differs between two key versions, old -> new, and why.

    Default: the version before the latest, and the latest.

    \\b
    Example:
        omr key diff OUT --from 1 --to 3
    """
    from omr.workflow.desk import key_diff

    low, high, changes = key_diff(out, from_version, to_version, session_root=session_root)
    click.echo(f"key v{low} -> v{high}")
    for c in changes:
        click.echo(f"  {c.student_id or '?'}  {c.course}  {c.old} -> {c.new}  ({c.sheet}; {c.why})")
    click.echo(f"{len(changes)} result(s) changed")


@cli.group()
def objection() -> None:
    """Objections: file them (the window is checked), decide them, list them."""


@objection.command("add")
@out_argument
@click.option("--student", required=True, help="The candidate's student number.")
@click.option("--course", required=True, help="Course code.")
@click.option("--kind", type=click.Choice(["question", "result"]), required=True)
@click.option("--date", "filed", required=True, help="Date filed, YYYY-MM-DD.")
@click.option("--item", type=int, default=None, help="Master item objected to.")
@click.option("--text", required=True, help="What the candidate says.")
@click.option("--by", required=True, help="Who records it (goes into the audit log).")
@session_option
def objection_add(out, student, course, kind, filed, item, text, by, session_root) -> None:
    """File an objection; the window is checked on the Turkish business-day calendar.

    A late objection is recorded and refused, with the deadline it missed.

    \\b
    Example:
        omr objection add OUT --student 2485240850 --course TUR101 --kind question \\
            --date 2026-11-16 --item 5 --text "two options are right" --by ofis
    """
    from omr.workflow.objections import add_objection

    o = add_objection(
        out,
        student=student,
        course=course,
        kind=kind,
        date=filed,
        text=text,
        by=by,
        item=item,
        session_root=session_root,
    )
    if o.on_time:
        click.echo(
            f"objection {o.id} recorded: {o.kind}, {o.course}, on time (deadline {o.deadline})"
        )
    else:
        click.echo(
            f"objection {o.id} recorded and refused: filed {o.filed_on}, after the deadline "
            f"{o.deadline} ({o.kind} window)"
        )


@objection.command("decide")
@out_argument
@click.argument("number", type=int)
@click.option("--accept/--reject", "accept", default=None, help="The decision.")
@click.option("--cancel", is_flag=True, help="Question objection: cancel the item.")
@click.option("--also", default=None, help="Question objection: accept this option too.")
@click.option("--key", "key_option", default=None, help="Question objection: correct the key.")
@click.option(
    "--set", "sets", multiple=True, help="Result objection: FIELD=VALUE corrections of the read."
)
@person
@session_option
def objection_decide(
    out, number, accept, cancel, also, key_option, sets, by, why, session_root
) -> None:
    """Decide objection NUMBER and write its one-page answer PDF.

    An accepted question objection changes the key (--cancel, --also B or
    --key B); an accepted result objection corrects the read (--set FIELD=VALUE).

    \\b
    Example:
        omr objection decide OUT 1 --accept --cancel --by hoca --why "two right options"
    """
    from omr.errors import BadArgument
    from omr.workflow.objections import decide_objection

    if accept is None:
        raise BadArgument("give --accept or --reject")
    o, pdf = decide_objection(
        out,
        number,
        accept=accept,
        by=by,
        why=why,
        cancel=cancel,
        also=also,
        key=key_option,
        sets=tuple(sets),
        session_root=session_root,
    )
    d = o.decision
    click.echo(
        f"objection {o.id} {o.state}: {d['change']}; score {d['score_before']} -> "
        f"{d['score_after']}"
    )
    click.echo(f"wrote {pdf}")


@objection.command("list")
@out_argument
def objection_list(out) -> None:
    """List every objection with its window and state.

    \\b
    Example:
        omr objection list OUT
    """
    from omr.workflow.objections import objections

    found = objections(out)
    for o in found:
        item = f" item {o.item}" if o.item else ""
        click.echo(
            f"{o.id}  {o.student}  {o.course}{item}  {o.kind}  filed {o.filed_on}  "
            f"deadline {o.deadline}  {o.state}"
        )
    click.echo(f"{len(found)} objection(s)")


@cli.command()
@out_argument
@click.argument("student_id")
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the image (default: OUT/show).",
)
@session_option
def show(out, student_id, dest, session_root) -> None:
    """Print what was read and scored for STUDENT_ID on every course, and write the sheet image.

    \\b
    Example:
        omr show samples/demo/out 2485240850
    """
    from omr.workflow.desk import result_text, show_candidate

    found = show_candidate(out, student_id, dest, session_root=session_root)
    for (read, rows), picture in zip(found.sheets, found.pictures, strict=True):
        click.echo(f"{read.sheet_id}: {read.source} page {read.page}")
        for r in rows:
            click.echo(
                f"  {r.course}  group {r.group or '-'}  {r.status}  {result_text(r)}  {r.answers}"
            )
        click.echo(f"wrote {picture}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="omr")


if __name__ == "__main__":
    main()
