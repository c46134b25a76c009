"""Exceptions with exit codes: the library raises, only the CLI exits."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of the ``omr`` command."""

    ok = 0
    other_error = 1
    usage = 2
    input_file = 3
    invalid_form = 4
    invalid_calibration = 5
    invalid_exam = 6
    busy = 7
    output = 9
    silent_errors = 8
    review_needed = 10
    ctrl_c = 130
    terminated = 143  # SIGTERM (128 + 15), as a shell reports a process it ended


class Stopped(KeyboardInterrupt):
    """SIGTERM (or SIGHUP) received: unwinds like Ctrl-C, so every writer cleans up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class OmrError(Exception):
    """Base of the errors a user can fix; ``message`` says how."""

    exit_code = ExitCode.other_error
    message = ""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        if args:
            self.message = str(args[0])

    def __str__(self) -> str:
        return self.message or super().__str__()


class InputFileError(OmrError):
    """A scan, stack or session folder that cannot be used."""

    exit_code = ExitCode.input_file


class OutputError(OmrError):
    """OUT cannot be written (a full disk, a quota or file-size limit, no permission);
    what was there before is kept."""

    exit_code = ExitCode.output


class BadArgument(OmrError):
    """A command argument that names nothing there is (an unknown sheet, a question out of
    range, an option not on the form, a date before the exam): nothing was changed."""

    exit_code = ExitCode.usage


class InvalidDefinitionError(OmrError):
    """A data file (form, exam, calibration) that breaks its format.

    ``problems`` holds one ``(key path, message)`` pair per error found, so the
    user sees every error at once.
    """

    exit_code = ExitCode.other_error
    kind = "definition"

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: invalid {self.kind} ({len(problems)} problem(s))"]
        lines += [f"  {path or '<top>'}: {msg}" for path, msg in problems]
        super().__init__("\n".join(lines))


class InvalidFormError(InvalidDefinitionError):
    """A form definition that breaks the format."""

    exit_code = ExitCode.invalid_form
    kind = "form definition"


class InvalidExamError(InvalidDefinitionError):
    """An exam definition that breaks the format or the rules (article 5)."""

    exit_code = ExitCode.invalid_exam
    kind = "exam definition"


class InvalidCalibrationError(InvalidDefinitionError):
    """A calibration profile that breaks the format."""

    exit_code = ExitCode.invalid_calibration
    kind = "calibration profile"
