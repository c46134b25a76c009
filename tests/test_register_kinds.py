"""Registration strategies other than our square marks: timing tracks, circles, L-shapes, none."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import yaml
from conftest import transform
from designs import design
from fithelpers import reference_image

from omr.detect.centring import OFF_SCAN
from omr.detect.read import register
from omr.detect.sampling import apply_transform
from omr.forms import Form, load_form
from omr.simulate.session import render_blank

DPI = 150


def write_design(tmp_path, data: dict) -> Form:
    """Write ``data`` as a form file (and its reference image, if it needs one) and load it."""
    form = Form.model_validate(data)
    if form.registration.kind == "reference-image":
        cv2.imwrite(str(tmp_path / form.registration.image), reference_image(form))
    path = tmp_path / f"{form.name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_form(path)


def placed_error_mm(reg, form, degrees=0.0, shift=(0, 0), scale=1.0, shape=None) -> float:
    """Largest distance, mm, between where ``reg`` puts the bubbles and where they are."""
    h, w = shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, scale)
    m[:, 2] += shift
    # The renderer stretches the page to whole pixels: use its true scale.
    xy = form.layout.centers_xy * np.array([w / form.page.width, h / form.page.height]) - 0.5
    truth = xy @ m[:, :2].T + m[:, 2]
    err = apply_transform(reg.matrix, form.layout.centers_xy) - truth
    return float(np.abs(err).max() / (DPI / 25.4 * scale))


@pytest.fixture(scope="module")
def track_form(tmp_path_factory):
    return write_design(tmp_path_factory.mktemp("track"), design("vendor-track"))


@pytest.mark.parametrize(
    ("degrees", "shift"), [(0, (0, 0)), (2.5, (12, -9)), (-3, (-30, 40)), (178.5, (10, -7))]
)
def test_timing_track_registers_every_bubble_within_a_tenth_of_a_millimetre(
    track_form, degrees, shift
):
    blank = render_blank(track_form, dpi=DPI)
    page = transform(blank, degrees=degrees, shift=shift)
    reg = register(page, track_form)
    assert reg, reg
    assert reg.upside_down == (abs(degrees) > 90)
    assert placed_error_mm(reg, track_form, degrees, shift, shape=blank.shape) < 0.1


def test_a_track_cut_by_the_scanner_still_registers_on_the_right_dashes(track_form):
    blank = render_blank(track_form, dpi=DPI)
    page = transform(blank, degrees=-3, shift=(-30, 40))  # the track's top runs off the page
    reg = register(page, track_form)
    assert reg and reg.marks_found < reg.marks_expected
    # One dash off would put every bubble a row (5.25 mm) away.
    assert placed_error_mm(reg, track_form, -3, (-30, 40), shape=blank.shape) < 0.1


def test_a_quarter_turned_track_sheet_registers(track_form):
    blank = render_blank(track_form, dpi=DPI)
    reg = register(cv2.rotate(blank, cv2.ROTATE_90_CLOCKWISE), track_form)
    assert reg and abs(reg.rotation_deg - 90) < 0.1


def test_a_sheet_without_its_track_is_not_this_form(track_form):
    blank = render_blank(track_form, dpi=DPI)
    blank[:, : int(16 * DPI / 25.4)] = 255  # the track's strip wiped out
    reg = register(blank, track_form)
    assert not reg and reg.reason == "marks-not-found"


@pytest.mark.parametrize("shape", ["circle", "l-shape", "ring"])
@pytest.mark.parametrize(("degrees", "shift"), [(0, (0, 0)), (2.0, (12, -9)), (181.5, (-8, 5))])
def test_corner_marks_of_other_shapes_register_and_tell_upside_down(
    tmp_path, shape, degrees, shift
):
    data = design("corner-circles")
    data["registration"] = {**data["registration"], "shape": shape}
    form = write_design(tmp_path, data)
    blank = render_blank(form, dpi=DPI)
    reg = register(transform(blank, degrees=degrees, shift=shift), form)
    assert reg, reg
    assert reg.upside_down == (degrees > 90)
    assert placed_error_mm(reg, form, degrees, shift, shape=blank.shape) < 0.1


@pytest.fixture(scope="module")
def plain_form(tmp_path_factory):
    return write_design(tmp_path_factory.mktemp("plain"), design("plain-a5"))


@pytest.mark.parametrize(
    ("degrees", "shift", "scale"),
    [(0, (0, 0), 1.0), (2.5, (12, -9), 1.3), (180, (5, 5), 1.0), (-1.5, (20, 10), 0.9)],
)
def test_a_sheet_with_no_marks_registers_on_its_reference_image(plain_form, degrees, shift, scale):
    blank = render_blank(plain_form, dpi=DPI)
    page = transform(blank, degrees=degrees, shift=shift, scale=scale)
    reg = register(page, plain_form)
    assert placed_error_mm(reg, plain_form, degrees, shift, scale, shape=blank.shape) < 0.12
    if scale > 1:  # enlarged 1.3 times, the page's top is cut off: its group would read blank
        assert not reg and reg.message == f"group {OFF_SCAN}", reg
        return
    assert reg, reg
    assert reg.upside_down == (abs(degrees) > 90)


def test_another_form_is_not_taken_for_the_reference(plain_form, track_form):
    other = render_blank(track_form, dpi=DPI)
    reg = register(cv2.resize(other, (874, 1240)), plain_form)
    assert not reg and reg.reason in {"marks-not-found", "registration-weak"}


def test_a_form_with_a_missing_reference_image_is_refused(tmp_path):
    from omr.errors import InvalidFormError

    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(design("plain-a5"), allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidFormError, match=r"registration.image: no such file"):
        load_form(path)


def test_three_corner_circles_are_enough_when_the_bubbles_confirm_them(tmp_path):
    form = write_design(tmp_path, design("corner-circles"))
    blank = render_blank(form, dpi=DPI)
    x, y = (np.array(form.registration.marks[3]) * DPI / 25.4).astype(int)
    half = int(5 * DPI / 25.4)
    blank[y - half : y + half, x - half : x + half] = 255  # one corner torn off
    reg = register(transform(blank, degrees=1.0), form)
    assert reg and reg.marks_found == 3
    assert placed_error_mm(reg, form, 1.0, (0, 0), shape=blank.shape) < 0.1
    # With the printed outlines gone (a 1-bit scan loses them), three marks are not trusted.
    bare = np.full_like(blank, 255)
    bare[blank < 40] = 0  # only the solid marks and text survive
    assert not register(transform(bare, degrees=1.0), form)


def test_ring_marks_are_hollow_solid_circles_are_not_rings(tmp_path):
    from omr.detect.register.marks import find_rings

    data = design("corner-circles")
    rings = write_design(
        tmp_path, {**data, "registration": {**data["registration"], "shape": "ring"}}
    )
    discs = write_design(tmp_path, data)  # the same sheet printed with solid circles
    px = 6 * DPI / 25.4
    assert len(find_rings(render_blank(rings, dpi=DPI), px)) == 4
    assert len(find_rings(render_blank(discs, dpi=DPI), px)) == 0
    assert not register(render_blank(discs, dpi=DPI), rings)
