"""Hollow ring corner marks: rendered, registered on, and proposed by `omr forms fit`.

Before: registration sampled the ink at a mark's centre, which on a ring is
paper, and the fit knew solid marks only (``found 0 registration mark(s)``).
"""

from __future__ import annotations

import numpy as np
import yaml
from click.testing import CliRunner
from PIL import Image

from omr.cli import cli
from omr.errors import ExitCode
from omr.forms import Form, load_form
from omr.resources import data_dir
from omr.simulate.session import scan_blank

MARKS = [[10, 10], [138, 10], [10, 200], [138, 200]]


def ring_form() -> Form:
    """The built-in quiz-a5 sheet, its corner squares replaced by four 7 mm rings."""
    data = yaml.safe_load((data_dir("forms") / "quiz-a5.yaml").read_text(encoding="utf-8"))
    data["name"] = "quiz-rings"
    data["registration"] = {
        "kind": "corner-marks",
        "shape": "ring",
        "mark_size": 7.0,
        "ring_width": 1.0,
        "marks": MARKS,
        "orientation_mark": [22, 10],  # beside the top-left ring: tells a half turn
        "orientation_size": 3.0,
    }
    return Form.model_validate(data)


def test_a_scanned_ring_sheet_registers_on_its_rings():
    from omr.detect.register import register_page

    form = ring_form()
    reg = register_page(scan_blank(form, 3, dpi=150), form)
    assert reg, reg.message
    assert reg.marks_found >= 4 and reg.residual_mm < 0.15, reg


def test_forms_fit_proposes_the_rings_and_the_form_checks(tmp_path):
    form = ring_form()
    Image.fromarray(scan_blank(form, 5, dpi=200)).save(tmp_path / "blank.png", dpi=(200, 200))
    out = tmp_path / "fitted.yaml"
    result = CliRunner().invoke(
        cli, ["forms", "fit", str(tmp_path / "blank.png"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "registration: corner-marks (ring)" in result.output
    reg = yaml.safe_load(out.read_text(encoding="utf-8"))["registration"]
    assert reg["shape"] == "ring" and len(reg["marks"]) == 4, reg
    d = np.hypot(*(np.array(reg["marks"])[:, None] - np.array(MARKS)[None]).transpose(2, 0, 1))
    assert d.min(axis=1).max() < 1.5, d  # the scan shifts the page a little
    assert abs(reg["mark_size"] - 7.0) < 0.5 and abs(reg["ring_width"] - 1.0) < 0.4, reg
    assert load_form(out).registration.shape == "ring"
    check = CliRunner().invoke(
        cli,
        ["forms", "check", str(out), str(tmp_path / "blank.png"), "-o", str(tmp_path / "c.png")],
    )
    assert check.exit_code == ExitCode.ok, check.output
