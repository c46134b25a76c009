"""The scale of a scan that does not say its resolution, from its page and its bubbles.

A scan's pixels per millimetre are unknown when the file carries no
resolution (or a JPEG's placeholder 72 or 96 dpi). Two things tell it: most
scans hold one page, 210 mm (A4) to 216 mm (Letter) wide; and printed answer
bubbles come in a narrow range of sizes and spacings (2.5-6 mm across, 3.5-10
mm apart). The page's width gives a first guess; the bubbles found at that
scale must then measure as printed bubbles do. When they do not (a photo
with a border of table around the page, a crop of part of a sheet), trial
scales around the first guess are tried, and the first whose bubbles stand in
grids at a typical size and pitch is taken, nearest trials first: far from
the page's width, the letters of the text can pass for bubbles (the last
trials, up to five times it, are for small crops of a sheet).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omr.detect.layout.bubbles import find_bubbles
from omr.detect.layout.grids import find_grids

PAGE_WIDTH_MM = 213.0  # between A4 (210) and Letter (215.9)
SIZE_MM = (2.3, 6.5)  # printed bubbles, the larger side of the outline's centre line
PITCH_MM = (3.2, 11.0)  # a bubble to its nearest neighbour in its grid
TRIALS = (1.0, 1.6, 2.5, 0.63, 3.2, 0.4, 4.0, 5.0)  # times the page-width guess, in order
MIN_IN_GRIDS = 5
# A typical printed bubble (open-mcr 2.7 mm at 5.0 mm; OMRChecker's scans 3.3-3.6 mm
# at 4.2-5.0 mm; the built-in forms 4 mm at 6 mm): a trial away from the page's
# width is moved toward it by at most half a trial step.
TYPICAL_SIZE_MM, TYPICAL_PITCH_MM = 3.6, 5.2


@dataclass(frozen=True)
class ScaleGuess:
    """A scan's scale told by its page width and its bubbles.

    Attributes
    ----------
    px_per_mm : float
        The assumed scale; 0 when no trial found bubbles in grids at a typical size.
    page_px_per_mm : float
        The guess from the page's width alone.
    size_mm, pitch_mm : float
        The most common bubble's size (larger side) and grid pitch at the assumed scale.
    bubbles : int
        Bubbles standing in grids of two or more at the assumed scale.
    """

    px_per_mm: float
    page_px_per_mm: float
    size_mm: float = 0.0
    pitch_mm: float = 0.0
    bubbles: int = 0

    @property
    def dpi(self) -> float:
        return self.px_per_mm * 25.4

    def describe(self) -> str:
        """What was assumed, in words, for the person to check."""
        if self.px_per_mm == self.page_px_per_mm:
            how = f"the image taken as one page {PAGE_WIDTH_MM:g} mm wide (A4 to Letter)"
        else:
            how = (
                f"not the page's width ({self.page_px_per_mm * 25.4:.0f} dpi): "
                "the scale at which the bubbles measure as printed bubbles do"
            )
        return (
            f"assumed {self.dpi:.0f} dpi, {how}; its {self.bubbles} bubbles in grids then "
            f"measure {self.size_mm:.1f} mm at a {self.pitch_mm:.1f} mm pitch. "
            "Give --dpi if you know the resolution"
        )


def _pitch(grids) -> float:
    """Median nearest step of the grids (each grid's shorter step, by bubbles), pixels."""
    steps, weights = [], []
    for g in grids:
        s = [np.hypot(*v) for v, n in ((g.col_step, g.cols), (g.row_step, g.rows)) if n > 1]
        if s:
            steps.append(min(s))
            weights.append(g.rows * g.cols)
    if not steps:
        return 0.0
    order = np.argsort(steps)
    cum = np.cumsum(np.asarray(weights, float)[order])
    return float(np.asarray(steps)[order][np.searchsorted(cum, cum[-1] / 2)])


def bubbles_at(gray: np.ndarray, px_per_mm: float) -> tuple[int, float, float]:
    """(bubbles in grids, their median size mm, grid pitch mm) found at ``px_per_mm``."""
    bubbles = find_bubbles(gray, px_per_mm)
    if len(bubbles) < MIN_IN_GRIDS:
        return 0, 0.0, 0.0
    grids = [g for g in find_grids(bubbles, px_per_mm) if g.rows * g.cols >= 2]
    count = sum(g.rows * g.cols - len(g.missing) for g in grids)
    size = float(np.median(np.max(bubbles.size_mm, axis=1)))
    return count, size, _pitch(grids) / px_per_mm


def typical(count: int, size_mm: float, pitch_mm: float) -> bool:
    """Whether bubbles so many, so big and so far apart are printed answer bubbles."""
    return (
        count >= MIN_IN_GRIDS
        and SIZE_MM[0] <= size_mm <= SIZE_MM[1]
        and PITCH_MM[0] <= pitch_mm <= PITCH_MM[1]
    )


def estimate_scale(gray: np.ndarray) -> ScaleGuess:
    """Pixels per mm of ``gray`` (M, N) uint8, told by its width and its bubbles.

    Returns
    -------
    ScaleGuess
        ``px_per_mm == 0`` when no trial scale finds bubbles of a typical size in grids.
    """
    page = gray.shape[1] / PAGE_WIDTH_MM if gray.ndim == 2 and gray.size else 0.0
    if page <= 0:
        return ScaleGuess(0.0, 0.0)
    for k in TRIALS:
        count, size, pitch = bubbles_at(gray, page * k)
        if not typical(count, size, pitch):
            continue
        if k == 1.0:
            return ScaleGuess(page, page, size, pitch, count)
        toward = np.sqrt(size / TYPICAL_SIZE_MM * pitch / TYPICAL_PITCH_MM)
        toward = float(np.clip(toward, 0.8, 1.25))
        return ScaleGuess(page * k * toward, page, size / toward, pitch / toward, count)
    return ScaleGuess(0.0, page)
