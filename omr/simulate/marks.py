"""Draw pencil on a page: filled bubbles, handwritten digits, a signature.

Graphite is neutral grey and absorbs light, so every function here darkens
the page multiplicatively, ``I_new = I * (1 - alpha)``, with ``alpha`` the
share of light the graphite takes at each pixel. All functions return a new
page and leave the input untouched. Coordinates are pixels of the page,
points in (x, y) order.

Pages are grey ``(M, N)`` or RGB ``(M, N, 3)`` uint8 arrays; graphite darkens
the three channels alike. Given a pen (``pens=``/``pen=``, see
:mod:`omr.simulate.pens`), fills, symbols, digits and signatures take that
pen's colour, density and texture instead of the generic pencil's grain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from omr.simulate.pens import PENCIL, Pen, apply_pen, bleed, pen_texture

HARMONICS = np.array([2.0, 3.0, 4.0])  # outline irregularity: low-order lobes
SCRIPT_FONT = cv2.FONT_HERSHEY_SCRIPT_SIMPLEX
PX_PER_MM = 300 / 25.4  # the simulator draws at 300 dpi


@dataclass(frozen=True, eq=False)
class MarkShape:
    """Geometry of ``K`` pencil blobs, relative to their bubbles.

    Attributes
    ----------
    offset_xy : (K, 2) ndarray
        Blob centre minus bubble centre, in bubble radii.
    size : (K,) ndarray
        Blob radius in bubble radii.
    cut_angle : (K,) ndarray
        Direction (radians, x towards y) of the side left unfilled when the
        coverage asks for less than the blob covers.
    wobble : (K, 3) ndarray
        Amplitudes of the outline's 2-, 3- and 4-lobed irregularity, in blob radii.
    phase : (K, 3) ndarray
        Phases of those lobes, radians.
    """

    offset_xy: np.ndarray
    size: np.ndarray
    cut_angle: np.ndarray
    wobble: np.ndarray
    phase: np.ndarray

    @classmethod
    def round(cls, k: int, *, size: float = 1.0) -> MarkShape:
        """``k`` centred, perfectly round blobs of ``size`` bubble radii."""
        return cls(
            offset_xy=np.zeros((k, 2)),
            size=np.full(k, float(size)),
            cut_angle=np.zeros(k),
            wobble=np.zeros((k, 3)),
            phase=np.zeros((k, 3)),
        )


def _check_page(page: np.ndarray) -> None:
    grey = page.ndim == 2
    rgb = page.ndim == 3 and page.shape[2] == 3
    if not (grey or rgb) or page.dtype != np.uint8:
        raise ValueError(
            f"page must be a 2-D or (M, N, 3) uint8 array, got {page.dtype} {page.shape}"
        )


def _lay(
    page: np.ndarray,
    shape: np.ndarray,
    x0: int,
    y0: int,
    *,
    pen: Pen,
    darkness: float,
    rng: np.random.Generator,
    grain: float,
    px_per_mm: float,
    limit: np.ndarray | None = None,
) -> None:
    """Lay a mark of ``shape`` (0..1, a patch at (x0, y0)) in ``pen`` on ``page``, in place.

    The pen's bleed spreads the shape (kept within ``limit``), its texture
    modulates it; a pencil takes ``grain``, an ink draws its own.
    """
    amount = bleed(shape, pen, rng, px_per_mm=px_per_mm)
    if limit is not None:
        amount = np.minimum(amount, limit)
    g = grain if pen.medium == PENCIL else None
    amount = amount * pen_texture(pen, amount.shape, rng, px_per_mm=px_per_mm, grain=g)
    apply_pen(page, amount, x0, y0, pen=pen, darkness=darkness)


def _ramp(signed_distance: np.ndarray, softness: float) -> np.ndarray:
    """1 well inside (positive distance), 0 outside, linear over ``softness`` pixels."""
    return np.clip(signed_distance / max(softness, 1e-6) + 0.5, 0.0, 1.0)


def _texture(shape: tuple[int, int], grain: float, rng: np.random.Generator | None) -> np.ndarray:
    """Graphite grain: a factor of mean 1 varying by ``±grain`` from pixel to pixel."""
    if grain <= 0 or rng is None:
        return np.ones(shape, dtype=np.float32)
    u = rng.random(shape, dtype=np.float32)
    return 1.0 + grain * (2.0 * u - 1.0)


def mark_alpha(
    offsets_xy: np.ndarray,
    radius: float,
    *,
    coverage: float,
    offset_xy=(0.0, 0.0),
    size: float = 1.0,
    cut_angle: float = 0.0,
    wobble=(0.0, 0.0, 0.0),
    phase=(0.0, 0.0, 0.0),
    softness: float = 1.5,
    max_extent: float = 1.12,
) -> tuple[np.ndarray, float]:
    """Shape of one pencil blob (0..1, before darkness and grain) around its bubble.

    The blob is an irregular disc, off-centre, cut by a straight edge on the
    side ``cut_angle`` points to so that it covers ``coverage`` of the bubble;
    nothing reaches beyond ``max_extent`` bubble radii from the bubble centre.

    Parameters
    ----------
    offsets_xy : (M, N, 2) ndarray
        Pixel centres relative to the bubble centre, (x, y) order.
    radius : float
        Bubble radius in pixels.
    coverage : float
        Share of the bubble (disc of ``radius``) to cover, 0..1.

    Returns
    -------
    shape : (M, N) ndarray of float32
        Blob opacity before darkness, 0..1.
    covered : float
        Share of the bubble's pixels where ``shape >= 0.5``.
    """
    dx = offsets_xy[..., 0] - offset_xy[0] * radius
    dy = offsets_xy[..., 1] - offset_xy[1] * radius
    rho = np.hypot(dx, dy)
    phi = np.arctan2(dy, dx)
    outline = (
        size
        * radius
        * (
            1.0
            + sum(a * np.cos(k * phi + p) for a, k, p in zip(wobble, HARMONICS, phase, strict=True))
        )
    )
    blob = _ramp(outline - rho, softness)
    dist = np.hypot(offsets_xy[..., 0], offsets_xy[..., 1])
    blob = np.minimum(blob, _ramp(max_extent * radius - softness / 2 - dist, softness))
    inside = dist <= radius
    n_inside = int(inside.sum())
    cos, sin = np.cos(cut_angle), np.sin(cut_angle)
    along = offsets_xy[..., 0] * cos + offsets_xy[..., 1] * sin
    # break ties between pixels in one row or column of the grid, so any coverage is reachable
    along = along + 1e-4 * (offsets_xy[..., 1] * cos - offsets_xy[..., 0] * sin)
    candidates = np.sort(along[inside & (blob >= 0.5)])
    want = int(round(float(np.clip(coverage, 0.0, 1.0)) * n_inside))
    if want < len(candidates):
        # keep the pixels with the lowest projection: the far side stays unfilled
        edge = candidates[want - 1 : want + 1].mean() if want > 0 else candidates[0] - 1.0
        blob = np.minimum(blob, _ramp(edge - along, softness))
    covered = float((blob[inside] >= 0.5).sum() / max(n_inside, 1))
    return blob.astype(np.float32), covered


def draw_marks(
    page: np.ndarray,
    centers_xy: np.ndarray,
    radius: np.ndarray,
    *,
    darkness: np.ndarray,
    coverage: np.ndarray,
    shape: MarkShape | None = None,
    grain: float = 0.0,
    rng: np.random.Generator | None = None,
    softness: float = 1.5,
    max_extent: float = 1.12,
    pens: Sequence[Pen] | None = None,
    px_per_mm: float = PX_PER_MM,
    aspect: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fill bubbles with pencil, or with the pens given.

    Parameters
    ----------
    page : (M, N) or (M, N, 3) ndarray of uint8
        Grey or RGB page.
    centers_xy : (K, 2) ndarray
        Bubble centres in pixels, (x, y) order, pixel centres at integers
        (OpenCV's convention).
    radius : (K,) ndarray or float
        Bubble radii in pixels.
    darkness : (K,) ndarray
        Share of light a fully covered spot absorbs, 0..1.
    coverage : (K,) ndarray
        Share of each bubble to cover (about 0.92–1 for a full fill).
    shape : MarkShape, optional
        Blob geometry; default centred round blobs of one bubble radius.
    grain : float
        Strength of the graphite grain (0: flat tone); needs ``rng``.
    rng : numpy.random.Generator, optional
        Source of the grain.
    softness : float
        Width of the soft edge, pixels.
    max_extent : float
        Graphite stays within this many radii of the bubble centre.
    pens : sequence of Pen, optional
        One pen per bubble: its colour, density and texture replace the
        generic pencil's (``grain`` then goes to graphite pens only); needs
        ``rng``. An ink pen needs an RGB page to show its colour.
    px_per_mm : float
        Resolution of the page (pens' stroke spacing and bleed are in mm).
    aspect : (K, 2) ndarray, optional
        Half width and half height of each bubble over its ``radius``: an
        ellipse's fill is a round fill stretched by these factors.

    Returns
    -------
    marked : ndarray of uint8
        The page with the marks.
    covered : (K,) ndarray
        Share of each bubble's pixels covered (blob opacity at least 0.5).
    """
    _check_page(page)
    centers_xy = np.asarray(centers_xy, dtype=float).reshape(-1, 2)
    k = len(centers_xy)
    radius = np.broadcast_to(np.asarray(radius, dtype=float), (k,))
    darkness = np.broadcast_to(np.asarray(darkness, dtype=float), (k,))
    coverage = np.broadcast_to(np.asarray(coverage, dtype=float), (k,))
    shape = shape if shape is not None else MarkShape.round(k)
    aspect = np.ones((k, 2)) if aspect is None else np.asarray(aspect, dtype=float)
    out = page.copy()
    covered = np.zeros(k)
    for i in range(k):
        reach = max_extent * radius[i] * aspect[i] + softness + 1
        x0, y0 = np.floor(centers_xy[i] - reach).astype(int)
        x1, y1 = np.ceil(centers_xy[i] + reach).astype(int) + 1
        ys, xs = np.mgrid[y0:y1, x0:x1]
        rel = (np.stack([xs, ys], axis=-1) - centers_xy[i]) / aspect[i]
        blob, covered[i] = mark_alpha(
            rel,
            radius[i],
            coverage=coverage[i],
            offset_xy=shape.offset_xy[i],
            size=shape.size[i],
            cut_angle=shape.cut_angle[i],
            wobble=shape.wobble[i],
            phase=shape.phase[i],
            softness=softness,
            max_extent=max_extent,
        )
        if pens is not None:
            if rng is None:
                raise ValueError("drawing with pens needs an rng")
            dist = np.hypot(rel[..., 0], rel[..., 1])
            limit = _ramp(max_extent * radius[i] - softness / 2 - dist, softness)
            _lay(
                out,
                blob,
                int(x0),
                int(y0),
                pen=pens[i],
                darkness=float(darkness[i]),
                rng=rng,
                grain=grain,
                px_per_mm=px_per_mm,
                limit=limit,
            )
            continue
        alpha = darkness[i] * blob * _texture(blob.shape, grain, rng)
        _apply_alpha(out, np.clip(alpha, 0.0, 0.99), int(x0), int(y0))
    return out, covered


def _apply_alpha(page: np.ndarray, alpha: np.ndarray, x0: int, y0: int) -> None:
    """Darken ``page`` in place by ``alpha`` placed with its top-left at (x0, y0), clipped.

    On an RGB page every channel darkens alike (graphite is neutral).
    """
    h, w = page.shape[:2]
    ah, aw = alpha.shape
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x0 + aw, w), min(y0 + ah, h)
    if cx0 >= cx1 or cy0 >= cy1:
        return
    a = alpha[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    if page.ndim == 3:
        a = a[..., None]
    patch = page[cy0:cy1, cx0:cx1].astype(np.float32) * (1.0 - a)
    page[cy0:cy1, cx0:cx1] = np.clip(np.rint(patch), 0, 255).astype(np.uint8)


def draw_digits(
    page: np.ndarray,
    digits: str,
    boxes: np.ndarray,
    *,
    darkness: float,
    rng: np.random.Generator,
    height_px: tuple[float, float] = (35.0, 45.0),
    thickness: tuple[int, int] = (2, 3),
    grain: float = 0.0,
    pen: Pen | None = None,
    px_per_mm: float = PX_PER_MM,
) -> np.ndarray:
    """Handwrite one digit in each write-in box.

    Parameters
    ----------
    page : (M, N) or (M, N, 3) ndarray of uint8
        Grey or RGB page.
    digits : str
        One character per box.
    boxes : (K, 4) ndarray
        Boxes as (x, y, width, height) in pixels, top-left corner first.
    darkness : float
        Pencil darkness, 0..1.
    rng : numpy.random.Generator
        Source of the handwriting's variation (size, slant, position).
    height_px : (float, float)
        Range of the digits' height, pixels.
    thickness : (int, int)
        Range of the stroke width, pixels (inclusive).
    pen : Pen, optional
        Write with this pen (its colour and texture) instead of the generic pencil.

    Returns
    -------
    ndarray of uint8
        The page with the digits written.
    """
    _check_page(page)
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    if len(digits) != len(boxes):
        raise ValueError(f"{len(digits)} digits for {len(boxes)} boxes")
    out = page.copy()
    for digit, (bx, by, bw, bh) in zip(digits, boxes, strict=True):
        tw = int(rng.integers(thickness[0], thickness[1] + 1))
        (gw, gh), base = cv2.getTextSize(digit, SCRIPT_FONT, 1.0, tw)
        target = min(rng.uniform(*height_px), 0.85 * bh)
        scale = target / max(gh, 1)
        (gw, gh), base = cv2.getTextSize(digit, SCRIPT_FONT, scale, tw)
        side = int(np.ceil(max(bw, bh))) + 2 * tw + 8
        canvas = np.zeros((side, side), dtype=np.uint8)
        org = (int((side - gw) / 2), int((side + gh) / 2))
        cv2.putText(canvas, digit, org, SCRIPT_FONT, scale, 255, tw, cv2.LINE_AA)
        angle = rng.normal(0.0, 4.0)
        shear = rng.uniform(-0.15, 0.1)
        m = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
        m[0, 1] += shear
        m[0, 2] -= shear * side / 2
        canvas = cv2.warpAffine(canvas, m, (side, side), flags=cv2.INTER_LINEAR)
        if pen is not None:
            jitter = rng.uniform(-0.08, 0.08, 2) * (bw, bh)
            x0 = int(round(bx + bw / 2 - side / 2 + jitter[0]))
            y0 = int(round(by + bh / 2 - side / 2 + jitter[1]))
            shape = canvas.astype(np.float32) / 255.0
            _lay(
                out,
                shape,
                x0,
                y0,
                pen=pen,
                darkness=darkness,
                rng=rng,
                grain=grain,
                px_per_mm=px_per_mm,
            )
            continue
        alpha = canvas.astype(np.float32) / 255.0 * darkness
        alpha *= _texture(alpha.shape, grain, rng)
        jitter = rng.uniform(-0.08, 0.08, 2) * (bw, bh)
        x0 = int(round(bx + bw / 2 - side / 2 + jitter[0]))
        y0 = int(round(by + bh / 2 - side / 2 + jitter[1]))
        _apply_alpha(out, np.clip(alpha, 0.0, 0.99), x0, y0)
    return out


def draw_signature(
    page: np.ndarray,
    rect: tuple[float, float, float, float],
    *,
    darkness: float,
    rng: np.random.Generator,
    thickness: tuple[int, int] = (2, 3),
    pen: Pen | None = None,
    grain: float = 0.0,
    px_per_mm: float = PX_PER_MM,
) -> np.ndarray:
    """Scribble a cursive-looking signature inside ``rect``.

    Parameters
    ----------
    page : (M, N) or (M, N, 3) ndarray of uint8
        Grey or RGB page.
    rect : (x, y, width, height)
        The signature box in pixels, top-left corner first.
    darkness : float
        Pencil darkness, 0..1.
    rng : numpy.random.Generator
        Source of the signature's shape.
    pen : Pen, optional
        Sign with this pen (colour and texture; ``grain`` for graphite);
        default the generic pencil, without grain.

    Returns
    -------
    ndarray of uint8
        The page with the signature.
    """
    _check_page(page)
    x, y, w, h = (float(v) for v in rect)
    t = np.linspace(0.0, 1.0, 400)
    loops = rng.uniform(4, 9)
    length = rng.uniform(0.45, 0.8) * w
    amp = rng.uniform(0.18, 0.28) * h
    lead = length / loops / (2 * np.pi)
    px = (
        x
        + rng.uniform(0.08, 0.15) * w
        + length * t
        + rng.uniform(1.8, 2.6) * lead * np.cos(2 * np.pi * loops * t)
    )
    envelope = 1.0 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.5, 1.5) * t + rng.uniform(0, 6.3))
    py = y + 0.6 * h + amp * envelope * np.sin(2 * np.pi * loops * t + rng.uniform(-0.5, 0.5))
    py += rng.uniform(-0.08, 0.08) * h * t
    u = np.linspace(0.0, 1.0, 60)
    ux = px[0] + (px[-1] - px[0] + 0.1 * w) * u
    uy = y + 0.85 * h - rng.uniform(0.0, 0.1) * h * np.sin(np.pi * u)
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    canvas = np.zeros((int(np.ceil(h)) + 2, int(np.ceil(w)) + 2), dtype=np.uint8)
    tw = int(rng.integers(thickness[0], thickness[1] + 1))
    for sx, sy in ((px, py), (ux, uy)):
        pts = np.column_stack([sx - x0, sy - y0])
        pts = np.clip(pts, 2, [canvas.shape[1] - 3, canvas.shape[0] - 3])
        pts = np.rint(pts * 16).astype(np.int32)
        cv2.polylines(canvas, [pts], False, 255, tw, cv2.LINE_AA, shift=4)
    out = page.copy()
    if pen is not None:
        shape = canvas.astype(np.float32) / 255.0
        _lay(
            out,
            shape,
            x0,
            y0,
            pen=pen,
            darkness=darkness,
            rng=rng,
            grain=grain,
            px_per_mm=px_per_mm,
        )
        return out
    alpha = canvas.astype(np.float32) / 255.0 * darkness
    _apply_alpha(out, np.clip(alpha, 0.0, 0.99), x0, y0)
    return out


SYMBOL_KINDS = ("tick", "cross", "circle", "dot")


def _bent_line(a_xy, b_xy, bow: float, n: int = 12) -> np.ndarray:
    """``n`` points from ``a_xy`` to ``b_xy`` bowed sideways by ``bow`` (share of the length)."""
    a, b = np.asarray(a_xy, dtype=float), np.asarray(b_xy, dtype=float)
    t = np.linspace(0.0, 1.0, n)[:, None]
    d = b - a
    normal = np.array([-d[1], d[0]])
    return a + t * d + bow * np.sin(np.pi * t) * normal


def _polyline_distance(offsets_xy: np.ndarray, poly_xy: np.ndarray) -> np.ndarray:
    """Distance from every pixel centre of ``offsets_xy`` (M, N, 2) to a polyline (P, 2)."""
    a, b = poly_xy[:-1], poly_xy[1:]
    ab = b - a
    length2 = np.maximum((ab**2).sum(axis=1), 1e-12)
    rel = offsets_xy[..., None, :] - a  # (M, N, S, 2)
    t = np.clip((rel * ab).sum(axis=-1) / length2, 0.0, 1.0)
    closest = rel - t[..., None] * ab
    return np.sqrt((closest**2).sum(axis=-1)).min(axis=-1)


def symbol_alpha(
    offsets_xy: np.ndarray,
    radius: float,
    kind: str,
    rng: np.random.Generator,
    *,
    width: float,
    circle_radius: tuple[float, float] = (1.2, 1.45),
    dot_radius: tuple[float, float] = (0.2, 0.4),
    reach: float = 1.12,
    softness: float = 1.5,
) -> np.ndarray:
    """Shape (0..1) of a tick, cross, circle or dot drawn on a bubble instead of a fill.

    A tick is a short and a long stroke through the bubble; a cross two
    strokes crossing near its centre; a circle a hand-drawn ring around it,
    ``circle_radius`` bubble radii across, leaving the interior empty; a dot a
    small disc of ``dot_radius`` radii near the centre. Sizes, angles and the
    hand's wobble come from ``rng``; nothing reaches beyond ``reach`` radii.

    Parameters
    ----------
    offsets_xy : (M, N, 2) ndarray
        Pixel centres relative to the bubble centre, (x, y) order.
    radius : float
        Bubble radius in pixels.
    kind : str
        One of :data:`SYMBOL_KINDS`.
    width : float
        Pencil line width, pixels.

    Returns
    -------
    (M, N) ndarray of float32
        Opacity before darkness, 0..1.
    """
    if kind not in SYMBOL_KINDS:
        raise ValueError(f"kind must be one of {', '.join(SYMBOL_KINDS)}, got {kind!r}")
    turn = np.deg2rad(rng.normal(0.0, 8.0))
    rot = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    shift = rng.uniform(-0.12, 0.12, 2)
    dist = np.hypot(offsets_xy[..., 0], offsets_xy[..., 1])
    if kind == "dot":
        rho = rng.uniform(*dot_radius) * radius
        alpha = _ramp(rho - np.hypot(*(offsets_xy - shift * radius).transpose(2, 0, 1)), softness)
    else:
        if kind == "tick":
            s = rng.uniform(0.9, 1.2)
            legs = [
                _bent_line((-0.6, -0.05), (-0.15, 0.55), rng.uniform(-0.08, 0.08), 6),
                _bent_line((-0.15, 0.55), (0.75, -0.85), rng.uniform(-0.08, 0.08)),
            ]
            polys = [s * leg for leg in legs]
        elif kind == "cross":
            polys = []
            for base in (45.0, 135.0):
                a = np.deg2rad(base + rng.normal(0.0, 6.0))
                half = rng.uniform(0.75, 1.1)
                end = half * np.array([np.cos(a), np.sin(a)])
                polys.append(_bent_line(-end, end, rng.uniform(-0.06, 0.06)))
        else:  # circle: a ring with a slight spiral, its ends overlapping or just apart
            r0 = rng.uniform(*circle_radius)
            start = rng.uniform(0, 2 * np.pi)
            phi = start + np.linspace(0.0, 2 * np.pi * rng.uniform(0.92, 1.1), 60)
            ring = r0 * (
                1.0
                + rng.uniform(-0.05, 0.05) * (phi - start) / (2 * np.pi)
                + 0.03 * np.cos(2 * phi + rng.uniform(0, 2 * np.pi))
            )
            polys = [np.column_stack([ring * np.cos(phi), ring * np.sin(phi)])]
            shift = shift * 0.5
        d = np.full(offsets_xy.shape[:2], np.inf)
        for poly in polys:
            xy = (poly @ rot.T + shift) * radius
            d = np.minimum(d, _polyline_distance(offsets_xy, xy))
        alpha = _ramp(width / 2 - d, softness)
    alpha = np.minimum(alpha, _ramp(reach * radius - softness / 2 - dist, softness))
    return alpha.astype(np.float32)


def _patch(centre_xy: np.ndarray, reach: float) -> tuple[int, int, np.ndarray]:
    """Top-left corner and pixel offsets (M, N, 2) of a square patch of half-side ``reach``."""
    x0, y0 = np.floor(centre_xy - reach).astype(int)
    x1, y1 = np.ceil(centre_xy + reach).astype(int) + 1
    ys, xs = np.mgrid[y0:y1, x0:x1]
    return int(x0), int(y0), np.stack([xs, ys], axis=-1) - centre_xy


def draw_symbols(
    page: np.ndarray,
    centers_xy: np.ndarray,
    radius: np.ndarray,
    *,
    kinds: list[str],
    darkness: np.ndarray,
    rng: np.random.Generator,
    width: float,
    reach: np.ndarray | float = 1.12,
    circle_radius: tuple[float, float] = (1.2, 1.45),
    dot_radius: tuple[float, float] = (0.2, 0.4),
    grain: float = 0.0,
    softness: float = 1.5,
    pens: Sequence[Pen] | None = None,
    px_per_mm: float = PX_PER_MM,
    aspect: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mark bubbles with ticks, crosses, circles or dots (see :func:`symbol_alpha`).

    ``aspect`` (K, 2), as in :func:`draw_marks`: around an ellipse the
    symbols stretch with it (a circle drawn round a wide bubble is an ellipse).

    Parameters
    ----------
    page : (M, N) or (M, N, 3) ndarray of uint8
        Grey or RGB page.
    centers_xy : (K, 2) ndarray
        Bubble centres in pixels, (x, y) order.
    radius : (K,) ndarray or float
        Bubble radii in pixels.
    kinds : list of str
        One of :data:`SYMBOL_KINDS` per bubble.
    darkness : (K,) ndarray
        Pencil darkness, 0..1.
    rng : numpy.random.Generator
        Source of the shapes and the grain.
    width : float
        Pencil line width, pixels.
    reach : (K,) ndarray or float
        Nothing is drawn beyond this many radii from each bubble centre.
    pens : sequence of Pen, optional
        One pen per bubble, as for :func:`draw_marks`.

    Returns
    -------
    marked : ndarray of uint8
        The page with the symbols.
    covered : (K,) ndarray
        Share of each bubble's pixels under the symbol (opacity at least 0.5).
    """
    _check_page(page)
    centers_xy = np.asarray(centers_xy, dtype=float).reshape(-1, 2)
    k = len(centers_xy)
    radius = np.broadcast_to(np.asarray(radius, dtype=float), (k,))
    darkness = np.broadcast_to(np.asarray(darkness, dtype=float), (k,))
    reach = np.broadcast_to(np.asarray(reach, dtype=float), (k,))
    aspect = np.ones((k, 2)) if aspect is None else np.asarray(aspect, dtype=float)
    out = page.copy()
    covered = np.zeros(k)
    for i in range(k):
        x0, y0, rel = _patch(centers_xy[i], reach[i] * radius[i] * aspect[i].max() + softness + 1)
        rel = rel / aspect[i]
        alpha = symbol_alpha(
            rel,
            radius[i],
            kinds[i],
            rng,
            width=width,
            circle_radius=circle_radius,
            dot_radius=dot_radius,
            reach=reach[i],
            softness=softness,
        )
        dist = np.hypot(rel[..., 0], rel[..., 1])
        inside = dist <= radius[i]
        covered[i] = float((alpha[inside] >= 0.5).mean())
        if pens is not None:
            limit = _ramp(reach[i] * radius[i] - softness / 2 - dist, softness)
            _lay(
                out,
                alpha,
                x0,
                y0,
                pen=pens[i],
                darkness=float(darkness[i]),
                rng=rng,
                grain=grain,
                px_per_mm=px_per_mm,
                limit=limit,
            )
            continue
        alpha = darkness[i] * alpha * _texture(alpha.shape, grain, rng)
        _apply_alpha(out, np.clip(alpha, 0.0, 0.99), x0, y0)
    return out, covered


def smooth_noise(shape: tuple[int, int], cells: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth random field, values about in [-1, 1], with ``cells`` bumps across."""
    grid = rng.uniform(-1.0, 1.0, (cells + 1, cells + 1)).astype(np.float32)
    return cv2.resize(grid, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def erasure_alpha(
    offsets_xy: np.ndarray,
    radius: float,
    rng: np.random.Generator,
    *,
    size: float,
    streaks: float,
    reach: float,
    softness: float = 1.5,
) -> np.ndarray:
    """Shape (mean 1 over the smear, up to about 2) of the graphite an eraser leaves behind.

    An irregular smear of ``size`` bubble radii, stretched along the rubbing
    direction, blotchy, and striped across by streaks of contrast ``streaks``;
    nothing reaches beyond ``reach`` radii from the bubble centre.

    Parameters
    ----------
    offsets_xy : (M, N, 2) ndarray
        Pixel centres relative to the bubble centre, (x, y) order.
    radius : float
        Bubble radius in pixels.

    Returns
    -------
    (M, N) ndarray of float32
        Opacity before darkness; may exceed 1 a little in the blotches.
    """
    direction = rng.uniform(0, np.pi)
    stretch = rng.uniform(1.0, 1.5)
    cos, sin = np.cos(direction), np.sin(direction)
    along = offsets_xy[..., 0] * cos + offsets_xy[..., 1] * sin
    across = -offsets_xy[..., 0] * sin + offsets_xy[..., 1] * cos
    squeezed = np.stack([along / stretch, across], axis=-1)
    blob, _ = mark_alpha(
        squeezed,
        radius,
        coverage=1.0,
        offset_xy=rng.normal(0.0, 0.12, 2),
        size=size,
        wobble=rng.uniform(0.0, 0.15, 3),
        phase=rng.uniform(0, 2 * np.pi, 3),
        softness=3 * softness,
        max_extent=4.0,
    )
    # streaks run along the rubbing direction: a 1-D profile across it
    px = np.arange(-4 * radius, 4 * radius + 2.0, 2.0)
    profile = cv2.GaussianBlur(rng.random((len(px), 1)).astype(np.float32), (1, 0), 1.0).ravel()
    profile = (profile - profile.min()) / max(float(np.ptp(profile)), 1e-6)
    streak = 1.0 - streaks * np.interp(across, px, profile)
    blotch = 1.0 + 0.4 * smooth_noise(blob.shape, 4, rng)
    texture = streak * blotch
    # the texture moves graphite around, it does not add any: mean 1 over the smear
    texture /= max(float((blob * texture).sum() / max(blob.sum(), 1e-6)), 1e-3)
    alpha = blob * texture
    dist = np.hypot(offsets_xy[..., 0], offsets_xy[..., 1])
    alpha *= _ramp(reach * radius - softness / 2 - dist, softness)
    return alpha.astype(np.float32)


def draw_erasures(
    page: np.ndarray,
    centers_xy: np.ndarray,
    radius: np.ndarray,
    *,
    darkness: np.ndarray,
    size: np.ndarray,
    streaks: np.ndarray,
    rng: np.random.Generator,
    reach: np.ndarray | float = 1.12,
    grain: float = 0.0,
    softness: float = 1.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Leave erasure residue on bubbles (see :func:`erasure_alpha`).

    Parameters
    ----------
    page : (M, N) or (M, N, 3) ndarray of uint8
        Grey or RGB page (graphite darkens every channel alike).
    centers_xy : (K, 2) ndarray
        Bubble centres in pixels, (x, y) order.
    radius : (K,) ndarray or float
        Bubble radii in pixels.
    darkness : (K,) ndarray
        Mean darkness of the residue over the smear (about 0.05–0.25,
        against 0.55–0.95 for a fill).
    size, streaks : (K,) ndarray
        Smear radius (bubble radii) and streak contrast.
    rng : numpy.random.Generator
        Source of the smears' shapes and grain.
    reach : (K,) ndarray or float
        Nothing is drawn beyond this many radii from each bubble centre.

    Returns
    -------
    marked : ndarray of uint8
        The page with the residue.
    covered : (K,) ndarray
        Share of each bubble's pixels under the smear (shape at least 0.5).
    """
    _check_page(page)
    centers_xy = np.asarray(centers_xy, dtype=float).reshape(-1, 2)
    k = len(centers_xy)
    radius, darkness, size, streaks, reach = (
        np.broadcast_to(np.asarray(v, dtype=float), (k,))
        for v in (radius, darkness, size, streaks, reach)
    )
    out = page.copy()
    covered = np.zeros(k)
    for i in range(k):
        x0, y0, rel = _patch(centers_xy[i], reach[i] * radius[i] + softness + 1)
        shape = erasure_alpha(
            rel,
            radius[i],
            rng,
            size=size[i],
            streaks=streaks[i],
            reach=reach[i],
            softness=softness,
        )
        inside = np.hypot(rel[..., 0], rel[..., 1]) <= radius[i]
        covered[i] = float((shape[inside] >= 0.5).mean())
        alpha = darkness[i] * shape * _texture(shape.shape, grain, rng)
        _apply_alpha(out, np.clip(alpha, 0.0, 0.99), x0, y0)
    return out, covered


def draw_strokes(
    page: np.ndarray,
    polylines_xy: list[np.ndarray],
    *,
    darkness: np.ndarray,
    width: float,
    rng: np.random.Generator | None = None,
    grain: float = 0.0,
    softness: float = 1.5,
) -> np.ndarray:
    """Draw free pencil strokes (stray marks), each a polyline of pixel points (P, 2) in (x, y).

    Parameters
    ----------
    page : (M, N) or (M, N, 3) ndarray of uint8
        Grey or RGB page (graphite darkens every channel alike).
    polylines_xy : list of (P, 2) ndarray
        The strokes, pixels, (x, y) order.
    darkness : (K,) ndarray
        Pencil darkness of each stroke, 0..1.
    width : float
        Line width, pixels.

    Returns
    -------
    ndarray of uint8
        The page with the strokes.
    """
    _check_page(page)
    darkness = np.broadcast_to(np.asarray(darkness, dtype=float), (len(polylines_xy),))
    out = page.copy()
    pad = width / 2 + softness + 1
    for poly, dark in zip(polylines_xy, darkness, strict=True):
        poly = np.asarray(poly, dtype=float)
        x0, y0 = np.floor(poly.min(axis=0) - pad).astype(int)
        x1, y1 = np.ceil(poly.max(axis=0) + pad).astype(int) + 1
        ys, xs = np.mgrid[y0:y1, x0:x1]
        rel = np.stack([xs, ys], axis=-1).astype(float)
        alpha = _ramp(width / 2 - _polyline_distance(rel, poly), softness)
        alpha = dark * alpha * _texture(alpha.shape, grain, rng)
        _apply_alpha(out, np.clip(alpha, 0.0, 0.99), int(x0), int(y0))
    return out
