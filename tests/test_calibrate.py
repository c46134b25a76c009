"""omr calibrate: fit a scanner profile from simulated scans of the calibration sheet."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from omr.calibrate import block_medium, calibration_sheet
from omr.calibration import find_calibration, load_calibration
from omr.cli import cli
from omr.errors import ExitCode
from omr.simulate import simulate_calibration_scan


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    root = tmp_path_factory.mktemp("calib")
    form = calibration_sheet()
    out = {}
    for profile in ("ink", "ink-scanner-b"):
        simulate_calibration_scan(form, profile, 1, root / profile)
        out[profile] = root / profile / "scan.pdf"
    return out


def test_block_names_say_the_medium():
    assert [
        block_medium(n)
        for n in ("hb", "pencil_heavy", "black_gel", "blue_ballpoint", "blue_gel", "empty")
    ] == ["pencil", "pencil", "black-pen", "colour-ink", "colour-ink", "empty"]


def test_a_neutral_scanner_gets_no_cast_and_a_cast_scanner_gets_its_own(scans, tmp_path):
    runner = CliRunner()
    for profile, path in scans.items():
        out = tmp_path / f"{profile}.yaml"
        result = runner.invoke(cli, ["calibrate", str(path), "--out", str(out)])
        assert result.exit_code == 0, result.output
        fitted = load_calibration(out)
        cast = (fitted.ink.neutral_a**2 + fitted.ink.neutral_b**2) ** 0.5
        if profile == "ink":
            assert cast < 0.06
        else:
            assert cast > 0.12  # the warm cast of scanner B, measured on its pencil
            # its lifted black level tints dense marks more: the cast grows with density
            ink = fitted.ink
            assert ink.neutral_da * ink.neutral_a + ink.neutral_db * ink.neutral_b > 0
            assert (ink.neutral_da**2 + ink.neutral_db**2) ** 0.5 > 0.03
        assert 0.03 < fitted.marks.empty_floor < fitted.marks.mark_floor <= 0.25
        assert fitted.name == profile


def test_run_finds_a_profile_by_name_in_the_working_folder(scans, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["calibrate", str(scans["ink"]), "--out", "calibration/scanner-a.yaml"]
    )
    assert result.exit_code == 0, result.output
    assert find_calibration("scanner-a").name == "scanner-a"


def test_a_page_that_is_not_the_calibration_sheet_is_refused(tmp_path):
    from PIL import Image

    Image.new("L", (1240, 1754), 250).save(tmp_path / "blank.png")
    result = CliRunner().invoke(
        cli, ["calibrate", str(tmp_path / "blank.png"), "--out", str(tmp_path / "x.yaml")]
    )
    assert result.exit_code == ExitCode.input_file
    assert "not a calibration sheet" in result.output
    assert not (tmp_path / "x.yaml").exists()
