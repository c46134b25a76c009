"""Registration: rotation, upside down, quarter turns, scale, shift, and honest failure."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import blank_sheet, transform

from omr.detect.register import (
    find_square_marks,
    half_turn_tells,
    outline_contrast,
    register_page,
)
from omr.detect.sampling import apply_transform
from omr.simulate.scanner import Shadow, shadow_field

DPI = 150


def _truth_px(form, dpi, degrees=0.0, shift=(0, 0), scale=1.0, shape=None):
    """Where the form's bubble centres land in the transformed page."""
    page = blank_sheet(form, dpi)
    h, w = page.shape
    out_h, out_w = shape or (h, w)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, scale)
    m[:, 2] += np.array(shift, dtype=float) + (np.array([out_w, out_h]) - [w, h]) / 2
    # The renderer rounds the page to whole pixels, so use its true scale; pixel
    # centres sit at index + 0.5.
    px_per_mm = np.array([w / form.page.width, h / form.page.height])
    xy = form.layout.centers_xy * px_per_mm - 0.5
    return xy @ m[:, :2].T + m[:, 2]


@pytest.mark.parametrize(
    ("degrees", "shift", "scale"),
    [(0, (0, 0), 1.0), (2.5, (12, -9), 1.0), (-3, (-15, 6), 0.98), (1.2, (0, 0), 1.02)],
)
def test_registration_maps_every_bubble_within_a_tenth_of_a_millimetre(
    central, degrees, shift, scale
):
    page = transform(blank_sheet(central, DPI), degrees=degrees, shift=shift, scale=scale)
    reg = register_page(page, central)
    assert reg, reg
    err_px = apply_transform(reg.matrix, central.layout.centers_xy) - _truth_px(
        central, DPI, degrees, shift, scale
    )
    assert np.abs(err_px).max() / (DPI / 25.4) < 0.05
    assert reg.rotation_deg == pytest.approx(-degrees, abs=0.05)
    assert not reg.upside_down


@pytest.mark.parametrize("degrees", [180.0, 178.0, 182.5])
def test_upside_down_sheet_is_recognised_and_mapped(central, degrees):
    page = transform(blank_sheet(central, DPI), degrees=degrees)
    reg = register_page(page, central)
    assert reg and reg.upside_down
    err_px = apply_transform(reg.matrix, central.layout.centers_xy) - _truth_px(
        central, DPI, degrees
    )
    assert np.abs(err_px).max() / (DPI / 25.4) < 0.05


@pytest.mark.parametrize("turn", [cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE])
def test_quarter_turned_page_registers(central, turn):
    page = cv2.rotate(blank_sheet(central, DPI), turn)
    reg = register_page(page, central)
    assert reg
    assert abs(reg.rotation_deg) == pytest.approx(90, abs=0.05)


def test_other_form_size_registers(quiz):
    page = transform(blank_sheet(quiz, 200), degrees=-1.5, shift=(5, 5))
    reg = register_page(page, quiz)
    assert reg and reg.marks_found == 7  # six symmetric marks and the orientation mark


def test_blank_page_is_reported_as_blank(central):
    reg = register_page(np.full((1754, 1240), 247, np.uint8), central)
    assert not reg
    assert reg.reason == "blank-page"


def test_another_document_is_not_registered(central):
    rng = np.random.default_rng(3)
    page = np.full((1754, 1240), 250, np.uint8)
    for _ in range(300):  # text-like clutter, no square marks
        x, y = rng.integers(50, 1150), rng.integers(50, 1650)
        cv2.putText(page, "lorem", (int(x), int(y)), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 20, 2)
    reg = register_page(page, central)
    assert not reg
    assert reg.reason == "marks-not-found"
    assert "registration mark" in reg.message


@pytest.mark.parametrize("degrees", [0.5, 180.5])
def test_missing_orientation_mark_is_replaced_by_the_bubble_outlines(central, degrees):
    page = _without_orientation_mark(central, blank_sheet(central, DPI))
    reg = register_page(transform(page, degrees=degrees), central)
    assert reg
    assert reg.upside_down == (degrees > 90)
    err_px = apply_transform(reg.matrix, central.layout.centers_xy) - _truth_px(
        central, DPI, degrees
    )
    assert np.abs(err_px).max() / (DPI / 25.4) < 0.1


def _without_orientation_mark(form, page):
    ppm = DPI / 25.4
    x, y = np.array(form.registration.orientation_mark) * ppm
    half = int(form.registration.orientation_size * ppm)
    page[int(y) - half : int(y) + half, int(x) - half : int(x) + half] = 255
    return page


@pytest.mark.parametrize("degrees", [0.5, 180.5])
def test_print_repeated_under_a_half_turn_leaves_the_way_up_to_a_person(central, degrees):
    # A sheet printed with more bubbles than its form lists (a name grid left
    # out) can put printed bubbles where a half turn sends the form's: the
    # outlines then fit both ways up, and the sheet must not be read either way.
    # Here the repeated print is the bolder, so the outlines fit the wrong way up better.
    page = _without_orientation_mark(central, blank_sheet(central, DPI))
    faded = (255 - (255 - page.astype(float)) * 0.5).astype(np.uint8)
    page = np.minimum(faded, page[::-1, ::-1])
    reg = register_page(transform(page, degrees=degrees), central)
    assert not reg
    assert reg.reason == "orientation-unknown"


def test_half_turn_tells_only_bubbles_landing_clear_of_the_others(central):
    tells = half_turn_tells(central)
    xy = central.layout.centers_xy
    turned = np.array([central.page.width, central.page.height]) - xy
    nearest = np.linalg.norm(turned[:, None] - xy[None], axis=-1).min(axis=1)
    assert tells.any() and not tells.all()
    assert (nearest[tells] > central.bubble_diameter).all()
    assert (nearest[~tells] <= 2 * central.layout.half_axes.max()).all()


def test_outline_contrast_tells_the_right_transform_from_a_half_turn(central):
    page = blank_sheet(central, DPI)
    reg = register_page(page, central)
    half_turn = np.array([[-1.0, 0, central.page.width], [0, -1, central.page.height], [0, 0, 1]])
    levels = {"paper": 255.0, "ink": 0.0}
    assert outline_contrast(page, reg.matrix, central, **levels) > 0.4
    assert abs(outline_contrast(page, reg.matrix @ half_turn, central, **levels)) < 0.05


def test_filled_bubbles_are_not_taken_for_marks():
    page = np.full((200, 200), 255, np.uint8)
    cv2.rectangle(page, (20, 20), (39, 39), 0, -1)  # a 20-px square mark
    cv2.circle(page, (120, 120), 12, 0, -1)  # a filled bubble of similar area
    found = find_square_marks(page, 20)
    assert found.shape == (1, 2)
    assert found[0] == pytest.approx([29.5, 29.5], abs=0.01)


def _erase_marks(page, form, dpi, which):
    ppm = dpi / 25.4
    half = int(form.registration.mark_size * ppm * 0.8)
    for k in which:
        x, y = np.array(form.registration.marks[k]) * ppm
        page[int(y) - half : int(y) + half, int(x) - half : int(x) + half] = 255
    return page


def test_three_marks_and_the_orientation_mark_are_enough(central):
    # Top-right, mid-right and bottom-left marks lost (cut off, torn).
    page = _erase_marks(blank_sheet(central, DPI), central, DPI, [1, 3, 4])
    page = transform(page, degrees=1.5)
    reg = register_page(page, central)
    assert reg and reg.marks_found == 4
    err_px = apply_transform(reg.matrix, central.layout.centers_xy) - _truth_px(central, DPI, 1.5)
    assert np.abs(err_px).max() / (DPI / 25.4) < 0.1


def test_three_marks_in_a_line_are_not_trusted(central):
    # Only the left-hand marks left: they cannot fix the scale across the page.
    page = _erase_marks(blank_sheet(central, DPI), central, DPI, [1, 3, 5])
    assert not register_page(page, central)


def test_two_marks_are_not_enough(central):
    page = _erase_marks(blank_sheet(central, DPI), central, DPI, [1, 2, 3, 5])
    reg = register_page(page, central)
    assert not reg
    assert reg.reason == "marks-not-found"


def test_marks_in_a_lid_shadow_are_still_found(central):
    # A dark shadow along the left edge falls below the page's global threshold
    # and swallows the marks in it; with the top-left corner cut off as well, the
    # marks left on the lit side alone would fix nothing.
    page = transform(blank_sheet(central, DPI), degrees=1.5, shift=(-25, -25))
    light = shadow_field(page.shape[1], page.shape[0], DPI, Shadow("left", 0.45, 15.0))
    page = (page * light).astype(np.uint8)
    reg = register_page(page, central)
    assert reg, reg
    assert reg.marks_found >= 5
    err_px = apply_transform(reg.matrix, central.layout.centers_xy) - _truth_px(
        central, DPI, degrees=1.5, shift=(-25, -25)
    )
    assert np.abs(err_px).max() < 0.1 * DPI / 25.4
