"""Pale bubble outlines and photos taken at an angle: ``omr forms fit`` on real phone photos.

OMRChecker's UPSC-mock and sample3 photos print their bubbles in a pale grey
(about 30 grey levels under the paper) and were taken at an angle: before
these, the fit found the filled bubbles only, and its grids lay 0.12-0.15 of
a pitch off an even lattice. Drawn here with the layout finder's sheets.
"""

from __future__ import annotations

import cv2
import numpy as np
from test_layout_finder import PAPER, Sheet, scan

from omr.detect.layout import find_bubbles
from omr.detect.layout.bubbles import _bubbles_in
from omr.detect.layout.ink import _prepare
from omr.formfit import _propose, propose_form

DPI = 100
LINE_MM = 0.25
PALE = 0.2  # outlines about 45 grey levels under the paper before the scan softens them
PX_PER_MM = DPI / 25.4


def _sheet() -> Sheet:
    s = Sheet(width=120.0, height=150.0, line=LINE_MM)
    s.grid((25.0, 25.0), 20, 4, 7.0, 5.5)
    s.grid((75.0, 25.0), 20, 4, 7.0, 5.5)
    return s


def _pale_photo(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A pale-printed sheet, a quarter of its bubbles filled in dark pencil."""
    s = _sheet()
    img, to_px = scan(s.render(), DPI)
    pale = (PAPER - (PAPER - img.astype(np.float32)) * PALE).astype(np.uint8)
    xy = to_px(np.array(s.bubbles))
    rng = np.random.default_rng(seed)
    filled = xy[np.arange(len(xy)) % 4 == rng.integers(0, 4, len(xy)) % 4][:40]
    for x, y in filled:
        cv2.circle(pale, (int(round(x)), int(round(y))), int(1.8 * PX_PER_MM), 60, -1, cv2.LINE_AA)
    noisy = pale + rng.normal(0, 5, pale.shape)
    _, buf = cv2.imencode(
        ".jpg", np.clip(noisy, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 70]
    )
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE), xy


def test_pale_outlines_are_found_beside_the_filled_bubbles():
    gray, xy = _pale_photo()
    args = (PX_PER_MM, 2.5, 8.0, 0.15, 0.83, 0.5, 0.7)
    plain = _bubbles_in(_prepare(gray, PX_PER_MM, 25.0), *args)
    # The six-noise-width mask keeps few of the blank outlines whole.
    assert len(plain) - plain.filled.sum() < 0.2 * len(xy), len(plain)
    found = find_bubbles(gray, PX_PER_MM)
    d = np.linalg.norm(xy[:, None] - found.xy[None], axis=-1).min(axis=1)
    assert (d < 0.5 * PX_PER_MM).mean() > 0.85, (d < 0.5 * PX_PER_MM).mean()


def _photo_at_an_angle() -> np.ndarray:
    """The sheet on a dark table, its far edge 12 % narrower than its near one."""
    img, _ = scan(_sheet().render(), DPI)
    h, w = img.shape
    frame = np.full((int(h * 1.3), int(w * 1.4)), 40, np.uint8)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    x0, y0 = 0.2 * w, 0.15 * h
    dst = np.float32([[x0 + 0.06 * w, y0], [x0 + 0.94 * w, y0], [x0 + w, y0 + h], [x0, y0 + h]])
    m = cv2.getPerspectiveTransform(src, dst)
    frame = cv2.warpPerspective(
        img, m, frame.shape[::-1], dst=frame, borderMode=cv2.BORDER_TRANSPARENT
    )
    return frame


def test_a_photo_at_an_angle_is_flattened_to_its_page_before_fitting():
    gray = _photo_at_an_angle()
    as_taken = _propose(gray, PX_PER_MM, "angle", None, True)
    assert as_taken.problems  # its grids lie off an even lattice
    proposal = propose_form(gray, PX_PER_MM, name="angle")
    assert proposal.problems == []
    assert any("flattened to its four corners" in n for n in proposal.notes)
    (block,) = proposal.data["answer_blocks"].values()  # two columns of 20
    assert (block["questions"], block.get("per_column"), len(block["options"])) == (40, 20, 4)
