"""The bundled demo session: intact, and read exactly by ``omr run``."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from omr.cli import cli
from omr.evaluate import evaluate_run

DEMO = Path(__file__).resolve().parent.parent / "samples" / "demo"


def test_demo_files_match_their_recorded_hashes():
    readme = (DEMO.parent / "README.md").read_text(encoding="utf-8")
    recorded = dict((name, digest) for digest, name in re.findall(r"([0-9a-f]{64})  (\S+)", readme))
    assert set(recorded) == {p.name for p in (DEMO / "scans").iterdir()}
    for name, digest in recorded.items():
        assert hashlib.sha256((DEMO / "scans" / name).read_bytes()).hexdigest() == digest


def test_omr_run_reads_the_demo_exactly(tmp_path):
    session = tmp_path / "demo"
    shutil.copytree(DEMO, session, ignore=shutil.ignore_patterns("out"))
    result = CliRunner().invoke(cli, ["run", str(session), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert "40 sheets: scored 37, void 3" in result.output
    report = evaluate_run(session / "out", session / "truth.json")
    assert report["silent_errors"] == 0
    assert report["sheets_exact"] == 1.0
