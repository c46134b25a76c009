"""The ``omr`` command group and the options its subcommands share.

Habits every command keeps: ``-h``/``--help``; ``-q`` (errors only, no progress
bar) and ``-v`` (more detail, the library's log) before or after the command
name; ``-o``/``--out`` for what a command writes; a missing path is an input
error (exit status 3), and a file given where a folder is expected says what
the folder should hold.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from pathlib import Path

import click

from omr.errors import ExitCode, OmrError, Stopped

#: ``-h`` beside ``--help``; inherited by every subcommand.
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}

EXIT_CODES = """\b
Exit status:
  0    done: every sheet decided
  1    an unexpected error
  2    usage: a bad option or argument (nothing was changed)
  3    input: a missing or unusable file or folder
  4    invalid form definition
  5    invalid calibration profile
  6    invalid exam definition
  7    busy: another omr command is writing the same OUT (nothing was changed)
  9    output: OUT cannot be written (disk full); what was there is kept
  8    evaluate: items read wrong without review (silent errors)
  10   results written, and some sheets need a person
  130  interrupted (Ctrl-C): pages read so far are kept
  143  stopped (SIGTERM): the same, workers stopped
"""

_VERBOSITY = "omr.verbosity"


class OmrGroup(click.Group):
    """A click group that turns library errors into messages and exit codes."""

    def invoke(self, ctx: click.Context):
        try:
            with _stop_on_term():
                return super().invoke(ctx)
        except OmrError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(int(exc.exit_code))
        except KeyboardInterrupt as exc:
            how = "interrupted"
            if isinstance(exc, Stopped):
                how = f"stopped ({signal.Signals(exc.signum).name}, workers stopped)"
            click.echo(f"{how}: pages read so far are kept; run again to resume", err=True)
            ctx.exit(int(ExitCode.terminated if isinstance(exc, Stopped) else ExitCode.ctrl_c))


def _raise_stopped(signum, frame) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def _stop_on_term():
    """SIGTERM and SIGHUP unwind the command like Ctrl-C (temporary files removed, workers
    stopped, the store closed) instead of ending the process where it stands."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = ("SIGTERM", "SIGHUP")
    signums = [getattr(signal, n) for n in names if hasattr(signal, n)]
    before = {s: signal.signal(s, _raise_stopped) for s in signums}
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


class InputPathError(click.ClickException):
    """A path argument that names nothing, or a file where a folder is expected (exit 3)."""

    exit_code = int(ExitCode.input_file)

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file)


#: What a folder argument should hold, by its name: the hint given when a file is passed.
FOLDER_HINTS = {
    "session": "a session folder holds exam.yaml and scans/ (the stack: PDF, TIFF or "
    "images) and, optionally, roster.csv; put {name} in FOLDER/scans/ beside an exam.yaml "
    "and run 'omr run FOLDER'",
    "out": "OUT is the folder 'omr run' wrote (results.csv, session.sqlite), e.g. SESSION/out",
    "session_root": "--session takes the session folder (the one holding exam.yaml)",
}


class ExistingPath(click.Path):
    """``click.Path(exists=True)`` whose failures are input errors (exit status 3).

    A file given where a folder is expected gets a hint saying what the folder holds.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(exists=True, path_type=Path, **kwargs)

    def convert(self, value, param, ctx):
        path = Path(value)
        where = param.human_readable_name if param is not None else "path"
        if not path.exists():
            raise InputPathError(f"{where}: {value} does not exist")
        if not self.file_okay and path.is_file():
            hint = FOLDER_HINTS.get(param.name if param is not None else "", "")
            raise InputPathError(
                f"{where}: {value} is a file, not a folder"
                + (f"; {hint.format(name=path.name)}" if hint else "")
            )
        if not self.dir_okay and path.is_dir():
            raise InputPathError(f"{where}: {value} is a folder, not a file")
        return super().convert(value, param, ctx)


def _set_verbosity(delta: int):
    def callback(ctx: click.Context, _param, value) -> None:
        if value:
            root = ctx.find_root()
            root.meta[_VERBOSITY] = root.meta.get(_VERBOSITY, 0) + delta * value
            level = logging.DEBUG if verbosity(ctx) > 1 else logging.INFO
            if verbosity(ctx) > 0:
                logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
                logging.getLogger("omr").setLevel(level)

    return callback


verbosity_options = [
    click.option(
        "-q",
        "--quiet",
        count=True,
        expose_value=False,
        is_eager=True,
        callback=_set_verbosity(-1),
        help="Errors only: no progress bar, no summary.",
    ),
    click.option(
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        is_eager=True,
        callback=_set_verbosity(+1),
        help="More detail: the library's log on stderr (-vv: debug).",
    ),
]


def with_verbosity(func):
    """``-q`` and ``-v`` on a command (they are on the group too: ``omr -q run S``)."""
    for option in reversed(verbosity_options):
        func = option(func)
    return func


def verbosity(ctx: click.Context | None = None) -> int:
    """-1 and below quiet, 0 normal, 1 and up verbose."""
    ctx = ctx or click.get_current_context(silent=True)
    return ctx.find_root().meta.get(_VERBOSITY, 0) if ctx is not None else 0


def say(message: str = "") -> None:
    """Print ``message`` unless ``-q`` was given."""
    if verbosity() >= 0:
        click.echo(message)


class Out(click.Option):
    """An output option shown as ``-o, --out`` whatever aliases it keeps (``--output``)."""

    def get_help_record(self, ctx):
        record = super().get_help_record(ctx)
        if record is None:
            return None
        every = ", ".join(self.opts)
        shown = ", ".join(o for o in self.opts if o in ("-o", "--out"))
        return shown + record[0].removeprefix(every), record[1]


def out_option(*aliases: str, **kwargs):
    """``-o``/``--out`` (old spellings such as ``--output`` still accepted)."""
    return click.option("-o", "--out", *aliases, "out", cls=Out, **kwargs)


@click.group(cls=OmrGroup, context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES)
@click.version_option(package_name="omr")
@with_verbosity
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


lang_option = click.option(
    "--lang",
    type=click.Choice(["tr", "en"]),
    default=None,
    help="Language of the files people read (default: exam.yaml's lang:, else tr for a "
    "Turkish exam definition, else en); kept for later rewrites of OUT.",
)


wait_option = click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait while another omr command writes the same OUT; then exit 7.",
)

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print a closing summary as JSON (for scripts)."
)


out_argument = click.argument("out", type=ExistingPath(file_okay=False))
session_option = click.option(
    "--session",
    "session_root",
    type=ExistingPath(file_okay=False),
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
