"""A fit is proven before anything is read: near misses of a pitch or half of one never pass."""

from __future__ import annotations

import copy

import cv2
import numpy as np
import yaml
from conftest import blank_sheet
from designs import design
from fithelpers import reference_image
from simhelpers import reference_session

from omr.calibration import find_calibration
from omr.detect.proof import prove_fit
from omr.detect.read import read_page, register
from omr.detect.reference import align_on_reference, reference_features
from omr.detect.refine import refine_on_outlines
from omr.detect.register import grey_percentiles
from omr.detect.sampling import apply_transform
from omr.evaluate import evaluate_run
from omr.forms import Form, load_form
from omr.pages import find_pages, load_page
from omr.pipeline import run_session
from omr.simulate.session import render_blank, simulate_session


def _levels(page):
    ink, paper = grey_percentiles(page, (0.5, 90))
    return {"paper": paper, "ink": ink}


def _moved(matrix, shift_mm):
    """``matrix`` applied after a shift of the form by ``shift_mm``: a fit that far off."""
    t = np.eye(3)
    t[:2, 2] = shift_mm
    return matrix @ t


def _steps(form, field):
    f = form.layout.fields[field]
    xy = form.layout.centers_xy
    return xy[f.index[0, 1]] - xy[f.index[0, 0]], xy[f.index[1, 0]] - xy[f.index[0, 0]]


def test_the_right_fit_is_proven_and_every_near_miss_is_not(central):
    page = blank_sheet(central, 150)
    reg = register(page, central)
    assert reg, reg
    proof = prove_fit(page, reg.matrix, central, **_levels(page))
    assert proof.ok, proof.reason
    assert proof.margin > 0.3
    option, item = _steps(central, "course1")
    for k in (0.5, 1.0, 1.5):
        for step in (option, -option, item, -item):
            off = prove_fit(page, _moved(reg.matrix, k * step), central, **_levels(page))
            assert not off.ok, (k, step, off)
            assert off.margin < 0.1


def test_a_fit_off_by_a_pitch_in_the_lower_half_only_is_not_proven(central):
    page = blank_sheet(central, 150)
    reg = register(page, central)
    _, item = _steps(central, "course1")
    # Stretched down the page about its top: right at the top, an item off at the bottom.
    stretch = np.eye(3)
    stretch[1, 1] = 1 + np.linalg.norm(item) / central.page.height * 2
    proof = prove_fit(page, reg.matrix @ stretch, central, **_levels(page))
    assert not proof.ok
    assert "bottom" in proof.weakest or not proof.weakest.startswith("top")


def _shifted_design(pitches: float) -> dict:
    """plain-a5 with every bubble field printed ``pitches`` option pitches to the right."""
    data = copy.deepcopy(design("plain-a5"))
    form = Form.model_validate(data)
    fields = [
        ("group", data["group"], form.layout.fields["group"]),
        ("student_number", data["identity"]["student_number"], None),
        ("quiz", data["answer_blocks"]["quiz"], form.layout.fields["quiz"]),
    ]
    xy = form.layout.centers_xy
    for name, spec, layout in fields:
        f = layout or form.layout.fields[name]
        if f.kind == "digits":
            step = xy[f.index[1, 0]] - xy[f.index[0, 0]]  # digit positions run across
        else:
            step = xy[f.index[0, 1]] - xy[f.index[0, 0]]
        dx = pitches * float(step[0])
        spec["first"] = [spec["first"][0] + dx, spec["first"][1]]
        spec["last"] = [spec["last"][0] + dx, spec["last"][1]]
    data["name"] = "plain-a5-shifted"
    return data


def _straightened(page: np.ndarray, form: Form, dpi: float) -> np.ndarray:
    """A scanned page brought into the form's frame at ``dpi``: what `forms fit` defines on."""
    reg = register(page, form)
    assert reg, reg
    k = dpi / 25.4
    to_px = np.array([[k, 0, -0.5], [0, k, -0.5], [0, 0, 1]])
    size = (round(form.page.width * k), round(form.page.height * k))
    inverse = np.linalg.inv(reg.matrix @ np.linalg.inv(to_px))
    return cv2.warpAffine(page, inverse[:2], size, flags=cv2.INTER_LINEAR, borderValue=255)


def test_a_reference_made_from_a_filled_sheet_scores_no_page_printed_a_pitch_and_a_half_off(
    tmp_path,
):
    """The done-when of the real-sheet issue, at 150 dpi on the simulator."""
    true_form_dir = tmp_path / "true"
    true_form_dir.mkdir()
    data = design("plain-a5")
    true_form = Form.model_validate(data)
    cv2.imwrite(str(true_form_dir / "plain-a5.png"), reference_image(true_form))
    (true_form_dir / "plain-a5.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    true_form = load_form(true_form_dir / "plain-a5.yaml")

    simulate_session(true_form, 5, 11, tmp_path / "good", profile="demo")
    shifted_form = Form.model_validate(_shifted_design(1.5))
    simulate_session(shifted_form, 5, 12, tmp_path / "shifted", profile="demo")

    # The form a user makes from one filled sheet of the stack, at its own 150 dpi.
    refs, _ = find_pages([tmp_path / "good" / "scans"])
    first = load_page(refs[0])
    assert round(first.dpi) == 150
    form_dir = tmp_path / "form"
    form_dir.mkdir()
    cv2.imwrite(str(form_dir / "sheet.png"), _straightened(first.gray, true_form, 150))
    user = {**data, "registration": {"kind": "reference-image", "image": "sheet.png", "dpi": 150}}
    (form_dir / "quiz.yaml").write_text(yaml.safe_dump(user), encoding="utf-8")
    form = load_form(form_dir / "quiz.yaml")
    calibration = find_calibration()

    read_good = [read_page(load_page(r).gray, form, calibration) for r in refs[1:]]
    read_shifted = [
        read_page(load_page(r).gray, form, calibration)
        for r in find_pages([tmp_path / "shifted" / "scans"])[0]
    ]
    assert all(r.problem == "" for r in read_good), [r.message for r in read_good]
    # No shifted page is scored: each is refused before a bubble is read.
    assert all(r.problem in {"marks-not-found", "registration-weak"} for r in read_shifted), [
        (r.problem, r.message) for r in read_shifted
    ]
    # The reference match refuses most of them by its correlation; the proof
    # alone must refuse every one whose features were matched all the same.
    reference = reference_features(
        form.reference_gray, 150 / 25.4, bubbles_mm=form.layout.centers_xy
    )
    for r in find_pages([tmp_path / "shifted" / "scans"])[0]:
        page = load_page(r).gray
        fit = align_on_reference(page, reference, px_per_mm_guess=150 / 25.4, min_correlation=0)
        assert not isinstance(fit, str), fit
        proof = prove_fit(page, fit.matrix, form, **_levels(page))
        assert not proof.ok and proof.margin < 0.1, proof


def test_a_fit_a_little_off_is_brought_onto_the_printed_outlines(tmp_path):
    data = design("plain-a5")
    form = Form.model_validate(data)
    cv2.imwrite(str(tmp_path / "plain-a5.png"), reference_image(form))
    (tmp_path / "plain-a5.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    form = load_form(tmp_path / "plain-a5.yaml")
    page = render_blank(form, dpi=150)
    reg = register(page, form)
    assert reg, reg
    xy = form.layout.centers_xy
    # Off by 1.2 mm across, 0.8 mm down, and stretched 0.4% down the page.
    off = np.array([[1.0, 0.0, 1.2], [0.0, 1.004, -0.8], [0.0, 0.0, 1.0]])
    refined = refine_on_outlines(page, reg.matrix @ off, form, **_levels(page))
    err = np.linalg.norm(apply_transform(refined, xy) - apply_transform(reg.matrix, xy), axis=1)
    assert err.max() / reg.px_per_mm < 0.15
    assert prove_fit(page, refined, form, **_levels(page)).ok


def test_a_simulated_reference_session_scores_no_page_printed_off_register(tmp_path):
    """Issue 12's done-when: a reference-image form made from one filled sheet at 150 dpi;
    the stack's pages printed 1.5 pitches off (whole page, or its lower half) are all held."""
    truth = reference_session(tmp_path, sheets=8, seed=3, dpi=150, misregister=0.5)
    shifted = [s for s in truth["sheets"].values() if s["misregistered"]]
    assert len(shifted) >= 2
    run_session(tmp_path, jobs=1)
    report = evaluate_run(tmp_path / "out", tmp_path / "truth.json")
    assert report["misregistered"]["pages"] == len(shifted)
    assert report["misregistered"]["scored"] == 0, report["misregistered"]["scored_pages"]
    assert report["silent_errors"] == 0
    # the pages in register are read, not all sent to a person
    assert report["sheets_exact_count"] >= report["sheets"] - len(shifted) - 1


def test_forms_check_passes_the_photo_run_reads_and_refuses_a_page_printed_off(tmp_path):
    """`forms check` registers exactly as `run` does: the photo retry, and the proof."""
    from click.testing import CliRunner

    from omr.cli import cli
    from omr.errors import ExitCode
    from omr.forms import find_form

    form = find_form("central-a4")
    # Seed 15's first photo: its flat fit cannot tell the way up; run straightens it.
    simulate_session(form, 1, 15, tmp_path / "photo", profile="photo", jobs=1)
    (photo,), _ = find_pages([tmp_path / "photo" / "scans"])
    result = CliRunner().invoke(
        cli, ["forms", "check", "central-a4", str(photo.path), "-o", str(tmp_path / "p.png")]
    )
    assert result.exit_code == 0, result.output
    assert "proven by the printed outlines" in result.output
    assert "read as a photo" in result.output

    # A page whose bubble fields were printed half a pitch off its marks.
    page = blank_sheet(form, 150)
    option, _ = _steps(form, "course1")
    px = 150 / 25.4
    moved = np.float32([[1, 0, 0.5 * option[0] * px], [0, 1, 0]])
    marks_kept = cv2.warpAffine(page, moved, page.shape[::-1], borderValue=255)
    for x, y in form.registration.landmarks_mm():  # the marks stay where they were printed
        r = round(4 * px)
        cx, cy = round(x * px), round(y * px)
        marks_kept[cy - r : cy + r, cx - r : cx + r] = page[cy - r : cy + r, cx - r : cx + r]
    cv2.imwrite(str(tmp_path / "off.png"), marks_kept)
    result = CliRunner().invoke(
        cli,
        ["forms", "check", "central-a4", str(tmp_path / "off.png"), "-o", str(tmp_path / "o.png")],
    )
    assert result.exit_code == ExitCode.review_needed, result.output
    assert "not registered: the printed bubbles fit as well" in result.output
    assert "proof margin" in result.output and "drawn where the fit put it" in result.output
