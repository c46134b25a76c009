"""A marker image the user supplies as a registration kind (``kind: marker-image``).

Simulated: the quiz-a5 sheet printed with copies of a picture in its corners
instead of squares, rendered, turned, shifted, scaled, a copy torn off.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import yaml
from conftest import transform

from omr.detect.read import register
from omr.detect.sampling import apply_transform
from omr.forms import load_form
from omr.resources import data_dir
from omr.simulate.session import render_blank

DPI = 150
INSET = (13.0, 13.0)  # the copies keep 8 mm off the edges: scanners shift pages 3 mm
SIZE = 10.0


def flag_marker() -> np.ndarray:
    """A picture unlike itself under any turn: a black square, a white notch at its top left."""
    img = np.full((120, 120), 255, np.uint8)
    img[10:110, 10:110] = 0
    img[25:55, 25:70] = 255  # off-centre: tells every quarter turn
    return img


def bullseye_marker() -> np.ndarray:
    """OMRChecker's kind of marker: rings round a dot, the same under every turn."""
    img = np.full((121, 121), 255, np.uint8)
    for r, v in ((58, 0), (46, 255), (34, 0), (22, 255), (12, 0)):
        cv2.circle(img, (60, 60), r, v, -1, cv2.LINE_AA)
    return img


def marker_form(tmp_path, picture: np.ndarray, **reg):
    """quiz-a5 registered on ``picture`` (written beside the form file) in its four corners."""
    data = yaml.safe_load((data_dir("forms") / "quiz-a5.yaml").read_text(encoding="utf-8"))
    data["name"] = "quiz-marker"
    data["registration"] = {
        "kind": "marker-image",
        "image": "marker.png",
        "mark_size": SIZE,
        "inset": list(INSET),
        **reg,
    }
    cv2.imwrite(str(tmp_path / "marker.png"), picture)
    path = tmp_path / "quiz-marker.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_form(path)


@pytest.fixture(scope="module")
def flag(tmp_path_factory):
    form = marker_form(tmp_path_factory.mktemp("flag"), flag_marker())
    return form, render_blank(form, dpi=DPI)


MARGIN = 160  # px of white round the page: a shifted or turned page keeps its corners


def moved(blank, degrees=0.0, shift=(0, 0), scale=1.0):
    """``blank`` turned, shifted and scaled on a canvas a margin larger all round."""
    h, w = blank.shape
    return transform(
        blank, degrees=degrees, shift=shift, scale=scale, canvas=(h + MARGIN, w + MARGIN)
    )


def placed_error_mm(reg, form, blank_shape, degrees=0.0, shift=(0, 0), scale=1.0) -> float:
    """Largest distance, mm, between where ``reg`` puts the bubbles and where they are
    on a page made by :func:`moved`."""
    h, w = blank_shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, scale)
    m[:, 2] += np.asarray(shift, dtype=float) + MARGIN / 2
    xy = form.layout.centers_xy * np.array([w / form.page.width, h / form.page.height]) - 0.5
    err = apply_transform(reg.matrix, form.layout.centers_xy) - (xy @ m[:, :2].T + m[:, 2])
    return float(np.abs(err).max() / (DPI / 25.4 * scale))


def test_inset_puts_a_copy_in_each_corner(flag):
    form, _ = flag
    assert form.registration.marks == [(13, 13), (135, 13), (135, 197), (13, 197)]
    assert form.registration.mark_size == (SIZE, SIZE)


@pytest.mark.parametrize(
    ("degrees", "shift", "scale"),
    [(0, (0, 0), 1.0), (2.5, (25, -18), 1.0), (-1.5, (-12, 20), 0.92), (181.0, (10, -7), 1.06)],
)
def test_the_sheet_registers_on_its_marker_copies(flag, degrees, shift, scale):
    form, blank = flag
    page = moved(blank, degrees, shift, scale)
    reg = register(page, form)
    assert reg, reg
    assert reg.marks_found == 4 and reg.upside_down == (abs(degrees) > 90)
    assert placed_error_mm(reg, form, blank.shape, degrees, shift, scale) < 0.15


def test_a_quarter_turned_sheet_is_told_by_the_marker(flag):
    form, blank = flag
    reg = register(cv2.rotate(blank, cv2.ROTATE_90_CLOCKWISE), form)
    assert reg and abs(reg.rotation_deg - 90) < 0.2, reg


def test_a_torn_off_copy_leaves_three_and_the_outlines_prove_the_fit(flag):
    form, blank = flag
    page = moved(blank, 1.0, (8, 5))
    k = MARGIN // 2 + round(22 * DPI / 25.4)
    page[-k:, -k:] = 255  # the bottom-right corner torn off, its copy with it
    reg = register(page, form)
    assert reg, reg
    assert reg.marks_found == 3 and reg.proof.get("proven"), reg.summary()
    assert placed_error_mm(reg, form, blank.shape, 1.0, (8, 5)) < 0.15


def test_a_page_without_the_marker_is_refused_with_a_reason(flag, tmp_path):
    form, _ = flag
    other = marker_form(tmp_path, bullseye_marker())
    reg = register(render_blank(other, dpi=DPI), form)  # bullseyes printed, a notch wanted
    assert not reg and reg.reason == "marks-not-found", reg
    assert "marker image" in reg.message


def test_a_bullseye_marker_leaves_the_way_up_to_the_outlines(tmp_path):
    form = marker_form(tmp_path, bullseye_marker())
    blank = render_blank(form, dpi=DPI)
    for degrees in (0.5, 180.5):
        reg = register(moved(blank, degrees, (6, -4)), form)
        assert reg, reg
        assert reg.upside_down == (degrees > 90)
        assert placed_error_mm(reg, form, blank.shape, degrees, (6, -4)) < 0.15


def test_a_missing_marker_file_is_a_form_problem(tmp_path):
    from omr.errors import InvalidFormError

    form = marker_form(tmp_path, flag_marker())
    (tmp_path / "marker.png").unlink()
    with pytest.raises(InvalidFormError, match="no such file"):
        load_form(tmp_path / "quiz-marker.yaml")
    assert form.registration.kind == "marker-image"


def _fit_with_marker(tmp_path, form, picture_file):
    from click.testing import CliRunner
    from PIL import Image

    from omr.cli import cli
    from omr.simulate.session import scan_blank

    Image.fromarray(scan_blank(form, 5, dpi=200)).save(tmp_path / "blank.png", dpi=(200, 200))
    out = tmp_path / "fit" / "fitted.yaml"
    args = ["forms", "fit", str(tmp_path / "blank.png"), "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--marker", str(picture_file)])
    assert result.exit_code == 0, result.output
    return result.output, out


def test_forms_fit_proposes_the_marker_image_given_and_the_form_checks(tmp_path):
    from click.testing import CliRunner

    from omr.cli import cli

    form = marker_form(tmp_path, flag_marker())
    output, out = _fit_with_marker(tmp_path, form, tmp_path / "marker.png")
    assert "registration: marker-image" in output, output
    reg = yaml.safe_load(out.read_text(encoding="utf-8"))["registration"]
    assert reg["image"] == "marker.png" and (out.parent / "marker.png").is_file()
    assert abs(np.mean(reg["mark_size"]) - SIZE) < 0.5, reg
    truth = np.asarray(form.registration.marks)
    d = np.hypot(*(np.array(reg["marks"])[:, None] - truth[None]).transpose(2, 0, 1))
    assert len(reg["marks"]) == 4 and d.min(axis=1).max() < 2.5, d  # the scan shifts it
    check = CliRunner().invoke(
        cli,
        ["forms", "check", str(out), str(tmp_path / "blank.png"), "-o", str(tmp_path / "c.png")],
    )
    assert check.exit_code == 0 and "registered: 4 of 4 marks" in check.output, check.output


def test_forms_fit_says_when_the_marker_given_is_not_on_the_sheet(tmp_path):
    form = marker_form(tmp_path, flag_marker())
    other = tmp_path / "other.png"
    cv2.imwrite(str(other), bullseye_marker())
    output, out = _fit_with_marker(tmp_path, form, other)
    assert "the marker image other.png was found" in output, output
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["registration"]["kind"] != "marker-image"


def test_a_stack_read_with_the_fitted_marker_form_has_no_silent_error(tmp_path):
    """Fitted with --marker, named, then a simulated stack (scanned, some turned) read with it."""
    from fithelpers import name_fields

    from omr.evaluate import evaluate_run
    from omr.pipeline import run_session
    from omr.simulate.session import simulate_session

    truth = marker_form(tmp_path, flag_marker())
    _, out = _fit_with_marker(tmp_path, truth, tmp_path / "marker.png")
    session = tmp_path / "session"
    simulate_session(truth, 12, 11, session, profile="standard", jobs=1)
    fitted = yaml.safe_load(out.read_text(encoding="utf-8"))
    named = name_fields(fitted, truth)
    (session / "fitted.yaml").write_text(yaml.safe_dump(named, allow_unicode=True), "utf-8")
    cv2.imwrite(str(session / "marker.png"), flag_marker())
    exam = yaml.safe_load((session / "exam.yaml").read_text(encoding="utf-8"))
    exam["form"] = "fitted.yaml"
    (session / "exam.yaml").write_text(yaml.safe_dump(exam, allow_unicode=True), "utf-8")
    run_session(session, jobs=1)
    report = evaluate_run(session / "out", session / "truth.json")
    assert report["silent_errors"] == 0, report
    assert report["sheets_exact"] >= 0.75, report


def test_marks_and_inset_together_are_refused_with_the_key_path():
    from omr.forms import form_problems

    data = yaml.safe_load((data_dir("forms") / "quiz-a5.yaml").read_text(encoding="utf-8"))
    data["registration"] = {
        "kind": "marker-image",
        "image": "marker.png",
        "mark_size": SIZE,
        "inset": 13,
        "marks": [[13, 13], [135, 13], [135, 197], [13, 197]],
    }
    paths = [where for where, _ in form_problems(data)]
    assert paths == ["registration.marker-image.inset"], paths


def test_a_photo_in_perspective_is_straightened_on_its_copies(flag):
    """The sheet fills 70% of a photo's frame, in perspective, on a white desk (no page edge
    to straighten it by): straightened on its four copies."""
    from omr.detect.read import register_sheet
    from omr.detect.register.marker import marker_quad

    form, blank = flag
    h, w = blank.shape
    frame = (round(1.45 * h), round(1.45 * w))
    page_corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    seen = np.float32(
        [[0.2 * w, 0.22 * h], [1.2 * w, 0.18 * h], [1.27 * w, 1.3 * h], [0.16 * w, 1.26 * h]]
    )
    warp = cv2.getPerspectiveTransform(page_corners, seen)
    photo = cv2.warpPerspective(blank, warp, frame[::-1], borderValue=255)
    quad = marker_quad(photo, form)
    truth = cv2.perspectiveTransform(
        (np.asarray(form.registration.marks) * DPI / 25.4)[None].astype(np.float32), warp
    )[0]
    assert quad is not None
    assert np.abs(np.sort(quad, axis=0) - np.sort(truth, axis=0)).max() < 3.0, (quad, truth)
    placed = register_sheet(photo, form)
    assert placed.registration and placed.photo, placed.registration


def test_forms_check_says_a_bullseye_picture_leaves_the_way_up_to_the_outlines(tmp_path):
    from omr.detect.register.marker import same_half_turned
    from omr.pipeline import check_form_on_scan

    assert same_half_turned(bullseye_marker()) and not same_half_turned(flag_marker())
    form = marker_form(tmp_path, bullseye_marker())
    cv2.imwrite(str(tmp_path / "page.png"), render_blank(form, dpi=DPI))
    check = check_form_on_scan(form, tmp_path / "page.png")
    note = [n for n in check.notes if "the marker image looks the same half turned" in n]
    assert check.ok and note and "told by the bubble outlines" in note[0], check.notes


def test_a_bullseye_drawn_off_its_pictures_centre_registers_both_ways_up(tmp_path):
    """Off its picture's centre by 5% (0.5 mm printed), a bullseye matches best in a wrong turn
    of the picture, off its centre: each turn of the page is fitted on copies centred in it."""
    picture = np.full((121, 121), 255, np.uint8)
    for r, v in ((50, 0), (40, 255), (30, 0), (20, 255), (10, 0)):
        cv2.circle(picture, (66, 60), r, v, -1, cv2.LINE_AA)
    form = marker_form(tmp_path, picture)
    blank = render_blank(form, dpi=DPI)
    for degrees in (0.5, 180.5):
        reg = register(moved(blank, degrees, (6, -4)), form)
        assert reg, reg  # before: orientation-unknown both ways
        assert reg.upside_down == (degrees > 90)
        assert placed_error_mm(reg, form, blank.shape, degrees, (6, -4)) < 0.15
