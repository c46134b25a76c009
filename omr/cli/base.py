"""The ``omr`` command group and the options its subcommands share."""

from __future__ import annotations

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
