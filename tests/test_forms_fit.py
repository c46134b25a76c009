"""`omr forms fit` end to end: three unlike sheet designs, drawn in code, scanned blank, fitted,
named by a person (here: the test), then filled stacks read with the fitted definition."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from designs import design
from PIL import Image
from simhelpers import scan_params
from test_register_kinds import reference_image

from cli import cli
from omr.evaluate import evaluate_run
from omr.forms import Form
from omr.pipeline import run_session
from omr.simulate.scanner import scan_page
from omr.simulate.session import render_blank, simulate_session

SCAN_DPI = 200


def blank_scan(truth: Form, path, *, degrees: float, seed: int) -> None:
    """The blank sheet printed and scanned: turned, shifted, blurred, noisy, with its dpi."""
    params = scan_params(
        dpi=SCAN_DPI,
        rotation_deg=degrees,
        shift_mm=(1.5, -2.0),
        blur_sigma=0.6,
        noise_sigma=3.0,
        jpeg_quality=90,
    )
    page = scan_page(
        render_blank(truth, dpi=300),
        params,
        page_mm=(truth.page.width, truth.page.height),
        rng=np.random.default_rng(seed),
    )
    Image.fromarray(page).save(path, dpi=(SCAN_DPI, SCAN_DPI))


def fit(tmp_path, name: str, degrees: float) -> tuple[Form, dict, object]:
    """Scan the blank truth design and run ``omr forms fit`` on it; return truth, fitted data."""
    truth = Form.model_validate(design(name))
    blank_scan(truth, tmp_path / "blank.png", degrees=degrees, seed=len(name))
    out = tmp_path / "fitted" / f"{name}.yaml"
    result = CliRunner().invoke(
        cli, ["forms", "fit", str(tmp_path / "blank.png"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return truth, yaml.safe_load(out.read_text(encoding="utf-8")), result


def name_fields(fitted: dict, truth: Form) -> dict:
    """What the person does after fitting: give each answer block its course's name.

    Blocks are matched to the truth's by position (the person reads the printed
    headings); nothing else is changed.
    """
    blocks = fitted.get("answer_blocks", {})
    named = {}
    for block_name, block in blocks.items():
        nearest = min(
            truth.answer_blocks,
            key=lambda t: np.hypot(*np.subtract(truth.answer_blocks[t].origin, block["origin"])),
        )
        named[nearest] = {**block, "label": truth.answer_blocks[nearest].label.model_dump()}
        del block_name
    return {**fitted, "answer_blocks": named}


@pytest.mark.parametrize(
    ("name", "registration", "degrees"),
    [
        ("vendor-track", "timing-track", 1.2),
        ("corner-circles", "corner-marks", -0.8),
        ("plain-a5", "reference-image", 0.5),
    ],
)
def test_fit_finds_every_bubble_and_the_registration(tmp_path, name, registration, degrees):
    truth, fitted, result = fit(tmp_path, name, degrees)
    assert fitted["registration"]["kind"] == registration
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


@pytest.mark.parametrize(
    ("name", "degrees"), [("vendor-track", 1.2), ("corner-circles", -0.8), ("plain-a5", 0.5)]
)
def test_stacks_read_with_a_fitted_definition_have_no_silent_error(tmp_path, name, degrees):
    truth, fitted, _ = fit(tmp_path, name, degrees)
    session = tmp_path / "session"
    truth_file = tmp_path / "truth" / f"{name}.yaml"
    truth_file.parent.mkdir()
    data = design(name)
    truth_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    if truth.registration.kind == "reference-image":
        Image.fromarray(reference_image(truth)).save(truth_file.parent / truth.registration.image)
    simulate_session(truth, 24, 7, session, profile="standard")
    # The session reads with the fitted, named definition, never the truth.
    (session / "fitted.yaml").write_text(
        yaml.safe_dump(name_fields(fitted, truth), allow_unicode=True), encoding="utf-8"
    )
    if fitted["registration"]["kind"] == "reference-image":
        image = fitted["registration"]["image"]
        shutil.copy(tmp_path / "fitted" / image, session / image)
    exam = yaml.safe_load((session / "exam.yaml").read_text(encoding="utf-8"))
    exam["form"] = "fitted.yaml"
    (session / "exam.yaml").write_text(yaml.safe_dump(exam, allow_unicode=True), encoding="utf-8")
    run_session(session, jobs=1)
    report = evaluate_run(session / "out", session / "truth.json")
    assert report["silent_errors"] == 0
    assert report["sheets_exact"] >= 0.9, report
