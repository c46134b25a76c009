"""``omr review``: the queue of held sheets and the decisions on them."""

from __future__ import annotations

from pathlib import Path

import click

from omr.cli.base import ExistingPath, cli, out_argument, person, session_option


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
@click.argument("decisions", type=ExistingPath(dir_okay=False))
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
