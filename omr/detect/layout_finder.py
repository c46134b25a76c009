"""Find a sheet's layout on one scan: printed bubbles, their grids, the registration marks.

The image-analysis core of ``omr forms fit``. It knows pixels only: no form, no
file. Everything is measured on a *darkness* map (local paper level minus the
image), so a pencil-filled bubble and a thin printed outline are found on the
same footing, on blank and on filled scans alike.

Positions are image pixels in (x, y) order; sizes are millimetres.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PAPER_WINDOW_MM = 15.0  # wider than any solid blob, so the paper level sees paper


@dataclass(frozen=True)
class FoundBubbles:
    """The printed bubbles of one sheet, all of one kind.

    Attributes
    ----------
    xy : (K, 2) ndarray of float64
        Centres in (x, y) image pixels.
    size_mm : (K, 2) ndarray of float64
        Width and height of each printed outline, measured at the middle of the
        printed line, in millimetres, along the bubble's own axes (the axis
        nearer to the image x axis first), so a small skew does not change it.
    shape : str
        The kept class: ``"circle"``, ``"ellipse"`` or ``"rounded-rect"``;
        ``""`` when no bubble was found.
    filled : (K,) ndarray of bool
        Bubbles marked by hand: filled solid, half filled, crossed, or with
        ink running past the outline.
    """

    xy: np.ndarray
    size_mm: np.ndarray
    shape: str
    filled: np.ndarray

    def __len__(self) -> int:
        return len(self.xy)


@dataclass(frozen=True)
class Grid:
    """A regular rectangular lattice of bubbles.

    The bubble at (row, col) sits at ``origin + col * col_step + row * row_step``.

    Attributes
    ----------
    origin : (2,) ndarray of float64
        Centre of row 0, column 0, (x, y) pixels; the top-left bubble.
    col_step : (2,) ndarray of float64
        (x, y) pixel vector from one column to the next; (0, 0) for one column.
    row_step : (2,) ndarray of float64
        (x, y) pixel vector from one row to the next; (0, 0) for one row.
    rows, cols : int
    missing : tuple of (int, int)
        (row, col) lattice positions where no bubble was found.
    residual_px : float
        RMS distance of the found bubbles from their lattice positions.
    """

    origin: np.ndarray
    col_step: np.ndarray
    row_step: np.ndarray
    rows: int
    cols: int
    missing: tuple[tuple[int, int], ...]
    residual_px: float

    def centres(self) -> np.ndarray:
        """Lattice positions, ``(rows, cols, 2)`` in (x, y) pixels."""
        r, c = np.mgrid[0 : self.rows, 0 : self.cols]
        return self.origin + c[..., None] * self.col_step + r[..., None] * self.row_step


@dataclass(frozen=True)
class FoundRegistration:
    """The sheet's registration features.

    Attributes
    ----------
    kind : str
        ``"corner-marks"``, ``"timing-track"`` or ``"none"``.
    shape : str or None
        For corner marks: ``"square"``, ``"circle"`` or ``"l-shape"``.
    xy : (K, 2) ndarray of float64
        Mark centres (an L's bounding-box centre), or every dash centre of every
        track, in (x, y) pixels; (0, 2) for ``"none"``.
    size_mm : (2,) ndarray of float64
        Width and height of one mark or one dash, mm; (0, 0) for ``"none"``.
    tracks : tuple of (n, 2) ndarray
        Timing tracks only: the dash centres of each track, in order along it
        (top to bottom, or left to right). Vertical tracks first, left to
        right, then horizontal tracks, top to bottom.
    orientation_xy : (2,) ndarray or None
        Centre of a smaller extra solid mark near the corner marks, which
        tells which way up the sheet is; None if there is none.
    """

    kind: str
    shape: str | None
    xy: np.ndarray
    size_mm: np.ndarray
    tracks: tuple[np.ndarray, ...]
    orientation_xy: np.ndarray | None


# --------------------------------------------------------------------------- ink


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
    return cv2.GaussianBlur(dark, (0, 0), sigma) if sigma >= 0.5 else dark


def _ink_mask(
    dark: np.ndarray, px_per_mm: float, *, min_contrast: float, half: float = 0.5
) -> np.ndarray:
    """Binary ink (M, N) uint8 0/255: darker than the paper by more than the noise."""
    sample = dark[::4, ::4]
    med = float(np.median(sample))
    noise = 1.4826 * float(np.median(np.abs(sample - med)))
    level = max(min_contrast, med + 6.0 * noise)
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


def _prepare(gray: np.ndarray, px_per_mm: float, min_contrast: float) -> np.ndarray | None:
    """Ink mask (M, N) uint8 0/255, or None for a page without any contrast."""
    if gray.size == 0 or int(gray.max()) - int(gray.min()) < min_contrast:
        return None
    return _ink_mask(_darkness(gray, px_per_mm), px_per_mm, min_contrast=min_contrast)


# ----------------------------------------------------------------------- bubbles


def _empty_bubbles() -> FoundBubbles:
    return FoundBubbles(np.empty((0, 2)), np.empty((0, 2)), "", np.empty(0, dtype=bool))


def _shape_of(fill: float, w: float, h: float, *, split: float) -> str:
    if fill >= split:
        return "rounded-rect"
    return "circle" if max(w, h) < 1.12 * min(w, h) else "ellipse"


def _interior_ink(ink: np.ndarray, contour: np.ndarray, shrink_px: float) -> float:
    """Share of ink inside a blob's outline, once the printed line is shrunk away."""
    x, y, w, h = cv2.boundingRect(contour)
    mask = np.zeros((h, w), np.uint8)
    cv2.drawContours(mask, [contour - [x, y]], 0, 255, thickness=cv2.FILLED)
    r = max(1, int(round(shrink_px)))
    mask = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    inside = mask > 0
    if not inside.any():
        return 0.0
    return float((ink[y : y + h, x : x + w][inside] > 0).mean())


def _crowded(ink: np.ndarray, contour: np.ndarray, clear_px: float) -> float:
    """Share of a band just outside a blob's outline that is ink (text has close neighbours)."""
    x, y, w, h = cv2.boundingRect(contour)
    r = max(2, int(np.ceil(clear_px)) + 1)
    m, n = ink.shape
    x0, y0, x1, y1 = max(x - r, 0), max(y - r, 0), min(x + w + r, n), min(y + h + r, m)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.drawContours(mask, [contour - [x0, y0]], 0, 255, thickness=cv2.FILLED)
    near = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    band = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    band = (band > 0) & (near == 0)
    if not band.any():
        return 0.0
    return float((ink[y0:y1, x0:x1][band] > 0).mean())


def find_bubbles(
    gray: np.ndarray,
    px_per_mm: float,
    *,
    min_mm: float = 2.5,
    max_mm: float = 8.0,
    size_tol: float = 0.15,
    rect_fill: float = 0.83,
    clear_mm: float = 0.5,
    min_hole: float = 0.7,
    min_contrast: float = 25.0,
) -> FoundBubbles:
    """Find the printed bubbles of the sheet's one bubble kind.

    Every closed, convex outline or solid blob whose both sides lie within
    ``[min_mm, max_mm]`` is a candidate; the largest class of candidates of
    about the same width and height is kept (filled bubbles keep their
    outline's size, so they stay in the class). Letters printed inside a
    bubble are inside its outer contour and do not count.

    Parameters
    ----------
    gray : (M, N) ndarray of uint8
        The scan, dark print on light paper.
    px_per_mm : float
        Scan resolution (300 dpi is 11.81).
    min_mm, max_mm : float
        Accepted bubble sides, outer edge of the outline.
    size_tol : float
        Relative tolerance on width and height within the kept class.
    rect_fill : float
        Share of its box a blob fills above which it is a rounded rectangle
        (an ellipse fills 0.785, a rounded 5 × 3.5 mm rectangle 0.85–0.97).
    clear_mm : float
        Width of the band around a bubble that must be clear of other ink; the
        letters of a word have neighbours closer than that.
    min_hole : float
        Least size of a blank bubble's hole, as a share of its outer size on
        both axes: a printed outline is thin, a letter's stroke is not.
    min_contrast : float
        Least grey-level difference from the paper that counts as ink.

    Returns
    -------
    FoundBubbles
        Empty (``len == 0``, ``shape == ""``) when there is no bubble.
    """
    _check_gray(gray, px_per_mm)
    ink = _prepare(gray, px_per_mm, min_contrast)
    if ink is None:
        return _empty_bubbles()
    b = _find_blobs(ink, min_mm * px_per_mm, np.inf)
    if len(b) == 0:
        return _empty_bubbles()
    w, h = b.wh[:, 0], b.wh[:, 1]
    lo, hi = min_mm * px_per_mm, max_mm * px_per_mm
    cand = np.flatnonzero(
        (np.minimum(w, h) >= lo) & (np.maximum(w, h) <= hi) & (b.fill > 0.70) & (b.solidity > 0.93)
    )
    # A letter in a word has neighbours just outside it; a printed bubble stands clear.
    # Other candidates do not count: a digit grid's bubbles stand close together.
    # Nor do clusters of rings merged on a soft scan (too big, with bubble-sized holes).
    hole_wh = b.hole_wh
    merged = np.flatnonzero(
        (np.maximum(w, h) > hi) & (hole_wh.min(axis=1) > 0.5 * lo) & (hole_wh.max(axis=1) < hi)
    )
    alone = ink.copy()
    for i in (*cand, *merged):  # one by one: a single fill of many contours is even-odd
        cv2.drawContours(alone, b.contours, i, 0, thickness=cv2.FILLED)
    cand = np.array(
        [i for i in cand if _crowded(alone, b.contours[i], clear_mm * px_per_mm) < 0.04],
        dtype=int,
    )
    if len(cand) == 0:
        return _empty_bubbles()
    # The dominant class: the clean ring (thin outline around one wide hole) with
    # most candidates of its width and height. Bold letters have thick strokes;
    # filled bubbles join the class by their size but cannot found it.
    wc, hc = w[cand], h[cand]
    thin = np.all(b.hole_wh[cand] + 1.5 >= min_hole * b.wh[cand], axis=1)  # 1.5: rounding
    same_shape = np.abs(b.hole_fill[cand] - b.fill[cand]) < 0.12  # the hole follows the outline
    ring = (b.holes[cand] > 0.2) & thin & same_shape
    if not ring.any():
        return _empty_bubbles()
    same = (np.abs(wc[:, None] / wc[None, :] - 1) < size_tol) & (
        np.abs(hc[:, None] / hc[None, :] - 1) < size_tol
    )
    seed = int(np.argmax(np.where(ring, same[:, ring].sum(axis=1), -1)))
    ref_w, ref_h = np.median(wc[same[seed] & ring]), np.median(hc[same[seed] & ring])
    ok = (np.abs(wc / ref_w - 1) < size_tol) & (np.abs(hc / ref_h - 1) < size_tol)
    fill_ref = float(np.median(b.fill[cand[ok & ring]]))
    ok &= np.abs(b.fill[cand] - fill_ref) < 0.08
    idx, ring = cand[ok], ring[ok]
    # Stroke: outer box minus the hole's box, over the rings.
    stroke = np.median((b.wh[idx][ring] - b.hole_wh[idx][ring]) / 2, axis=0)
    inner = np.array(
        [
            _interior_ink(ink, b.contours[i], max(stroke.max() * 1.5, 0.12 * min(w[i], h[i])))
            for i in idx
        ]
    )
    base = float(np.median(inner[ring]))
    filled = (inner > 0.55) | ((inner > 0.3) & (inner > base + 0.2))
    keep = ring | filled  # a thick-stroked letter of the right size is neither
    # Centre-line size: halfway between the outline's outer edge and its hole.
    mid = np.where(ring[:, None], (b.wh[idx] + b.hole_wh[idx]) / 2, b.wh[idx] - stroke)
    xy, size, filled = b.xy[idx[keep]], mid[keep], filled[keep]
    # Rings merged with their neighbours (a tight digit grid on a soft scan) are
    # found by their holes, which stay apart.
    centre = np.array([ref_w, ref_h]) - stroke
    extra = [
        _ring_from_hole(ink, hc, stroke, centre, fill_ref, size_tol)
        for i in np.flatnonzero(np.maximum(w, h) > hi)
        for hc in b.hole_contours[i]
        if len(hc) >= 8
    ]
    extra = [e for e in extra if e is not None]
    if extra:
        xy = np.vstack([xy, [e[0] for e in extra]])
        size = np.vstack([size, [e[1] for e in extra]])
        ink_e = np.array([e[2] for e in extra])
        filled = np.concatenate([filled, (ink_e > 0.55) | ((ink_e > 0.3) & (ink_e > base + 0.2))])
    shape = _shape_of(fill_ref, ref_w, ref_h, split=rect_fill)
    # Bubbles crossed or scribbled past their outline: the outline is still whole.
    used = np.zeros(len(b), dtype=bool)
    used[idx[keep]] = True
    outer = np.array([ref_w, ref_h])
    rest = np.flatnonzero(
        ~used
        & (b.holes > 0.05)  # a solid blob is a mark or a smudge, not a crossed bubble
        & np.all(b.wh >= 0.85 * outer, axis=1)
        & np.all(b.wh <= 2.0 * outer, axis=1)
    )
    if len(rest):
        found = _outline_matches(ink, b, rest, xy, shape, centre, stroke, fill_ref)
        if len(found):
            xy = np.vstack([xy, found])
            size = np.vstack([size, np.tile(centre, (len(found), 1))])
            filled = np.concatenate([filled, np.ones(len(found), dtype=bool)])
    order = np.lexsort((xy[:, 0], xy[:, 1]))
    return FoundBubbles(
        xy=xy[order], size_mm=size[order] / px_per_mm, shape=shape, filled=filled[order]
    )


def _outline_templates(shape, centre, stroke, fill_ref):
    """Outline ring and the band just outside it, (H, W) float32 each, centred."""
    w, h = centre
    t = max(1.0, float(np.mean(stroke)))
    pad = int(np.ceil(t + 0.3 * max(w, h))) + 3
    size = (int(np.ceil(h)) + 2 * pad) | 1, (int(np.ceil(w)) + 2 * pad) | 1
    solid = np.zeros(size, np.uint8)
    c = ((size[1] - 1) / 2, (size[0] - 1) / 2)
    if shape == "rounded-rect":
        r = float(np.sqrt(max(1 - fill_ref, 0.0) * w * h / (4 - np.pi)))
        r = min(r, w / 2, h / 2)
        box = np.array([c[0] - w / 2 + r, c[1] - h / 2 + r, c[0] + w / 2 - r, c[1] + h / 2 - r])
        cv2.rectangle(solid, _pt(box[0] - r, box[1]), _pt(box[2] + r, box[3]), 255, -1, 8, 4)
        cv2.rectangle(solid, _pt(box[0], box[1] - r), _pt(box[2], box[3] + r), 255, -1, 8, 4)
        for x in box[[0, 2]]:
            for y in box[[1, 3]]:
                cv2.circle(solid, _pt(x, y), int(r * 16), 255, -1, 8, 4)
    else:
        cv2.ellipse(solid, _pt(*c), (int(w * 8), int(h * 8)), 0, 0, 360, 255, -1, 8, 4)

    def grow(k: float) -> np.ndarray:
        k = max(1, int(round(k)))
        kern = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
        return cv2.dilate(solid, kern) > 0

    half = max(1.0, t / 2)
    ring = grow(half) & ~(cv2.erode(solid, np.ones((2 * int(half) + 1,) * 2, np.uint8)) > 0)
    band = grow(half + 2 + max(2.0, 0.08 * max(w, h))) & ~grow(half + 2)
    return ring.astype(np.float32) / ring.sum(), band.astype(np.float32) / band.sum()


def _pt(x: float, y: float) -> tuple[int, int]:
    return int(round(x * 16)), int(round(y * 16))


def _outline_matches(ink, b, rest, known_xy, shape, centre, stroke, fill_ref):
    """Centres (K, 2) of whole bubble outlines inside the blobs ``rest`` with extra ink."""
    ring, band = _outline_templates(shape, centre, stroke, fill_ref)
    inkd = cv2.dilate(ink, np.ones((3, 3), np.uint8)).astype(np.float32) / 255
    inkf = ink.astype(np.float32) / 255
    m, n = ink.shape
    out = []
    for i in rest:
        if len(known_xy) and np.min(np.hypot(*(known_xy - b.xy[i]).T)) < 0.5 * centre.min():
            continue
        x, y, w, h = cv2.boundingRect(b.contours[i])
        px, py = ring.shape[1] // 2 + 2, ring.shape[0] // 2 + 2
        x0, y0, x1, y1 = max(x - px, 0), max(y - py, 0), min(x + w + px, n), min(y + h + py, m)
        cov = cv2.filter2D(inkd[y0:y1, x0:x1], -1, ring, borderType=cv2.BORDER_CONSTANT)
        out_ = cv2.filter2D(inkf[y0:y1, x0:x1], -1, band, borderType=cv2.BORDER_CONSTANT)
        score = cov - out_
        inside = np.zeros_like(score, dtype=bool)
        inside[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = True
        score[~inside] = -1
        r, c = np.unravel_index(int(np.argmax(score)), score.shape)
        if cov[r, c] < 0.85 or out_[r, c] > 0.3:
            continue
        dx = dy = 0.0
        if 0 < c < score.shape[1] - 1 and 0 < r < score.shape[0] - 1:
            sx, sy = score[r, c - 1 : c + 2], score[r - 1 : r + 2, c]
            den_x, den_y = sx[0] - 2 * sx[1] + sx[2], sy[0] - 2 * sy[1] + sy[2]
            dx = float(np.clip(0.5 * (sx[0] - sx[2]) / den_x, -0.5, 0.5)) if den_x < 0 else 0.0
            dy = float(np.clip(0.5 * (sy[0] - sy[2]) / den_y, -0.5, 0.5)) if den_y < 0 else 0.0
        out.append((x0 + c + dx, y0 + r + dy))
    return np.array(out, dtype=np.float64).reshape(-1, 2)


def _ring_from_hole(ink, hole, stroke, centre, fill_ref, size_tol):
    """(xy, centre-line size, interior ink) of a bubble known by its hole, or None."""
    inner = np.array(_box_wh(cv2.minAreaRect(hole))) - 1.0
    wh = inner + stroke
    if np.any(np.abs(wh / centre - 1) >= size_tol) or inner.min() <= 0:
        return None
    area = cv2.contourArea(hole) - cv2.arcLength(hole, True) / 2
    if abs(area / inner.prod() - fill_ref) > 0.1:
        return None
    mom = cv2.moments(hole)
    if mom["m00"] <= 0:
        return None
    xy = (mom["m10"] / mom["m00"], mom["m01"] / mom["m00"])
    return xy, wh, _interior_ink(ink, hole, 0.5 * stroke.max() + 1)


# ------------------------------------------------------------------------- grids


def _rotation(theta: float) -> np.ndarray:
    """(2, 2) matrix taking (x, y) to (u, v): u along the rows' direction ``theta``."""
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, s], [-s, c]])


def _neighbour_angle(xy: np.ndarray, reach_px: float) -> float:
    """Rows' direction in radians, from neighbour vectors folded modulo 90°; 0 if unknown."""
    if len(xy) < 2:
        return 0.0
    d = xy[None, :, :] - xy[:, None, :]
    dist = np.hypot(d[..., 0], d[..., 1])
    np.fill_diagonal(dist, np.inf)
    k = min(4, len(xy) - 1)
    near = np.argsort(dist, axis=1)[:, :k]
    vec = d[np.arange(len(xy))[:, None], near].reshape(-1, 2)
    vec = vec[dist[np.arange(len(xy))[:, None], near].ravel() < reach_px]
    if len(vec) == 0:
        return 0.0
    ang = np.arctan2(vec[:, 1], vec[:, 0])
    ang = (ang + np.pi / 4) % (np.pi / 2) - np.pi / 4
    ang = ang[np.abs(ang) < np.radians(10)]
    return float(np.median(ang)) if len(ang) else 0.0


def _link(uv: np.ndarray, axis: int, along_min: float, along_max: float, across: float):
    """Mutual nearest neighbours along ``axis`` of ``uv`` (K, 2): (next, prev) index arrays.

    ``next[i]`` is the bubble after ``i`` along the axis on the same line, or -1.
    """
    k = len(uv)
    d_al = uv[None, :, axis] - uv[:, None, axis]  # [i, j]: j ahead of i
    d_ac = np.abs(uv[None, :, 1 - axis] - uv[:, None, 1 - axis])
    ok = (d_al > along_min) & (d_al < along_max) & (d_ac < across)
    ahead = np.where(ok, d_al, np.inf)
    nxt = np.where(np.isfinite(ahead.min(axis=1)), ahead.argmin(axis=1), -1)
    prv = np.where(np.isfinite(ahead.min(axis=0)), ahead.argmin(axis=0), -1)
    ids = np.arange(k)
    mutual = (nxt >= 0) & (prv[np.maximum(nxt, 0)] == ids)
    nxt = np.where(mutual, nxt, -1)
    prv = np.full(k, -1)
    prv[nxt[mutual]] = ids[mutual]
    return nxt, prv


def _cut_gaps(uv: np.ndarray, axis: int, nxt: np.ndarray, prv: np.ndarray, tol: float):
    """Drop links clearly longer than a neighbouring link on the same line."""
    length = np.where(nxt >= 0, uv[np.maximum(nxt, 0), axis] - uv[:, axis], np.nan)
    out = nxt.copy()
    for i in np.flatnonzero(nxt >= 0):
        j = nxt[i]
        around = []
        if prv[i] >= 0:
            around.append(length[prv[i]])
        if nxt[j] >= 0:
            around.append(length[j])
        if around and min(around) * (1 + tol) < length[i]:
            out[i] = -1
    return out


def _components(k: int, links: list[np.ndarray]) -> list[np.ndarray]:
    parent = np.arange(k)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for nxt in links:
        for i in np.flatnonzero(nxt >= 0):
            a, b = root(i), root(int(nxt[i]))
            if a != b:
                parent[max(a, b)] = min(a, b)
    roots = np.array([root(i) for i in range(k)])
    return [np.flatnonzero(roots == r) for r in np.unique(roots)]


def _fit_lattice(xy: np.ndarray, ij: np.ndarray, use: tuple[bool, bool]):
    """Least-squares origin, col step, row step for points ``xy`` at integer ``ij`` (col, row)."""
    cols = [np.ones(len(xy))] + [ij[:, a].astype(float) for a in (0, 1) if use[a]]
    a = np.column_stack(cols)
    coef, *_ = np.linalg.lstsq(a, xy, rcond=None)
    origin = coef[0]
    steps, q = [], 1
    for axis in (0, 1):
        if use[axis]:
            steps.append(coef[q])
            q += 1
        else:
            steps.append(np.zeros(2))
    return origin, steps[0], steps[1]


def _index(xy, origin, c, r, use):
    """Integer (col, row) of each point on the lattice (origin, c, r)."""
    d = xy - origin
    if use[0] and use[1]:
        ij = np.linalg.solve(np.column_stack([c, r]), d.T).T
    else:
        ij = np.zeros((len(xy), 2))
        for axis, step in ((0, c), (1, r)):
            if use[axis]:
                ij[:, axis] = d @ step / (step @ step)
    return np.round(ij).astype(int)


def _grid_from(xy: np.ndarray, c0, r0) -> list[tuple[Grid, np.ndarray]]:
    """Fit one component's lattice; split it where a whole row or column is empty.

    Returns (grid, member indices into ``xy``) pairs.
    """
    if len(xy) == 1:
        g = Grid(xy[0].copy(), np.zeros(2), np.zeros(2), 1, 1, (), 0.0)
        return [(g, np.array([0]))]
    use = (c0 is not None, r0 is not None)
    origin, c, r = xy[0], c0 if use[0] else np.zeros(2), r0 if use[1] else np.zeros(2)
    for _ in range(3):
        ij = _index(xy, origin, c, r, use)
        ij -= ij.min(axis=0)
        origin, c, r = _fit_lattice(xy, ij, use)
    ij = _index(xy, origin, c, r, use)
    ij -= ij.min(axis=0)
    origin, c, r = _fit_lattice(xy, ij, use)
    ncol, nrow = ij.max(axis=0) + 1
    for axis, n in ((0, ncol), (1, nrow)):
        present = np.bincount(ij[:, axis], minlength=n) > 0
        if not present.all():  # never invent an empty row or column: split there
            gap = int(np.flatnonzero(~present)[0])
            out = []
            for part in (ij[:, axis] < gap, ij[:, axis] > gap):
                sub = np.flatnonzero(part)
                steps = [c0, r0]
                if len(np.unique(ij[sub, axis])) < 2:
                    steps[axis] = None
                for g, m in _grid_from(xy[sub], *steps):
                    out.append((g, sub[m]))
            return out
    lattice = origin + ij[:, :1] * c + ij[:, 1:] * r
    residual = float(np.sqrt(np.mean(np.sum((xy - lattice) ** 2, axis=1))))
    taken = set(map(tuple, ij[:, ::-1].tolist()))
    missing = tuple(
        (row, col) for row in range(nrow) for col in range(ncol) if (row, col) not in taken
    )
    g = Grid(origin, c, r, int(nrow), int(ncol), missing, residual)
    return [(g, np.arange(len(xy)))]


def _merge_aligned(xy: np.ndarray, found: list, max_missing: float) -> list:
    """Join pieces of one lattice that lost their links to missing bubbles.

    Pieces join when they sit on the lattice of a piece with both steps known
    (within a fifth of a step), their own steps agree, and they come within two
    lattice steps of it. A joined group is kept only when it makes one grid,
    without an empty row or column, two bubbles on one position, or more than
    ``max_missing`` of its positions empty; otherwise its pieces stay apart.
    """
    k = len(found)
    parent = list(range(k))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for a, (ga, ma) in enumerate(found):
        if ga.rows < 2 or ga.cols < 2:
            continue  # the lattice must be known both ways
        frame = np.column_stack([ga.col_step, ga.row_step])
        own = np.round(np.linalg.solve(frame, (xy[ma] - ga.origin).T).T)
        for b, (gb, mb) in enumerate(found):
            if b == a or root(a) == root(b):
                continue
            ij = np.linalg.solve(frame, (xy[mb] - ga.origin).T).T
            if np.abs(ij - np.round(ij)).max() > 0.2:
                continue
            steps = ((ga.col_step, gb.col_step, gb.cols), (ga.row_step, gb.row_step, gb.rows))
            if any(
                np.linalg.norm(sb - sa) > 0.03 * np.linalg.norm(sa) for sa, sb, n in steps if n > 1
            ):
                continue
            gap = np.abs(own[:, None, :] - np.round(ij)[None, :, :]).max(axis=2).min()
            if gap <= 2:
                parent[root(b)] = root(a)
    groups: dict[int, list[int]] = {}
    for i in range(k):
        groups.setdefault(root(i), []).append(i)
    out = []
    for members in groups.values():
        if len(members) > 1:
            big = max(members, key=lambda i: len(found[i][1]))
            both = np.concatenate([found[i][1] for i in members])
            joined = _grid_from(xy[both], found[big][0].col_step, found[big][0].row_step)
            if len(joined) == 1:
                g, m = joined[0]
                positions = g.rows * g.cols
                if positions - len(g.missing) == len(both) and len(g.missing) <= (
                    max_missing * positions
                ):
                    out.append((g, both[m]))
                    continue
        out.extend(found[i] for i in members)
    return out


def find_grids(
    bubbles: FoundBubbles,
    px_per_mm: float,
    *,
    pitch_tol: float = 0.15,
    max_pitch: float = 2.5,
    line_tol: float = 0.35,
    max_missing: float = 0.35,
) -> list[Grid]:
    """Group bubbles into maximal regular rectangular lattices.

    Each bubble is linked to its nearest neighbour along its row and along its
    column (after a rough deskew). A link clearly longer than the link before
    or after it on the same line is a gap between two grids, not a step, and
    is cut; the bubbles still linked form one grid, whose origin and steps are
    fitted by least squares over all its bubbles. A lost bubble leaves a
    missing position, as long as its row and column hold other bubbles.

    Parameters
    ----------
    bubbles : FoundBubbles
    px_per_mm : float
        Scan resolution.
    pitch_tol : float
        A link longer than ``1 + pitch_tol`` times a neighbouring link is a gap.
    max_pitch : float
        Longest link, in bubble sizes (the larger side).
    line_tol : float
        Largest offset across a row (column) between neighbours, in bubble heights
        (widths).
    max_missing : float
        Largest share of empty positions when pieces of one lattice, cut apart
        by lost bubbles, are joined again.

    Returns
    -------
    list of Grid
        Ordered top to bottom, then left to right. Single bubbles are 1 × 1 grids.
    """
    if not px_per_mm > 0:
        raise ValueError("px_per_mm must be positive")
    xy = np.asarray(bubbles.xy, dtype=np.float64).reshape(-1, 2)
    if len(xy) == 0:
        return []
    size = np.median(np.asarray(bubbles.size_mm).reshape(-1, 2), axis=0) * px_per_mm
    bw, bh = float(size[0]), float(size[1])
    reach = max_pitch * max(bw, bh)
    theta = _neighbour_angle(xy, reach)
    uv = xy @ _rotation(theta).T
    links = []
    for axis, along, across in ((0, bw, bh), (1, bh, bw)):
        nxt, prv = _link(uv, axis, 0.5 * along, reach, line_tol * across)
        links.append((nxt, _cut_gaps(uv, axis, nxt, prv, pitch_tol)))
    found: list[tuple[Grid, np.ndarray]] = []
    for comp in _components(len(xy), [cut for _, cut in links]):
        steps = []
        for _, cut in links:
            inside = np.isin(np.arange(len(xy)), comp) & (cut >= 0)
            vec = xy[cut[inside]] - xy[inside]
            steps.append(np.median(vec, axis=0) if len(vec) else None)
        for g, m in _grid_from(xy[comp], *steps):
            found.append((g, comp[m]))
    grids = [g for g, _ in _merge_aligned(xy, found, max_missing)]
    # Top to bottom in bands of about one bubble height, then left to right.
    ouv = np.array([g.origin for g in grids]) @ _rotation(theta).T
    band = np.zeros(len(grids), dtype=int)
    order_v = np.argsort(ouv[:, 1], kind="stable")
    for prev, cur in zip(order_v[:-1], order_v[1:], strict=True):
        band[cur] = band[prev] + (ouv[cur, 1] - ouv[prev, 1] > 0.5 * bh)
    order = np.lexsort((ouv[:, 0], band))
    return [grids[i] for i in order]


def estimate_skew(bubbles: FoundBubbles, grids: list[Grid]) -> float:
    """Angle of the rows' direction, in degrees, image coordinates (y down).

    Positive means the page is turned clockwise as seen on screen; rotating
    the image by ``cv2.getRotationMatrix2D(centre, angle, 1)`` with this angle
    makes the rows horizontal. Each grid's fitted column step counts with the
    number of its steps, as does its row step (turned by 90°). Without a grid
    of two or more bubbles, neighbouring bubbles give the angle; NaN when there
    are fewer than two bubbles.

    Parameters
    ----------
    bubbles : FoundBubbles
    grids : list of Grid
        As from :func:`find_grids`.

    Returns
    -------
    float
    """
    angles, weights = [], []
    for g in grids:
        if g.cols > 1:
            angles.append(np.arctan2(g.col_step[1], g.col_step[0]))
            weights.append(g.rows * (g.cols - 1))
        if g.rows > 1:
            angles.append(np.arctan2(-g.row_step[0], g.row_step[1]))
            weights.append(g.cols * (g.rows - 1))
    if angles:
        return float(np.degrees(np.average(angles, weights=weights)))
    xy = np.asarray(bubbles.xy).reshape(-1, 2)
    if len(xy) < 2:
        return float("nan")
    return float(np.degrees(_neighbour_angle(xy, np.inf)))


# ------------------------------------------------------------------ registration


def _no_registration() -> FoundRegistration:
    return FoundRegistration("none", None, np.empty((0, 2)), np.zeros(2), (), None)


def _is_l_shape(contour: np.ndarray, rect) -> bool:
    """Whether a blob is two perpendicular bars along two adjacent sides of its box."""
    (cx, cy), (w, h), ang = rect
    a = 0.5 * (w + h)
    if a < 4:
        return False
    pts = contour.reshape(-1, 2).astype(np.float64) - (cx, cy)
    t = np.radians(ang)
    rot = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
    local = pts @ rot.T  # into the box's own axes
    s = 64 / a  # draw on a 64-px canvas with a margin
    canvas = np.zeros((80, 80), np.uint8)
    poly = np.round(local * s + 40).astype(np.int32)
    cv2.fillPoly(canvas, [poly], 255)
    blob = canvas > 0
    area = blob.sum() / s**2
    thick = a - np.sqrt(max(a * a - area, 0.0))
    best = 0.0
    lo, hi, tk = 40 - 32, 40 + 32, int(round(thick * s))
    for sx in (0, 1):
        for sy in (0, 1):
            tmpl = np.zeros_like(canvas)
            xs = (lo, lo + tk) if sx == 0 else (hi - tk, hi)
            ys = (lo, lo + tk) if sy == 0 else (hi - tk, hi)
            cv2.rectangle(tmpl, (xs[0], lo), (xs[1] - 1, hi - 1), 255, cv2.FILLED)
            cv2.rectangle(tmpl, (lo, ys[0]), (hi - 1, ys[1] - 1), 255, cv2.FILLED)
            t_ = tmpl > 0
            best = max(best, (blob & t_).sum() / max((blob | t_).sum(), 1))
    return best > 0.75


def _size_classes(wh: np.ndarray, tol: float) -> list[np.ndarray]:
    """Greedy classes of about the same (w, h), largest first, as index arrays."""
    left = np.arange(len(wh))
    out = []
    while len(left):
        same = np.all(np.abs(wh[left][:, None, :] / wh[left][None, :, :] - 1) < tol, axis=2)
        seed = int(np.argmax(same.sum(axis=1)))
        out.append(left[same[seed]])
        left = left[~same[seed]]
    return out


def _tracks(xy: np.ndarray, wh: np.ndarray, shape: tuple[int, int], px_per_mm: float):
    """Timing tracks among dash-like blobs: lists of index arrays (vertical, horizontal)."""
    m, n = shape
    found: list[tuple[int, float, np.ndarray]] = []
    for cls in _size_classes(wh, 0.2):
        if len(cls) < 5:
            continue
        pts = xy[cls]
        for axis in (1, 0):  # 1: a column of dashes (vertical track)
            along = pts[:, axis]
            across = pts[:, 1 - axis]
            d_al = along[None, :] - along[:, None]
            d_ac = np.abs(across[None, :] - across[:, None])
            ok = (d_al > 0) & (d_ac < np.tan(np.radians(6)) * d_al + 0.5 * px_per_mm)
            ahead = np.where(ok, d_al, np.inf)
            nxt = np.where(np.isfinite(ahead.min(axis=1)), ahead.argmin(axis=1), -1)
            for comp in _components(len(cls), [nxt]):
                if len(comp) < 5:
                    continue
                comp = comp[np.argsort(along[comp])]
                gaps = np.diff(along[comp])
                if gaps.min() < 0.5 * np.median(gaps):
                    continue
                # on one straight line
                p = pts[comp]
                fit = np.polyfit(p[:, axis], p[:, 1 - axis], 1)
                off = p[:, 1 - axis] - np.polyval(fit, p[:, axis])
                if np.abs(off).max() > 0.6 * px_per_mm:
                    continue
                pos = float(np.mean(p[:, 1 - axis]))
                extent = n if axis == 1 else m
                if min(pos, extent - pos) > 0.15 * extent:
                    continue  # not near an edge
                found.append((0 if axis == 1 else 1, pos, cls[comp]))
    found.sort(key=lambda f: (f[0], f[1]))
    return [f[2] for f in found]


def find_registration(
    gray: np.ndarray,
    px_per_mm: float,
    bubbles: FoundBubbles | None = None,
    *,
    min_contrast: float = 25.0,
    size_tol: float = 0.15,
    edge_share: float = 0.2,
) -> FoundRegistration:
    """Find corner marks or a timing track.

    Solid dark blobs are classed by how much of their box they fill (square
    about 1, disc 0.785, L two bars along two sides of its box, dash an
    elongated rectangle). A blob at a bubble's place is a bubble, never a
    mark, so a pencil-filled bubble cannot become a mark. A timing track is
    five or more dashes of one size on one straight line near an edge; it
    wins over corner marks. Corner marks are two or more solid marks of one
    shape and size near the edges, spread over at least half the page each
    way (two must sit on opposite corners; a scan may cut the others off).

    Parameters
    ----------
    gray : (M, N) ndarray of uint8
    px_per_mm : float
    bubbles : FoundBubbles, optional
        The sheet's bubbles; found with :func:`find_bubbles` when not given.
    min_contrast : float
        Least grey-level difference from the paper that counts as ink.
    size_tol : float
        Relative size tolerance within one set of marks.
    edge_share : float
        How far from the page edge a corner mark may lie, as a share of the
        page width (for x) and height (for y).

    Returns
    -------
    FoundRegistration
        ``kind == "none"`` when the sheet has no recognisable registration.
    """
    _check_gray(gray, px_per_mm)
    ink = _prepare(gray, px_per_mm, min_contrast)
    if ink is None:
        return _no_registration()
    if bubbles is None:
        bubbles = find_bubbles(gray, px_per_mm, min_contrast=min_contrast)
    b = _find_blobs(ink, 0.8 * px_per_mm, 30 * px_per_mm)
    if len(b) == 0:
        return _no_registration()
    solid = b.holes < 0.05
    if len(bubbles):
        reach = 0.6 * np.max(bubbles.size_mm, axis=1) * px_per_mm
        d = np.hypot(*(b.xy[:, None, :] - bubbles.xy[None, :, :]).transpose(2, 0, 1))
        solid &= ~np.any(d < reach[None, :], axis=1)
    w, h = b.wh[:, 0], b.wh[:, 1]
    long_, short = np.maximum(w, h), np.minimum(w, h)
    aspect = long_ / short
    mm = px_per_mm
    dash = solid & (b.fill > 0.85) & (aspect > 1.8) & (aspect < 8) & (short > 0.6 * mm)
    dash &= long_ < 15 * mm
    tracks = _tracks(b.xy[dash], b.wh[dash], gray.shape, px_per_mm)
    if tracks:
        idx = np.flatnonzero(dash)
        members = [idx[t] for t in tracks]
        allm = np.concatenate(members)
        return FoundRegistration(
            kind="timing-track",
            shape=None,
            xy=b.xy[allm],
            size_mm=np.median(b.wh[allm], axis=0) / px_per_mm,
            tracks=tuple(b.xy[t] for t in members),
            orientation_xy=None,
        )
    big = solid & (short > 2.0 * mm)
    square = big & (b.fill > 0.88) & (aspect < 1.3)
    circle = big & (b.fill > 0.72) & (b.fill < 0.86) & (aspect < 1.2) & (b.solidity > 0.95)
    l_cand = np.flatnonzero(big & (b.fill > 0.12) & (b.fill < 0.6) & (aspect < 1.3))
    l_shape = np.zeros(len(b), dtype=bool)
    for i in l_cand:
        l_shape[i] = _is_l_shape(b.contours[i], cv2.minAreaRect(b.contours[i]))
    m, n = gray.shape
    x, y = b.xy[:, 0], b.xy[:, 1]
    near_edge = (np.minimum(x, n - x) < edge_share * n) | (np.minimum(y, m - y) < edge_share * m)
    best = None
    for name, mask in (("square", square), ("circle", circle), ("l-shape", l_shape)):
        idx = np.flatnonzero(mask & near_edge)
        for cls in _size_classes(b.wh[idx], size_tol):
            sel = idx[cls]
            pts = b.box_xy[sel] if name == "l-shape" else b.xy[sel]
            spread = np.ptp(pts, axis=0) if len(pts) else np.zeros(2)
            if len(sel) < 2 or spread[0] < 0.5 * n or spread[1] < 0.5 * m:
                continue
            if best is None or len(sel) > len(best[1]):
                best = (name, sel, pts)
    if best is None:
        return _no_registration()
    name, sel, pts = best
    size = np.median(b.wh[sel], axis=0)
    # The orientation mark: a smaller solid square or disc close to one mark.
    orient = None
    extra = np.flatnonzero((square | circle) & ~np.isin(np.arange(len(b)), sel))
    extra = extra[(b.wh[extra].max(axis=1) < 0.9 * size.max()) & (short[extra] > 0.3 * size.min())]
    if len(extra):
        d = np.hypot(*(b.xy[extra][:, None, :] - pts[None, :, :]).transpose(2, 0, 1)).min(axis=1)
        close = d < 4 * size.max()
        if close.any():
            orient = b.xy[extra[close][np.argmin(d[close])]].copy()
    return FoundRegistration(
        kind="corner-marks",
        shape=name,
        xy=pts,
        size_mm=size / px_per_mm,
        tracks=(),
        orientation_xy=orient,
    )
