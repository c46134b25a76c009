"""``omr forms``: list, render, check and fit answer-sheet forms."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from omr.cli.base import ExistingPath, cli, out_option
from omr.errors import ExitCode


@cli.group()
def forms() -> None:
    """Answer-sheet form definitions: list, render, check and fit them.

    \b
    omr forms list            the built-in forms
    omr forms render FORM     a printable PDF of the blank sheet
    omr forms check FORM SCAN how a form definition sits on a scan
    omr forms fit SCAN        propose a form definition from a scan
    """


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
@out_option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the PDF.",
)
def forms_render(form: str, out: Path) -> None:
    """Render FORM (a built-in name or a .yaml file) as a printable vector PDF.

    \b
    Example:
        omr forms render central-a4 -o sheet.pdf
    """
    from omr.forms import find_form
    from omr.render import render_form_pdf

    out.write_bytes(render_form_pdf(find_form(form)))
    click.echo(f"wrote {out}")


@forms.command("check")
@click.argument("form")
@click.argument("scan", type=ExistingPath(dir_okay=False))
@out_option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Overlay PNG to write (default: SCAN's name with .check.png).",
)
def forms_check(form: str, scan: Path, out: Path | None) -> None:
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
    out = out or scan.with_suffix(".check.png")
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
@click.argument("scan", type=ExistingPath(dir_okay=False))
@out_option(
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Form file to write (e.g. forms/dept-quiz.yaml); the overlay goes beside it.",
)
@click.option(
    "--name", default=None, help="Form name (default: the file's stem, made a valid name)."
)
@click.option("--dpi", type=float, default=None, help="Resolution, when the image lacks it.")
@click.option(
    "--marker",
    type=ExistingPath(dir_okay=False),
    default=None,
    help="A picture printed as the sheet's registration marks (copied beside the form).",
)
def forms_fit(
    scan: Path, out: Path, name: str | None, dpi: float | None, marker: Path | None
) -> None:
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
    import shutil

    import cv2

    from omr.formfit import form_name
    from omr.pipeline import fit_form_on_scan

    name = name or form_name(out.stem)
    result = fit_form_on_scan(scan, name, dpi=dpi, marker=marker)
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
        if reg.get("kind") == "marker-image" and marker is not None:
            beside = out.parent / reg["image"]
            if not beside.exists() or not beside.samefile(marker):
                shutil.copyfile(marker, beside)
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
