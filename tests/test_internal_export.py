"""Personal data: posted exports mask identity; the internal export is explicit and audited."""

from __future__ import annotations

import csv
import shutil
import stat
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from omr.cli import cli
from omr.pipeline import run_session
from omr.store import STORE_NAME, Store
from omr.workflow.internal_export import INTERNAL_DIR, INTERNAL_FILE, NO_SHEET

DEMO = Path(__file__).resolve().parent.parent / "samples" / "demo"
LATE = "stack-02.pdf"
POSTED = ["results.csv", "review.csv", "flagged.csv", "items.csv", "report.html"]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The demo session with only its first stack read (the second stack's candidates absent)."""
    root = tmp_path_factory.mktemp("internal") / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns("out", LATE))
    run_session(root, jobs=1)
    return root


@pytest.fixture
def out(base, tmp_path):
    root = tmp_path / "demo"
    shutil.copytree(base, root)
    return root / "out"


def omr(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def roster() -> list[dict]:
    with (DEMO / "roster.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def posted_text(out: Path) -> str:
    text = "".join((out / name).read_text(encoding="utf-8") for name in POSTED)
    with zipfile.ZipFile(out / "results.xlsx") as xlsx:
        text += "".join(xlsx.read(n).decode("utf-8") for n in xlsx.namelist())
    return text


def test_posted_exports_hold_no_full_national_id_and_no_name(out):
    text = posted_text(out)
    people = roster()
    assert people
    for p in people:
        assert p["national_id"] not in text
        assert p["last_name"] not in text
    assert not (out / INTERNAL_DIR).exists()


def test_the_internal_export_needs_who_and_why_and_writes_nothing_without(out):
    result = omr("report", out, "--internal")
    assert result.exit_code == 2
    assert "--by" in result.output
    assert not (out / INTERNAL_DIR).exists()
    result = omr("report", out, "--by", "a", "--why", "w")  # no --internal: refused
    assert result.exit_code == 2
    assert not (out / INTERNAL_DIR).exists()


def test_the_internal_export_has_full_identity_owner_only_and_is_audited(out):
    result = omr("report", out, "--internal", "--by", "Staff Seven", "--why", "registry match")
    assert result.exit_code == 0, result.output
    path = out / INTERNAL_DIR / INTERNAL_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    people = {p["student_number"]: p for p in roster()}
    read = [r for r in rows if r["sheet"]]
    absent = [r for r in rows if r["status"] == NO_SHEET]
    assert read and absent
    matched = 0
    for r in read:
        p = people.get(r["student_id"])
        if p is None:
            continue
        if r["on_roster"] == "yes":
            matched += 1
            assert r["name"] == f"{p['first_name']} {p['last_name']}"
            assert (r["hall"], r["seat"]) == (p["hall"], p["seat"])
        if r["national_id"] and "?" not in r["national_id"]:
            assert r["national_id"] == p["national_id"]
    assert matched >= len(read) // 2
    seen = {r["student_id"] for r in read}
    assert {r["student_id"] for r in absent} == set(people) - seen
    for r in absent:
        assert r["name"] and r["national_id"] == people[r["student_id"]]["national_id"]
    # one audit line; it names the act and the count, never a person's identity
    with Store(out / STORE_NAME) as store:
        (entry,) = store.records("audit")
    assert entry["by"] == "Staff Seven" and entry["why"] == "registry match"
    assert entry["command"] == "export internal"
    text = " ".join(str(v) for v in entry.values()) + result.output
    for p in people.values():
        assert p["national_id"] not in text and p["last_name"] not in text
    # the posted files stay as they were
    for p in people.values():
        assert p["national_id"] not in posted_text(out)
