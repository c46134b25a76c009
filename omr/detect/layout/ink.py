"""Ink on a scan: a darkness map against the local paper level, and the dark blobs in it."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PAPER_WINDOW_MM = 15.0  # wider than any solid blob, so the paper level sees paper


def _check_gray(gray: np.ndarray, px_per_mm: float) -> None:
    if not isinstance(gray, np.ndarray) or gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError("gray must be a 2-D array of uint8")
    if not px_per_mm > 0:
        raise ValueError("px_per_mm must be positive")


def _darkness(gray: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Local paper level minus the image, (M, N) float32, lightly smoothed.

    The paper level is the brightest grey within ``PAPER_WINDOW_MM``, measured
    on a copy at about 2 px/mm, so shading across the page does not matter
    and solid blobs up to about that size are dark all through.
    """
    return _darkness_and_paper(gray, px_per_mm)[0]


def _darkness_and_paper(gray: np.ndarray, px_per_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_darkness`, and the local paper level (M, N) float32 it is measured from."""
    g = gray.astype(np.float32)
    f = min(1.0, 2.0 / px_per_mm)
    small = cv2.resize(g, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else g
    k = max(3, int(round(PAPER_WINDOW_MM * px_per_mm * f)) | 1)
    paper = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    paper = cv2.blur(paper, (k, k))
    paper = np.maximum(paper, small)
    if f < 1:
        paper = cv2.resize(paper, gray.shape[::-1], interpolation=cv2.INTER_LINEAR)
    dark = np.clip(paper - g, 0, None)
    sigma = 0.04 * px_per_mm  # against noise, where pixels are small enough to afford it
    return (cv2.GaussianBlur(dark, (0, 0), sigma) if sigma >= 0.5 else dark), paper


def _ink_level(sample: np.ndarray, min_contrast: float, widths: float = 6.0) -> float:
    """Darkness above which a pixel is ink: ``widths`` noise widths past the median.

    Never below ``min_contrast``.
    """
    med = float(np.median(sample))
    noise = 1.4826 * float(np.median(np.abs(sample - med)))
    return max(min_contrast, med + widths * noise)


def _ink_mask(
    dark: np.ndarray,
    px_per_mm: float,
    *,
    min_contrast: float,
    half: float = 0.5,
    paper: np.ndarray | None = None,
    only_if_lower: bool = False,
) -> np.ndarray | None:
    """Binary ink (M, N) uint8 0/255: darker than the paper by more than the noise.

    The noise is measured where the paper level ``paper`` (when given) is
    near the page's: a photo's table or background around the sheet, much
    darker than the paper and textured, does not count.
    """
    level = _ink_level(dark[::4, ::4], min_contrast)
    if paper is not None:
        lit = paper[::4, ::4]
        k = max(3, int(round(PAPER_WINDOW_MM * px_per_mm / 4)) | 1)
        # The paper level spreads a window's width past the paper's edge: shrink it back.
        lit = cv2.erode(lit, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
        lit = lit >= 0.75 * float(np.percentile(lit, 95))
        on_paper = _ink_level(dark[::4, ::4][lit], min_contrast) if lit.mean() > 0.1 else level
        if only_if_lower and on_paper > 0.8 * level:
            return None
        level = min(level, on_paper)
    # Half of the local peak: a line keeps its printed width whatever its
    # contrast, so the narrow gaps of a digit grid stay open.
    r = max(1, int(round(0.4 * px_per_mm)))
    peak = cv2.dilate(dark, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    ink = ((dark > level) & (dark > half * peak)).astype(np.uint8) * 255
    r = int(0.1 * px_per_mm)  # bridge hairline breaks where pixels are small enough
    if r == 0:
        return ink
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return cv2.morphologyEx(ink, cv2.MORPH_CLOSE, kernel)


@dataclass(frozen=True)
class _Blobs:
    """Outer contours of ink, one row per blob (internal)."""

    xy: np.ndarray  # (B, 2) centroid of the filled outline
    wh: np.ndarray  # (B, 2) outer box, the side nearer the x axis first, px
    box_xy: np.ndarray  # (B, 2) centre of the minimal box
    fill: np.ndarray  # (B,) filled area / box area
    solidity: np.ndarray  # (B,) filled area / hull area
    holes: np.ndarray  # (B,) share of the filled area that is holes
    hole_wh: np.ndarray  # (B, 2) box of the largest hole, px (0 if none)
    hole_fill: np.ndarray  # (B,) area of the largest hole / its box (0 if none)
    contours: list
    hole_contours: list  # per blob, the list of its holes' contours

    def __len__(self) -> int:
        return len(self.xy)


def _box_wh(rect) -> tuple[float, float]:
    """(w, h) of a cv2 rotated rect, w along the side nearer the x axis."""
    p = cv2.boxPoints(rect)
    e1, e2 = p[1] - p[0], p[2] - p[1]
    if abs(e1[0]) * np.hypot(*e2) >= abs(e2[0]) * np.hypot(*e1):
        return float(np.hypot(*e1)), float(np.hypot(*e2))
    return float(np.hypot(*e2)), float(np.hypot(*e1))


def _find_blobs(ink: np.ndarray, min_px: float, max_px: float) -> _Blobs:
    """Outer contours whose bounding box lies within [min_px, max_px], off the border."""
    contours, hierarchy = cv2.findContours(ink, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    rows: list[tuple] = []
    kept: list = []
    kids: list = []
    if hierarchy is None:
        contours, hierarchy = (), np.empty((1, 0, 4), int)
    hier = hierarchy[0]
    m, n = ink.shape
    for i, c in enumerate(contours):
        if hier[i][3] != -1:
            continue  # a hole
        x, y, w, h = cv2.boundingRect(c)
        if max(w, h) < min_px or max(w, h) > max_px:
            continue
        if x == 0 or y == 0 or x + w >= n or y + h >= m:
            continue  # cut by the image edge: centre and size would be biased
        rect = cv2.minAreaRect(c)
        bw, bh = _box_wh(rect)
        bw, bh = bw + 1.0, bh + 1.0  # pixel centres to pixel edges
        perim = cv2.arcLength(c, True)
        area = cv2.contourArea(c) + perim / 2 + 1.0
        hull = cv2.contourArea(cv2.convexHull(c)) + perim / 2 + 1.0
        hole_area, hole_wh, hole_fill, big = 0.0, (0.0, 0.0), 0.0, 0.0
        j = hier[i][2]
        kids.append([])
        while j != -1:
            kids[-1].append(contours[j])
            ha = cv2.contourArea(contours[j])
            hole_area += ha
            if ha > big:
                big = ha
                hw, hh = _box_wh(cv2.minAreaRect(contours[j]))
                hole_wh = (hw - 1.0, hh - 1.0)  # hole edge pixels are not hole
                inside = ha - cv2.arcLength(contours[j], True) / 2 + 1.0
                hole_fill = inside / max(hole_wh[0] * hole_wh[1], 1.0)
            j = hier[j][0]
        mom = cv2.moments(c)
        cx, cy = (mom["m10"] / mom["m00"], mom["m01"] / mom["m00"]) if mom["m00"] else rect[0]
        rows.append(
            (cx, cy, bw, bh, *rect[0], area / (bw * bh), area / hull, hole_area / area, *hole_wh)
            + (hole_fill,)
        )
        kept.append(c)
    a = np.array(rows, dtype=np.float64).reshape(-1, 12)
    return _Blobs(
        xy=a[:, 0:2],
        wh=a[:, 2:4],
        box_xy=a[:, 4:6],
        fill=a[:, 6],
        solidity=a[:, 7],
        holes=a[:, 8],
        hole_wh=np.clip(a[:, 9:11], 0, None),
        hole_fill=a[:, 11],
        contours=kept,
        hole_contours=kids,
    )


def _prepare(
    gray: np.ndarray, px_per_mm: float, min_contrast: float, *, paper_noise: bool = False
) -> np.ndarray | None:
    """Ink mask (M, N) uint8 0/255, or None for a page without any contrast.

    With ``paper_noise``, the noise is measured on the paper only (not on a
    photo's background around it); None then when that changes nothing.
    """
    if gray.size == 0 or int(gray.max()) - int(gray.min()) < min_contrast:
        return None
    if not paper_noise:
        return _ink_mask(_darkness(gray, px_per_mm), px_per_mm, min_contrast=min_contrast)
    dark, paper = _darkness_and_paper(gray, px_per_mm)
    return _ink_mask(dark, px_per_mm, min_contrast=min_contrast, paper=paper, only_if_lower=True)


FAINT_WINDOW_MM = 8.0  # the local median of the darkness sees paper, not a bubble
FAINT_MIN_CONTRAST = 8.0


def faint_ink(gray: np.ndarray, px_per_mm: float, *, widths: float = 4.0) -> np.ndarray | None:
    """Ink mask (M, N) uint8 0/255 of pale, thin print; None for a page without contrast.

    The paper level of :func:`_darkness` is the brightest grey nearby, so on a
    grainy photo all of the paper reads a little dark and a pale outline (a
    light-grey or coloured bubble) drowns in it. Measured from the darkness's
    own local median instead, the paper reads 0 and the outline stands out;
    the noise is measured on the paper only (not a photo's background, which
    is left out of the mask).
    """
    if gray.size == 0 or int(gray.max()) - int(gray.min()) < 25:
        return None
    dark, paper = _darkness_and_paper(gray, px_per_mm)
    f = min(1.0, 4.0 / px_per_mm)  # the median needs no finer pixels than 0.25 mm
    small = np.clip(dark, 0, 255).astype(np.uint8)
    if f < 1:
        small = cv2.resize(small, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    k = max(3, int(round(FAINT_WINDOW_MM * px_per_mm * f)) | 1)
    base = cv2.medianBlur(small, k)
    if f < 1:
        base = cv2.resize(base, gray.shape[::-1], interpolation=cv2.INTER_LINEAR)
    excess = dark - base.astype(np.float32)
    lit = paper >= 0.75 * float(np.percentile(paper[::4, ::4], 95))
    sample = excess[::4, ::4][lit[::4, ::4]]
    if sample.size < 100:
        return None
    level = _ink_level(sample, FAINT_MIN_CONTRAST, widths)
    return ((excess > level) & lit).astype(np.uint8) * 255
