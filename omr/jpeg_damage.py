"""Damage in a JPEG's coded data that decodes without a warning.

A JPEG codes each 8 × 8 block's mean (DC) as the difference from the block
before it. A byte changed in the coded data that the Huffman code still
accepts gives one wrong difference, and so a wrong level to every block after
it, to the end of the image: a band darker or lighter than the paper, whose
top edge runs exactly along a block boundary. libjpeg, Pillow and OpenCV
decode it without a warning; read, marks under or beside the band are read
blank (measured: of 60 quiz-a5 JPEGs with two bytes flipped, 3 were scored
with 2, 7 and 41 items wrong).

Told here by the paper: each row of blocks' paper level (its 90th percentile)
steps by ``min_step`` grey levels or more between the eight block rows above a
block boundary and the eight below, and the image's rows change by as much
exactly at the boundary, four times more than on the rows beside it. A
printed bar leaves the margins' paper as it was; a photo's page edge is not
sharp to one pixel row along a block boundary.
"""

from __future__ import annotations

import cv2
import numpy as np

from omr.detect.stats import median_last_axis

BLOCK = 8
SPAN = 8  # block rows each side whose paper is compared
MIN_STEP = 12  # grey levels (at most 4 on 54 real JPEG scans and photos)
SHARP = 4.0  # the step at the boundary over the change on the rows beside it
COLUMNS = 256  # columns looked at, evenly spread


def band_step(gray: np.ndarray) -> tuple[float, int]:
    """The largest step of the paper's level at a block-row boundary (grey levels, 0 if
    none is sharp) and the pixel row where it starts."""
    g = gray[:, :: max(1, gray.shape[1] // COLUMNS)]
    rows = g.shape[0] // BLOCK
    if rows < 2 * SPAN + 1:
        return 0.0, 0
    blocks = np.ascontiguousarray(g[: rows * BLOCK]).reshape(rows, -1)
    q = int(0.9 * (blocks.shape[1] - 1))
    level = cv2.sort(blocks, cv2.SORT_EVERY_ROW | cv2.SORT_ASCENDING)[:, q].astype(float)
    r = np.arange(SPAN, rows - SPAN + 1)
    windows = np.lib.stride_tricks.sliding_window_view(level, SPAN)
    step = np.abs(np.median(windows[r], axis=1) - np.median(windows[r - SPAN], axis=1))
    y = r * BLOCK
    near = g[np.stack([y - 2, y - 1, y, np.minimum(y + 1, g.shape[0] - 1)])].astype(np.int16)
    change = median_last_axis(np.abs(np.diff(near, axis=0)))  # rows y-2..y+1, by pairs
    at, beside = change[1], np.maximum(change[0], change[2])
    score = np.where(at >= SHARP * np.maximum(beside, 1), np.minimum(step, at), 0.0)
    k = int(score.argmax())
    return float(score[k]), int(y[k])


def jpeg_damage(gray: np.ndarray, *, turned: bool = False) -> str:
    """Why the decoded JPEG ``gray`` looks damaged ("" if it does not). ``turned``: the
    page was turned a quarter from its stored orientation (EXIF), so its block rows are
    columns now."""
    step, at = band_step(gray.T if turned else gray)
    if step < MIN_STEP:
        return ""
    what = "column" if turned else "row"
    return (
        f"damaged JPEG data: from pixel {what} {at} on, the paper is {step:.0f} grey levels"
        " darker or lighter, along a block edge (scan it again)"
    )
