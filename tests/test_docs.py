"""The documentation keeps up with the CLI: every command has help and is named in the README."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from omr.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "omr"):
    for name, command in group.commands.items():
        full = f"{prefix} {name}"
        yield full, command
        if isinstance(command, click.Group):
            yield from _commands(command, full)


@pytest.mark.parametrize(("name", "command"), list(_commands(cli)), ids=lambda v: str(v))
def test_every_command_has_help_and_is_in_the_readme(name, command):
    assert command.help and len(command.help.strip()) > 20, f"{name} has no help text"
    assert f"`{name}" in README, f"{name} is not described in the README"
    if not isinstance(command, click.Group):
        assert "Example:" in command.help, f"{name} help has no example"


def test_readme_has_the_two_setup_commands():
    assert "pip install . && omr run samples/demo" in README
    assert "pip install '.[test]' && pytest" in README


def test_simulate_help_names_every_profile():
    from omr.simulate import PROFILES

    help_text = cli.commands["simulate"].params
    text = next(p.help for p in help_text if p.name == "profile")
    for name in PROFILES:
        assert name in text, f"profile {name} is missing from --profile's help"
