"""Resuming is keyed by what a read depends on: the scan file, and the form and calibration
it was read with. Editing either makes the next run read the pages again, and say why."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from omr.forms import find_form
from omr.pipeline import run_session
from omr.simulate import simulate_session
from omr.store import STORE_NAME, Store

REPO = Path(__file__).resolve().parents[1]
SHEETS = 4


def _edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_an_edited_form_or_calibration_makes_the_next_run_read_again(tmp_path):
    root = tmp_path / "S"
    simulate_session(find_form("quiz-a5"), SHEETS, 2, root, profile="clean", jobs=1)
    shutil.copy(REPO / "forms" / "quiz-a5.yaml", root / "sheet.yaml")
    _edit_yaml(root / "exam.yaml", lambda d: d.update(form="sheet.yaml"))
    calibration = tmp_path / "scanner.yaml"
    shutil.copy(REPO / "calibration" / "default.yaml", calibration)

    assert run_session(root, jobs=1, calibration=calibration).read_now == SHEETS
    again = run_session(root, jobs=1, calibration=calibration)
    assert again.read_now == 0 and not any("read again" in n for n in again.notes)

    _edit_yaml(root / "sheet.yaml", lambda d: d.update(bubble_diameter=4.05))
    edited = run_session(root, jobs=1, calibration=calibration)
    assert edited.read_now == SHEETS
    assert f"the form or the calibration changed since {SHEETS} page(s) were read" in " ".join(
        edited.notes
    )
    assert run_session(root, jobs=1, calibration=calibration).read_now == 0

    _edit_yaml(calibration, lambda d: d.update(name="scanner-2"))
    assert run_session(root, jobs=1, calibration=calibration).read_now == SHEETS
    with Store(root / "out" / STORE_NAME) as store:
        assert store.meta()["calibration"] == "scanner-2"


def test_a_run_killed_while_reading_again_finishes_the_reread_next_time(tmp_path):
    """The pages to read again are marked in the store in one transaction with the new key:
    a run stopped half-way leaves the rest marked, never taken as read with the new form."""
    root = tmp_path / "S"
    simulate_session(find_form("quiz-a5"), SHEETS, 3, root, profile="clean", jobs=1)
    shutil.copy(REPO / "forms" / "quiz-a5.yaml", root / "sheet.yaml")
    _edit_yaml(root / "exam.yaml", lambda d: d.update(form="sheet.yaml"))
    run_session(root, jobs=1)
    _edit_yaml(root / "sheet.yaml", lambda d: d.update(bubble_diameter=4.05))

    def stop_after_two(read, seen=[]):  # noqa: B006 - a counter for this test
        seen.append(read)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_session(root, jobs=1, progress=stop_after_two)
    assert run_session(root, jobs=1).read_now == SHEETS - 2
