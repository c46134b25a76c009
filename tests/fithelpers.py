"""Fit a design from its blank scan, name its fields, and read a simulated stack with it.

Shared by ``tests/test_forms_fit.py`` and ``bench/forms_fit.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import yaml
from click.testing import CliRunner
from designs import design
from PIL import Image

from omr.cli import cli
from omr.forms import Form
from omr.simulate.session import render_blank, scan_blank, simulate_session


def reference_image(form: Form) -> np.ndarray:
    """The blank sheet at the reference's dpi, exactly to scale.

    The renderer rounds the page up to whole pixels by stretching it slightly;
    a reference image must be true to its dpi, so it is brought back to size.
    """
    dpi = form.registration.dpi
    size = (round(form.page.width * dpi / 25.4), round(form.page.height * dpi / 25.4))
    return cv2.resize(render_blank(form, dpi=round(dpi)), size, interpolation=cv2.INTER_AREA)


def fit_design(folder: Path, name: str, seed: int = 1) -> tuple[Form, dict, str]:
    """Scan design ``name`` blank and run ``omr forms fit`` on it.

    Returns the truth form, the fitted form file's data and the command's output.
    """
    truth = Form.model_validate(design(name))
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(scan_blank(truth, seed)).save(folder / "blank.png", dpi=(200, 200))
    out = folder / "fitted" / f"{name}.yaml"
    result = CliRunner().invoke(cli, ["forms", "fit", str(folder / "blank.png"), "--out", str(out)])
    if result.exit_code != 0:
        raise AssertionError(result.output)
    return truth, yaml.safe_load(out.read_text(encoding="utf-8")), result.output


def name_fields(fitted: dict, truth: Form) -> dict:
    """What the person does after fitting: give each answer block its course's name.

    Blocks are matched to the truth's by position (the person reads the printed
    headings); nothing else is changed.
    """
    named = {}
    for block in fitted.get("answer_blocks", {}).values():
        nearest = min(
            truth.answer_blocks,
            key=lambda t: np.hypot(*np.subtract(truth.answer_blocks[t].origin, block["origin"])),
        )
        named[nearest] = {**block, "label": truth.answer_blocks[nearest].label.model_dump()}
    return {**fitted, "answer_blocks": named}


def session_on_fitted_form(
    folder: Path, name: str, sheets: int, seed: int, *, profile: str = "standard", jobs: int = 1
) -> Path:
    """Fit design ``name``, simulate a stack printed on the truth design, point the
    session's exam at the fitted (and named) definition. Returns the session folder."""
    truth, fitted, _ = fit_design(folder, name, seed)
    truth_dir = folder / "truth"
    truth_dir.mkdir(exist_ok=True)
    (truth_dir / f"{name}.yaml").write_text(
        yaml.safe_dump(design(name), allow_unicode=True), encoding="utf-8"
    )
    if truth.registration.kind == "reference-image":
        Image.fromarray(reference_image(truth)).save(truth_dir / truth.registration.image)
    session = folder / "session"
    simulate_session(truth, sheets, seed, session, profile=profile, jobs=jobs)
    # The session reads with the fitted, named definition, never the truth.
    (session / "fitted.yaml").write_text(
        yaml.safe_dump(name_fields(fitted, truth), allow_unicode=True), encoding="utf-8"
    )
    if fitted["registration"]["kind"] == "reference-image":
        image = fitted["registration"]["image"]
        shutil.copy(folder / "fitted" / image, session / image)
    exam = yaml.safe_load((session / "exam.yaml").read_text(encoding="utf-8"))
    exam["form"] = "fitted.yaml"
    (session / "exam.yaml").write_text(yaml.safe_dump(exam, allow_unicode=True), encoding="utf-8")
    return session


def quiz_a5_with(name: str, shape: str, marks: list, orientation_mark: list, **sizes) -> Form:
    """The built-in quiz-a5 sheet, its corner squares replaced by marks of ``shape``.

    ``sizes`` are the registration's size keys (``mark_size``, ``ring_size``, ...);
    the orientation mark is a 3 mm square.
    """
    from omr.resources import data_dir

    data = yaml.safe_load((data_dir("forms") / "quiz-a5.yaml").read_text(encoding="utf-8"))
    data["name"] = name
    data["registration"] = {
        "kind": "corner-marks",
        "shape": shape,
        "marks": marks,
        "orientation_mark": orientation_mark,
        "orientation_size": 3.0,
        **sizes,
    }
    return Form.model_validate(data)


def fit_scanned_blank(form: Form, folder: Path, seed: int = 5):
    """``omr forms fit`` on a 200 dpi scan of ``form`` printed blank.

    Returns the command's output, the fitted file's registration entry and its path.
    """
    Image.fromarray(scan_blank(form, seed, dpi=200)).save(folder / "blank.png", dpi=(200, 200))
    out = folder / "fitted.yaml"
    result = CliRunner().invoke(cli, ["forms", "fit", str(folder / "blank.png"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result.output, yaml.safe_load(out.read_text(encoding="utf-8"))["registration"], out


def assert_registers_on_its_marks(form: Form) -> None:
    """A 150 dpi scan of ``form`` registers on 4 or more of its marks within 0.15 mm."""
    from omr.detect.register import register_page

    reg = register_page(scan_blank(form, 3, dpi=150), form)
    assert reg, reg.message
    assert reg.marks_found >= 4 and reg.residual_mm < 0.15, reg
