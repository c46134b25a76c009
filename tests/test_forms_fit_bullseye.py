"""Bullseye corner marks (rings round a solid dot, OMRChecker's marker): rendered, found,
registered on, and proposed by `omr forms fit`."""

from __future__ import annotations

import cv2
import numpy as np
import yaml
from fithelpers import assert_registers_on_its_marks, fit_scanned_blank, quiz_a5_with

from omr.detect.landmarks import find_bullseyes
from omr.forms import Form, load_form
from omr.simulate.session import render_blank, scan_blank

MARKS = [[9, 9], [139, 9], [9, 201], [139, 201]]


def bullseye_form() -> Form:
    """The built-in quiz-a5 sheet, its corner squares replaced by four bullseyes."""
    # The orientation square beside the top-left bullseye tells a half turn.
    return quiz_a5_with("quiz-bullseye", "bullseye", MARKS, [21, 9], mark_size=2.0, ring_size=9.0)


def test_the_bullseyes_are_found_and_lettered_bubbles_are_not():
    form = bullseye_form()
    page = render_blank(form, dpi=150)  # its bubbles have letters and digits inside
    px = 150 / 25.4
    for scale in (1.0, 4.0 / px):  # as printed, and at the scale registration looks at
        small = cv2.resize(page, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        found = find_bullseyes(small, 2.0 * px * scale) / (px * scale)
        assert len(found) == 4, found
        d = np.hypot(*(found[:, None, :] - np.array(MARKS)[None]).transpose(2, 0, 1))
        assert d.min(axis=1).max() < 0.3, d


def test_a_scanned_bullseye_sheet_registers_on_its_marks():
    assert_registers_on_its_marks(bullseye_form())


def test_forms_fit_proposes_the_bullseyes(tmp_path):
    output, reg, out = fit_scanned_blank(bullseye_form(), tmp_path)
    assert "registration: corner-marks (bullseye)" in output
    assert reg["shape"] == "bullseye" and len(reg["marks"]) == 4
    assert abs(reg["mark_size"] - 2.0) < 0.3 and abs(reg["ring_size"] - 9.0) < 0.6, reg
    fitted = load_form(out)
    assert fitted.registration.shape == "bullseye"
    assert np.allclose(reg["orientation_mark"], [21, 9], atol=1.5), reg


def test_bullseyes_that_cannot_tell_a_half_turn_leave_the_scan_as_reference(tmp_path):
    # UmarFarootAPS: four bullseyes, nothing else to tell which way up, bubbles
    # that fit both ways up. A form on them would send every sheet to a person.
    from click.testing import CliRunner
    from PIL import Image

    from omr.cli import cli

    form = bullseye_form()
    data = form.model_dump(exclude_none=True)
    del data["registration"]["orientation_mark"]
    symmetric = Form.model_validate(data)
    Image.fromarray(scan_blank(symmetric, 5, dpi=200)).save(tmp_path / "b.png", dpi=(200, 200))
    out = tmp_path / "fitted.yaml"
    result = CliRunner().invoke(cli, ["forms", "fit", str(tmp_path / "b.png"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "bullseye marks found do not register the scan" in result.output
    reg = yaml.safe_load(out.read_text(encoding="utf-8"))["registration"]
    assert reg["kind"] == "reference-image" and (tmp_path / reg["image"]).exists()
