"""Find a sheet's registration features: corner marks of any shape, or timing tracks."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from omr.detect.landmarks import bullseyes, find_bullseyes
from omr.detect.layout.bubbles import FoundBubbles, find_bubbles
from omr.detect.layout.grids import _components, find_grids
from omr.detect.layout.ink import _check_gray, _find_blobs, _prepare


@dataclass(frozen=True)
class FoundRegistration:
    """The sheet's registration features.

    Attributes
    ----------
    kind : str
        ``"corner-marks"``, ``"timing-track"`` or ``"none"``.
    shape : str or None
        For corner marks: ``"square"``, ``"circle"``, ``"l-shape"``, ``"ring"`` (a
        hollow circle) or ``"bullseye"``.
    xy : (K, 2) ndarray of float64
        Mark centres (an L's bounding-box centre), or every dash centre of every
        track, in (x, y) pixels; (0, 2) for ``"none"``.
    size_mm : (2,) ndarray of float64
        Width and height of one mark or one dash, mm; (0, 0) for ``"none"``; for
        a bullseye, the diameters of its centre dot and of its outer ring.
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
    ring_width_mm: float = 0.0  # a ring mark's line width; 0 for other kinds


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


def _on_a_lattice(xy: np.ndarray, bubbles: FoundBubbles, px_per_mm: float) -> np.ndarray:
    """(B,) bool: points at a position of a bubble grid, or one step past its ends.

    A filled bubble whose outline was lost is still at its grid's position: it
    is a bubble, never a registration mark, whatever its shape.
    """
    grids = [g for g in find_grids(bubbles, px_per_mm) if g.rows * g.cols >= 2]
    if not grids or not len(xy):
        return np.zeros(len(xy), dtype=bool)
    pts = []
    for g in grids:
        r, c = np.mgrid[-1 : g.rows + 1, -1 : g.cols + 1]
        pts.append(
            (g.origin + c[..., None] * g.col_step + r[..., None] * g.row_step).reshape(-1, 2)
        )
    lattice = np.vstack(pts)
    reach = 0.6 * float(np.max(np.median(bubbles.size_mm, axis=0))) * px_per_mm
    near = np.zeros(len(xy), dtype=bool)
    for i in range(0, len(lattice), 4096):  # in slices: a big sheet has thousands
        d = np.hypot(*(xy[:, None, :] - lattice[None, i : i + 4096, :]).transpose(2, 0, 1))
        near |= np.any(d < reach, axis=1)
    return near


WORK_PX_PER_MM = 4.0  # the scale registration looks for marks at (omr.detect.register)


def _bullseyes(gray: np.ndarray, px_per_mm: float) -> FoundRegistration | None:
    """Bullseye corner marks (rings round a dot), three or more spread over the page.

    They must be found at the page's scale and at the coarser one registration
    searches at, so that a form proposed on them registers.
    """
    xy, size = bullseyes(gray, 1.0 * px_per_mm)
    m, n = gray.shape  # no edge test: a photo's border of table puts marks far in
    if len(xy) < 3 or np.ptp(xy[:, 0]) < 0.5 * n or np.ptp(xy[:, 1]) < 0.5 * m:
        return None
    f = min(1.0, WORK_PX_PER_MM / px_per_mm)
    if f < 1:
        small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        coarse = find_bullseyes(small, float(np.median(size[:, 0])) * f) / f
        d = np.hypot(*(xy[:, None, :] - coarse[None, :, :]).transpose(2, 0, 1))
        if len(coarse) < 3 or (d.min(axis=1) < 0.5 * np.median(size[:, 0])).sum() < 3:
            return None
    return FoundRegistration(
        kind="corner-marks",
        shape="bullseye",
        xy=xy,
        size_mm=np.median(size, axis=0) / px_per_mm,  # (dot, outer ring) diameters
        tracks=(),
        orientation_xy=None,
    )


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
    rings = _bullseyes(gray, px_per_mm)
    big = solid & (short > 2.0 * mm)
    if big.any() and len(bubbles) >= 2:  # corner marks: never at a grid's position
        big[big] = ~_on_a_lattice(b.xy[big], bubbles, px_per_mm)
    square = big & (b.fill > 0.88) & (aspect < 1.3)
    circle = big & (b.fill > 0.72) & (b.fill < 0.86) & (aspect < 1.2) & (b.solidity > 0.95)
    # A ring: a round outline round one wide hole, bigger than the bubbles and
    # at none of their places (a blank bubble is a ring too).
    hollow = ~solid & (b.holes > 0.2) & (short > 2.0 * mm) & (aspect < 1.2)
    hollow &= (b.fill > 0.72) & (b.fill < 0.86) & (b.solidity > 0.95)
    hollow &= np.all(b.hole_wh >= 0.5 * b.wh, axis=1)
    if hollow.any() and len(bubbles):
        reach = 0.6 * np.max(bubbles.size_mm, axis=1) * px_per_mm
        d = np.hypot(*(b.xy[hollow][:, None, :] - bubbles.xy[None, :, :]).transpose(2, 0, 1))
        hollow[hollow] = ~np.any(d < reach[None, :], axis=1)
    if hollow.any() and len(bubbles) >= 2:
        hollow[hollow] = ~_on_a_lattice(b.xy[hollow], bubbles, px_per_mm)
    l_cand = np.flatnonzero(big & (b.fill > 0.12) & (b.fill < 0.6) & (aspect < 1.3))
    l_shape = np.zeros(len(b), dtype=bool)
    for i in l_cand:
        l_shape[i] = _is_l_shape(b.contours[i], cv2.minAreaRect(b.contours[i]))
    m, n = gray.shape
    x, y = b.xy[:, 0], b.xy[:, 1]
    near_edge = (np.minimum(x, n - x) < edge_share * n) | (np.minimum(y, m - y) < edge_share * m)
    best = None
    shapes = (("square", square), ("circle", circle), ("l-shape", l_shape), ("ring", hollow))
    for name, mask in shapes:
        idx = np.flatnonzero(mask & near_edge)
        for cls in _size_classes(b.wh[idx], size_tol):
            sel = idx[cls]
            pts = b.box_xy[sel] if name == "l-shape" else b.xy[sel]
            spread = np.ptp(pts, axis=0) if len(pts) else np.zeros(2)
            if len(sel) < 2 or spread[0] < 0.5 * n or spread[1] < 0.5 * m:
                continue
            if best is None or len(sel) > len(best[1]):
                best = (name, sel, pts)
    if rings is not None:  # bullseyes: nothing else is like them
        ring = rings.size_mm[1] * px_per_mm
        best = ("bullseye", np.zeros(0, dtype=int), rings.xy)
    if best is None:
        return _no_registration()
    name, sel, pts = best
    size = np.median(b.wh[sel], axis=0) if len(sel) else np.array([ring, ring])
    # The orientation mark: a smaller solid square or disc close to one mark.
    orient = None
    clear = np.ones(len(b), dtype=bool)
    if rings is not None:  # a bullseye's own dot is no orientation mark
        d = np.hypot(*(b.xy[:, None, :] - pts[None, :, :]).transpose(2, 0, 1)).min(axis=1)
        clear = d > 0.6 * ring
    extra = np.flatnonzero((square | circle) & ~np.isin(np.arange(len(b)), sel) & clear)
    extra = extra[(b.wh[extra].max(axis=1) < 0.9 * size.max()) & (short[extra] > 0.3 * size.min())]
    if len(extra):
        d = np.hypot(*(b.xy[extra][:, None, :] - pts[None, :, :]).transpose(2, 0, 1)).min(axis=1)
        close = d < 4 * size.max()
        if close.any():
            orient = b.xy[extra[close][np.argmin(d[close])]].copy()
    if rings is not None:
        return FoundRegistration(
            "corner-marks", "bullseye", pts, rings.size_mm, (), orientation_xy=orient
        )
    width = 0.0
    if name == "ring":  # the line: half of the outer size less the hole's
        width = float(np.median((b.wh[sel] - b.hole_wh[sel]).mean(axis=1)) / 2 / px_per_mm)
    return FoundRegistration(
        kind="corner-marks",
        shape=name,
        xy=pts,
        size_mm=size / px_per_mm,
        tracks=(),
        orientation_xy=orient,
        ring_width_mm=width,
    )


MARKER_SIZES_MM = (4.0, 40.0)  # the printed widths a marker image is looked for at
MARKER_WORK_PX_PER_MM = 4.0


MAX_MARKER_COPIES = 12  # more matches than this at one width are a repeated print, not marks


def find_marker_image(
    gray: np.ndarray,
    px_per_mm: float,
    marker: np.ndarray,
    bubbles_xy: np.ndarray | None = None,
    *,
    min_match: float = 0.5,
) -> FoundRegistration | None:
    """Copies of the picture ``marker`` printed upright on the straightened sheet, or None.

    Its printed size is unknown: the picture is matched (normalised
    correlation) at widths from 4 to 40 mm, 8% apart and then 2% about the
    best, the best width being the one whose four best copies match best.
    Every copy matching ``min_match`` or better at that width counts. A match
    centred on one of ``bubbles_xy`` (the bubbles of the sheet's grids) is
    that bubble (a bullseye at a bubble's size looks like one), and a width
    matching more than ``MAX_MARKER_COPIES`` times matches a repeated print.
    """
    from omr.detect.register.marker import refine_copy

    f = min(1.0, MARKER_WORK_PX_PER_MM / px_per_mm)
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else gray
    aspect = marker.shape[0] / marker.shape[1]
    on_bubbles = np.empty((0, 2)) if bubbles_xy is None else np.asarray(bubbles_xy) * f

    def copies(width_mm: float) -> tuple[float, np.ndarray, np.ndarray]:
        w = max(4, round(width_mm * px_per_mm * f))
        h = max(4, round(w * aspect))
        if w >= small.shape[1] or h >= small.shape[0]:
            return -1.0, np.empty((0, 2)), np.empty(0)
        tpl = cv2.resize(marker, (w, h), interpolation=cv2.INTER_AREA)
        if tpl.std() == 0:
            return -1.0, np.empty((0, 2)), np.empty(0)
        res = cv2.matchTemplate(small, tpl, cv2.TM_CCOEFF_NORMED)
        k = max(3, int(0.8 * min(w, h)) | 1)
        peak = (res == cv2.dilate(res, np.ones((k, k), np.uint8))) & (res > 0)
        ys, xs = np.nonzero(peak)
        order = np.argsort(-res[ys, xs])
        score = res[ys, xs][order]
        xy = np.column_stack([xs[order] + (w - 1) / 2, ys[order] + (h - 1) / 2])
        if len(on_bubbles):
            d = np.hypot(*(xy[:, None, :] - on_bubbles[None]).transpose(2, 0, 1)).min(axis=1)
            xy, score = xy[d > 0.35 * min(w, h)], score[d > 0.35 * min(w, h)]
        if len(score) < 4 or (score >= min_match).sum() > MAX_MARKER_COPIES:
            return -1.0, xy, score
        return float(score[:4].mean()), xy, score

    lo, hi = MARKER_SIZES_MM
    widths = lo * 1.08 ** np.arange(int(np.log(hi / lo) / np.log(1.08)) + 1)
    tried = {float(wd): copies(wd) for wd in widths}
    best = max(tried, key=lambda wd: tried[wd][0])
    tried.update({float(wd): copies(wd) for wd in best * 1.02 ** np.arange(-4, 5)})
    best = max(tried, key=lambda wd: tried[wd][0])
    fit, xy, score = tried[best]
    keep = score >= min_match
    if fit < min_match or keep.sum() < 3:
        return None
    size_px = (best * px_per_mm, best * px_per_mm * aspect)
    centres = np.array([refine_copy(gray, c / f, marker, size_px, 1.0, 0) for c in xy[keep]])
    return FoundRegistration(
        "marker-image", None, centres, np.array([best, best * aspect]), (), None
    )
