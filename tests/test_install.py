"""The installed ``omr`` command works from any folder and finds its built-in data."""

from __future__ import annotations

import shutil
import subprocess

import pytest

OMR = shutil.which("omr")


@pytest.mark.skipif(OMR is None, reason="omr is not installed in this environment")
def test_installed_command_finds_builtin_forms_from_another_folder(tmp_path):
    listed = subprocess.run(
        [OMR, "forms", "list"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert listed.returncode == 0, listed.stderr
    assert "central-a4" in listed.stdout and "quiz-a5" in listed.stdout
    rendered = subprocess.run(
        [OMR, "forms", "render", "central-a4", "-o", "sheet.pdf"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    assert (tmp_path / "sheet.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.skipif(OMR is None, reason="omr is not installed in this environment")
def test_installed_command_reports_a_missing_path_with_exit_code_3(tmp_path):
    result = subprocess.run(
        [OMR, "run", str(tmp_path / "missing")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 3
    assert "does not exist" in result.stderr
