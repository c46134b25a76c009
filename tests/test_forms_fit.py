"""`omr forms fit` end to end: three unlike sheet designs, drawn in code, scanned blank, fitted,
named by a person (here: the test), then filled stacks read with the fitted definition."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from designs import DESIGNS
from fithelpers import fit_design, name_fields, session_on_fitted_form

from omr.evaluate import evaluate_run
from omr.forms import Form
from omr.pipeline import run_session

CASES = [
    ("vendor-track", "timing-track"),
    ("corner-circles", "corner-marks"),
    ("plain-a5", "reference-image"),
]


@pytest.mark.parametrize(("name", "registration"), CASES)
def test_fit_finds_every_bubble_and_the_registration(tmp_path, name, registration):
    truth, fitted, output = fit_design(tmp_path, name)
    assert fitted["registration"]["kind"] == registration
    assert "straightened by" in output
    form = Form.model_validate(name_fields(fitted, truth))
    for field, want in truth.layout.fields.items():
        got = form.layout.fields.get(field)
        assert got is not None, f"{field} not found"
        assert got.index.shape == want.index.shape, field
    # Same geometry up to where the blank lay in the scanner: compare spacings.
    for field, want in truth.layout.fields.items():
        a = truth.layout.centers_xy[want.index.ravel()]
        b = form.layout.centers_xy[form.layout.fields[field].index.ravel()]
        assert np.abs((a - a[0]) - (b - b[0])).max() < 0.15, field
    assert (tmp_path / "fitted" / f"{name}.fit.png").stat().st_size > 10_000


@pytest.mark.parametrize(("name", "registration"), CASES)
def test_stacks_read_with_a_fitted_definition_have_no_silent_error(tmp_path, name, registration):
    session = session_on_fitted_form(tmp_path, name, 16, 7)
    assert yaml.safe_load((session / "fitted.yaml").read_text())["registration"]["kind"] == (
        registration
    )
    run_session(session, jobs=1)
    report = evaluate_run(session / "out", session / "truth.json")
    assert report["silent_errors"] == 0
    assert report["sheets_exact"] >= 0.85, report


@pytest.mark.parametrize("name", ["vendor-track", "corner-circles"])
def test_the_sample_forms_are_the_test_designs(name):
    sample = Path(__file__).resolve().parent.parent / "samples" / "forms" / f"{name}.yaml"
    assert yaml.safe_load(sample.read_text(encoding="utf-8")) == DESIGNS[name]


def test_a_filled_sheet_fits_as_well_as_a_blank_one(tmp_path):
    from click.testing import CliRunner

    from omr.cli import cli
    from omr.simulate.session import simulate_session

    truth = Form.model_validate(DESIGNS["vendor-track"])
    simulate_session(truth, 1, 3, tmp_path / "s", profile="clean")
    out = tmp_path / "filled.yaml"
    scan = tmp_path / "s" / "scans" / "stack.pdf"
    result = CliRunner().invoke(cli, ["forms", "fit", str(scan), "--out", str(out)])
    assert result.exit_code == 0, result.output
    fitted = Form.model_validate(name_fields(yaml.safe_load(out.read_text()), truth))
    for field, want in truth.layout.fields.items():
        assert fitted.layout.fields[field].index.shape == want.index.shape, field


def test_fit_on_a_page_without_bubbles_says_so(tmp_path):
    from click.testing import CliRunner
    from PIL import Image

    from omr.cli import cli

    Image.fromarray(np.full((1754, 1240), 250, np.uint8)).save(tmp_path / "p.png", dpi=(150, 150))
    out = tmp_path / "f.yaml"
    result = CliRunner().invoke(cli, ["forms", "fit", str(tmp_path / "p.png"), "--out", str(out)])
    assert result.exit_code == 3, result.output  # a typed refusal: the scan cannot be used
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "no bubbles found" in result.output and "says 150 dpi" in result.output
    assert "--dpi" in result.output
    assert not out.exists()  # no form to write ...
    assert (tmp_path / "f.fit.png").stat().st_size > 0  # ... but the page is shown
