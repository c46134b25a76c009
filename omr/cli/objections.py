"""``omr objection`` and ``omr show``: student affairs' commands."""

from __future__ import annotations

from pathlib import Path

import click

from omr.cli.base import cli, out_argument, person, session_option


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
