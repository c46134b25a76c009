"""The ``omr`` command: a thin click layer over the library.

Library functions raise :class:`omr.errors.OmrError`; the group prints the
message and exits with the error's code. Each module here holds one family of
subcommands and registers it on :data:`cli` when imported.
"""

from __future__ import annotations

from omr.cli import forms, keys, objections, review, serve, session  # noqa: F401  (registers commands)
from omr.cli.base import cli


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="omr")


__all__ = ["cli", "main"]
