"""Find the printed bubbles of a sheet, all of one kind, blank or filled."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from omr.detect.layout.ink import _box_wh, _check_gray, _find_blobs, _prepare, faint_ink


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
    # Lines of bubbles at another size left out (a solid dot among them): (size mm, centres px).
    other_sizes: tuple[tuple[float, np.ndarray], ...] = ()

    def __len__(self) -> int:
        return len(self.xy)


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
    args = (px_per_mm, min_mm, max_mm, size_tol, rect_fill, clear_mm, min_hole)
    found = _bubbles_in(_prepare(gray, px_per_mm, min_contrast), *args)
    if len(found) < FEW_BUBBLES:
        # A photo's dark, textured background raises the noise level over the
        # paper's: measured on the paper alone, the outlines may show.
        ink = _prepare(gray, px_per_mm, min_contrast, paper_noise=True)
        if ink is not None:
            again = _bubbles_in(ink, *args)
            if len(again) > len(found):
                found = again
    if len(found) < FEW_BUBBLES or found.filled.sum() > 0.5 * len(found):
        # Few bubbles, or mostly filled ones: the blank outlines may be too
        # pale for the paper's noise (a grainy photo, light-grey or coloured
        # print). Taken when it finds more blank bubbles.
        ink = faint_ink(gray, px_per_mm)
        if ink is not None:
            again = _bubbles_in(ink, *args)
            if _blanks(again) > _blanks(found):
                found = again
    return found


def _blanks(found: FoundBubbles) -> int:
    return int(len(found) - found.filled.sum())


FEW_BUBBLES = 6


def _bubbles_in(
    ink, px_per_mm, min_mm, max_mm, size_tol, rect_fill, clear_mm, min_hole
) -> FoundBubbles:
    """The bubbles of :func:`find_bubbles` on an ink mask (None: no contrast)."""
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
    other, left_out = _other_sizes(b.xy[cand], wc, hc, ring, ok, b.fill[cand], fill_ref, size_tol)
    ok |= other
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
        xy=xy[order],
        size_mm=size[order] / px_per_mm,
        shape=shape,
        filled=filled[order],
        other_sizes=tuple((d / px_per_mm, c) for d, c in left_out),
    )


OTHER_SIZES = (0.6, 1.6)  # other bubble sizes on the sheet, as shares of the usual one
OTHER_SIZE_LEAST = 2  # fewest open bubbles of another size in line that make a field


def _other_sizes(xy, w, h, ring, taken, fill, fill_ref, size_tol):
    """Candidates of the usual shape at other sizes that stand in lines: other fields' bubbles.

    Real sheets print answer, ID and group bubbles at different sizes (3.4,
    2.9 and 4.4 mm on one). A class of rings of one size, within
    ``OTHER_SIZES`` of the usual and of its shape and width to height,
    counts where ``OTHER_SIZE_LEAST`` or more of its open rings have a
    neighbour of their class in line (across or down, within 2.5 of their
    sizes): a lone ring (an icon, a letter O) never does. A class with a
    solid dot of its size in its lines is left out and returned: a printed
    example ("mark like this", UmarFarootAPS and sample4 print theirs
    smaller than their bubbles) looks so, and so does a field of a filled
    sheet, which one image cannot tell apart.

    Returns the mask of the candidates taken and, for each class left out,
    its size (px) and centres.
    """
    out = np.zeros(len(w), dtype=bool)
    left_out: list[tuple[float, np.ndarray]] = []
    usual_w, usual_h = np.median(w[taken & ring]), np.median(h[taken & ring])
    shape_ok = np.abs(fill - fill_ref) < 0.08
    ratio = np.sqrt(w * h / (usual_w * usual_h))
    shape_ok &= np.abs((w / h) / (usual_w / usual_h) - 1) < size_tol  # not write-in boxes
    left = ring & ~taken & shape_ok & (ratio > OTHER_SIZES[0]) & (ratio < OTHER_SIZES[1])
    same = (np.abs(w[:, None] / w[None, :] - 1) < size_tol) & (
        np.abs(h[:, None] / h[None, :] - 1) < size_tol
    )
    while left.any():
        seed = int(np.argmax(np.where(left, (same & left[None, :]).sum(axis=1), -1)))
        members = same[seed] & left
        rw, rh = np.median(w[members]), np.median(h[members])
        cls = (np.abs(w / rw - 1) < size_tol) & (np.abs(h / rh - 1) < size_tol)
        cls &= shape_ok & ~taken & ~out
        idx = np.flatnonzero(cls)
        d = xy[idx][:, None, :] - xy[idx][None, :, :]
        size = max(rw, rh)
        near = (np.hypot(d[..., 0], d[..., 1]) < 2.5 * size) & (
            (np.abs(d[..., 0]) < 0.3 * size) | (np.abs(d[..., 1]) < 0.3 * size)
        )
        np.fill_diagonal(near, False)
        in_line = idx[near.any(axis=1)]
        if (ring[in_line]).sum() >= OTHER_SIZE_LEAST:
            if ring[in_line].all():
                out[in_line] = True
            else:
                left_out.append((float(np.sqrt(rw * rh)), xy[in_line]))
        left &= ~members
        left[seed] = False
    return out, left_out


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
