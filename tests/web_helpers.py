"""Helpers for the review desk's tests: a small simulated session with doubts planted."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from click.testing import CliRunner
from workflow_helpers import plant, unsure

from omr.cli import cli
from omr.store import STORE_NAME, Store
from omr.workflow.desk import rescore

#: A roster name that a page must show as text, never as markup.
HTML_NAME = '<script>alert("x")</script><b>Ayşe</b> & Co'
#: The sheets that get a doubt planted, and what.
DOUBTS = {
    "stack.pdf:2": ("course1", 0, unsure()),  # TUR101 q1: faint B
    "stack.pdf:3": ("course2", 4, unsure("A", "C", "erasure-or-answer")),  # ATA101 q5
    "stack.pdf:4": ("group", 0, unsure("", "BC", "ambiguous-multiple")),
}


def omr(*args):
    """Run the ``omr`` command in this process; return click's result."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def make_session(root: Path) -> Path:
    """Simulate 12 sheets under ``root``, read them, plant :data:`DOUBTS`; return OUT."""
    assert omr("simulate", "--sheets", 12, "--seed", 5, "--out", root, "-j", 1).exit_code == 0
    assert omr("run", root, "-j", 1).exit_code in (0, 10)
    out = root / "out"
    for sheet, (field, item, new) in DOUBTS.items():
        plant(out, sheet, field, item, new)
    student = student_of(out, "stack.pdf:2")
    roster = root / "roster.csv"
    with roster.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["student_number"] == student:
            row["first_name"] = HTML_NAME
    with roster.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    rescore(out)
    return out


def copy_session(base: Path, dest: Path) -> Path:
    """A fresh copy of a session made by :func:`make_session`; return its OUT."""
    shutil.copytree(base, dest)
    return dest / "out"


def student_of(out: Path, sheet: str) -> str:
    """The student number read on ``sheet``."""
    with Store(out / STORE_NAME) as store:
        return store.reads([sheet])[0].fields["student_number"].text()


def audit(out: Path) -> list[dict]:
    """Every line of the session's audit log."""
    with Store(out / STORE_NAME) as store:
        return store.records("audit")
