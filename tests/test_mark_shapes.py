"""The reader tells marks by shape: ticks count, smudges are erasures, rings and dots are asked."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import blank_sheet, fill

from omr.calibration import find_calibration
from omr.detect import read_page
from omr.records import ItemState

DPI = 200
PPM = DPI / 25.4


def _centre(form, field, item, option):
    f = form.layout.fields[field]
    b = f.index[item, f.option_labels.index(option)]
    x, y = form.layout.centers_xy[b] * PPM
    return int(round(x)), int(round(y)), form.layout.radius[b] * PPM


def _page(central):
    # A normal sheet: group A, and clear answers on course1 so the sheet has its own levels.
    marks = {("group", 0): "A"} | {("course1", i): "ABCDE"[i % 5] for i in range(20)}
    return fill(blank_sheet(central, DPI), central, DPI, marks, level=70)


def _read(central, page, field="course2", item=0):
    return read_page(page, central, find_calibration()).fields[field].items[item]


def test_a_tick_through_the_bubble_is_an_answer(central):
    page = _page(central)
    x, y, r = _centre(central, "course2", 0, "C")
    pts = np.array([[x - r * 0.6, y], [x - r * 0.1, y + r * 0.6], [x + r * 0.7, y - r * 0.7]])
    cv2.polylines(page, [pts.astype(np.int32)], False, 90, 3, cv2.LINE_AA)
    item = _read(central, page)
    assert (item.state, item.value) == (ItemState.one, "C")


def test_a_circled_option_goes_to_a_person(central):
    page = _page(central)
    x, y, r = _centre(central, "course2", 0, "D")
    cv2.circle(page, (x, y), int(r + 0.4 * PPM), 80, 2, cv2.LINE_AA)
    item = _read(central, page)
    assert (item.state, item.unsure, item.reason) == (ItemState.unsure, "D", "odd-mark")


def test_a_dot_goes_to_a_person(central):
    page = _page(central)
    x, y, r = _centre(central, "course2", 0, "B")
    cv2.circle(page, (x, y), int(r * 0.25), 60, -1, cv2.LINE_AA)
    item = _read(central, page)
    assert (item.state, item.unsure, item.reason) == (ItemState.unsure, "B", "odd-mark")


def test_a_dot_beside_a_clear_answer_goes_to_a_person(central):
    page = fill(_page(central), central, DPI, {("course2", 0): "A"}, level=70)
    x, y, r = _centre(central, "course2", 0, "B")
    cv2.circle(page, (x, y), int(r * 0.25), 60, -1, cv2.LINE_AA)
    item = _read(central, page)
    assert (item.state, item.value, item.unsure) == (ItemState.unsure, "A", "B")


def test_an_erasure_smudge_that_spills_is_not_an_answer(central):
    page = _page(central)
    x, y, r = _centre(central, "course2", 0, "E")
    smudge = np.zeros_like(page, dtype=np.float32)
    cv2.ellipse(smudge, (x, y), (int(r * 1.5), int(r * 1.2)), 20, 0, 360, 1.0, -1)
    smudge = cv2.GaussianBlur(smudge, (0, 0), r * 0.3)
    page[:] = (page * (1 - 0.2 * smudge)).astype(np.uint8)
    item = _read(central, page)
    assert item.state == ItemState.blank
    assert item.reason == "residue:E"


@pytest.mark.parametrize("level", [190, 200])
def test_a_clean_faint_fill_is_an_answer(central, level):
    page = fill(_page(central), central, DPI, {("course2", 0): "B"}, level=level)
    item = _read(central, page)
    assert (item.state, item.value) == (ItemState.one, "B")
