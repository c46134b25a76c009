"""``omr key``: key versions: cancel, accept, set, history, diff."""

from __future__ import annotations

import click

from omr.cli.base import cli, out_argument, person, session_option


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
