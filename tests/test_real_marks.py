"""Marks drawn on real scans (open-mcr's, beside the project): decisions that hold on real sheets.

Each test draws one mark, made to look like one found on real sheets, on a
real scan (``../shared/data/open-mcr``; skipped without it) where the truth
says the question is blank, and reads the page as ``omr run`` does. What it
asks: the mark is never read blank with confidence (a person sees it, or it
is read as what it is).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest

from omr.calibration import find_calibration
from omr.detect import read_page
from omr.detect.read import register
from omr.detect.sampling import apply_transform
from omr.forms import load_form
from omr.pages import PageRef, load_page
from omr.records import ItemState


def _shared_data() -> Path:
    env = os.environ.get("OMR_SHARED_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return root / "open-mcr"


DATA = _shared_data()
FORM = Path(__file__).resolve().parent / "data" / "open-mcr-75q.yaml"
pytestmark = pytest.mark.skipif(
    not (DATA / "ground_truth_long.csv").is_file(),
    reason=f"no shared open-mcr scans at {DATA} (set OMR_SHARED_DATA)",
)

# Question 30 is blank on both sheets (ground_truth_long.csv).
SHEETS = {
    "grey": ("75q-core-2", "sample scanned sheets_Page_01.jpg"),
    "1-bit": ("75q-core-1", "scanned_page (1).png"),
}


@cache
def _scan(which: str):
    test, image = SHEETS[which]
    page = load_page(PageRef(DATA / test / "input" / image, 0, image))
    page.gray.setflags(write=False)
    return page, register(page.gray, load_form(FORM)).matrix


def _bubble(which: str, question: int, option: str):
    """The page (a writable copy), and the bubble's centre and radius in pixels."""
    page, matrix = _scan(which)
    form = load_form(FORM)
    f = form.layout.fields["answers"]
    b = f.index[question - 1, f.option_labels.index(option)]
    (x, y), (x1, _) = apply_transform(
        matrix, np.array([form.layout.centers_xy[b], form.layout.centers_xy[b] + [1.0, 0]])
    )
    return page.gray.copy(), (x, y), form.layout.radius[b] * abs(x1 - x), page.dpi


def _item(gray, dpi, question: int):
    sheet = read_page(gray, load_form(FORM), find_calibration(), dpi=dpi)
    assert not sheet.problem
    return sheet.fields["answers"].items[question - 1]


def _shade(gray, centre, radius, share):
    """Pencil over the bubble: every pixel (paper and printed letter) ``share`` darker."""
    mask = np.zeros(gray.shape, np.float32)
    cx, cy = (int(round(v)) for v in centre)
    cv2.circle(mask, (cx, cy), int(round(0.9 * radius)), 1.0, -1, cv2.LINE_AA)
    return (gray * (1 - share * mask)).astype(np.uint8)


@pytest.mark.parametrize("share", [0.16, 0.22])
def test_a_light_plain_shading_on_a_real_grey_scan_is_not_read_blank(share):
    # open-mcr's bubbles have heavy letters inside: blanks of option B read
    # 0.1 darker than those of C, and that spread, taken for the sheet's noise
    # (0.073), put "empty" at 0.2 above blank. A plain shading 22% darker than
    # the paper (grey 199 on 255) sat below it and was read blank. Measured
    # against C's own blanks, the sheet's noise is 0.026 and it goes to a person.
    gray, centre, radius, dpi = _bubble("grey", 30, "C")
    item = _item(_shade(gray, centre, radius, share), dpi, 30)
    assert item.state != ItemState.blank, item
    assert "C" in item.value + item.unsure


def test_a_light_plain_shading_on_a_real_1_bit_scan_is_not_read_blank():
    gray, centre, radius, dpi = _bubble("1-bit", 30, "C")
    # A 1-bit scan has no grey: the shading is what its threshold leaves, black
    # specks over a fifth of the inside.
    rng = np.random.default_rng(5)
    cx, cy = centre
    yy, xx = np.mgrid[: gray.shape[0], : gray.shape[1]]
    inside = np.hypot(xx - cx, yy - cy) < 0.85 * radius
    gray = gray.copy()
    gray[inside & (rng.random(gray.shape) < 0.2)] = 0
    item = _item(gray, dpi, 30)
    assert item.state != ItemState.blank, item
    assert "C" in item.value + item.unsure


def test_the_real_scans_blank_question_reads_blank():
    for which in SHEETS:
        gray, _centre, _radius, dpi = _bubble(which, 30, "C")
        item = _item(gray, dpi, 30)
        assert (item.state, item.reason) == (ItemState.blank, ""), (which, item)
