"""Hollow ring corner marks: rendered, registered on, and proposed by `omr forms fit`.

Before: registration sampled the ink at a mark's centre, which on a ring is
paper, and the fit knew solid marks only (``found 0 registration mark(s)``).
"""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner
from fithelpers import assert_registers_on_its_marks, fit_scanned_blank, quiz_a5_with

from omr.cli import cli
from omr.errors import ExitCode
from omr.forms import Form, load_form

MARKS = [[10, 10], [138, 10], [10, 200], [138, 200]]


def ring_form() -> Form:
    """The built-in quiz-a5 sheet, its corner squares replaced by four 7 mm rings."""
    # The orientation square beside the top-left ring tells a half turn.
    return quiz_a5_with("quiz-rings", "ring", MARKS, [22, 10], mark_size=7.0, ring_width=1.0)


def test_a_scanned_ring_sheet_registers_on_its_rings():
    assert_registers_on_its_marks(ring_form())


def test_forms_fit_proposes_the_rings_and_the_form_checks(tmp_path):
    output, reg, out = fit_scanned_blank(ring_form(), tmp_path)
    assert "registration: corner-marks (ring)" in output
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


def test_the_overlay_draws_ring_marks_as_rings():
    """Drawn on a blank page with the identity fit, a ring mark's outline is a circle."""
    from omr.detect.overlay import overlay

    form = ring_form()
    scale = 4.0  # px per mm
    blank = np.full((round(form.page.height * scale), round(form.page.width * scale)), 255, "u1")
    drawn = overlay(blank, np.diag([scale, scale, 1.0]), form)
    r_, g_ = drawn[..., 0].astype(int), drawn[..., 1].astype(int)
    red = r_ - g_ > 60  # the marks' red, anti-aliased
    x, y = (np.asarray(MARKS[0]) * scale).round().astype(int)
    r = round(7.0 / 2 * scale)
    # On the circle through the mark's edge, not at its bounding square's corner.
    assert red[y, x - r - 1 : x - r + 2].any() and red[y - r - 1 : y - r + 2, x].any()
    corner = red[y - r - 1 : y - r + 2, x - r - 1 : x - r + 2]
    assert not corner.any(), "a ring's outline must not reach its bounding square's corner"
