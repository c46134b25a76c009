"""Measure every bubble of a registered page at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from omr.detect.sampling import apply_transform, disc_pattern, sample_image, square_pattern
from omr.detect.stats import percentile, sample_quantiles
from omr.forms import BubbleLayout

INNER = 0.72  # share of the bubble radius sampled: clear of the printed outline


@dataclass(frozen=True, eq=False)
class BubbleMeasures:
    """Per-bubble evidence, arrays of shape (N,) in layout order.

    ``darkness`` is the mean of ``(paper - grey) / (paper - ink)`` over the
    bubble's interior: 0 for blank paper, 1 for a fill as dark as the printed
    marks. ``coverage`` is the share of interior samples darker than halfway.
    ``paper`` and ``ink`` are the page's grey levels they were measured against.
    ``ring`` is the mean darkness of a thin annulus just outside the printed
    outline, and ``ring_by_sector`` (N, 8) the same per eighth of a turn: a
    circled option darkens most sectors, a stray stroke one or two.
    ``median`` is the median interior sample: near blank under a tick or a
    dot (most of the inside is clean), lifted under a smear or a fill.
    ``peak`` is the 90th percentile sample: a thin stroke's, however little of
    the inside it covers.
    ``centre`` is the mean darkness of the middle of the inside (within
    ``CENTRE`` of the sampled radius) and ``edge_by_sector`` (N, 8) that of its
    outer part (beyond ``EDGE``) per eighth of a turn: a fill or a cross darkens
    the middle, a ring drawn inside the outline only the edge, all round.
    ``ring_peak_by_sector`` (N, 8) is the darkest ring sample of each sector: a
    pencil line drawn round the bubble (however loosely) crosses the ring as a
    few samples as dark as a stroke, an eraser's smudge as none.
    """

    darkness: np.ndarray
    coverage: np.ndarray
    paper: float
    ink: float
    ring: np.ndarray | None = None
    ring_by_sector: np.ndarray | None = None
    median: np.ndarray | None = None
    peak: np.ndarray | None = None
    centre: np.ndarray | None = None
    edge_by_sector: np.ndarray | None = None
    ring_peak_by_sector: np.ndarray | None = None


def bubble_points(layout: BubbleLayout, *, inner: float = INNER) -> np.ndarray:
    """Sample points (N, S, 2) in form millimetres, (x, y), inside every bubble."""
    disc = disc_pattern(radius=inner)
    square = square_pattern(half=inner)
    n = len(layout)
    size = max(len(disc), len(square))
    pts = np.empty((n, size, 2))
    # Pad the shorter pattern by repeating points: means and shares are unchanged
    # in expectation and every row keeps one shape.
    disc_full = np.resize(disc, (size, 2))
    square_full = np.resize(square, (size, 2))
    pattern = np.where(layout.rectangular[:, None, None], square_full, disc_full)
    pts[:] = layout.centers_xy[:, None, :] + pattern * layout.half_axes[:, None, :]
    return pts


RING_SECTORS = 8
CENTRE = 0.5  # share of the sampled radius that is the middle of the inside
EDGE = 0.65  # beyond this share, the outer part of the inside


class Zones(NamedTuple):
    """Where each sample of each bubble lies inside it (see :func:`inner_zones`), with the
    counts a mean over each zone divides by (at least 1), worked out once per form."""

    middle: np.ndarray  # (B, S) bool
    sector: np.ndarray  # (B, S) int8, -1 outside the edge
    onehot: np.ndarray  # (B, S, 8) bool, the sample in that edge sector
    middle_n: np.ndarray  # (B,)
    sector_n: np.ndarray  # (B, 8)


def inner_zones(points_mm: np.ndarray) -> Zones:
    """Per sample of each bubble (B, S): whether it is in the middle, and its edge sector.

    The sector is 0–7 (an eighth of a turn, as the ring's) for samples beyond
    ``EDGE`` of the sampled radius, -1 elsewhere. Worked out from the points
    themselves: the patterns are symmetric, so their bounding box is centred
    on the bubble and spans its sampled radius.
    """
    lo, hi = points_mm.min(axis=1, keepdims=True), points_mm.max(axis=1, keepdims=True)
    rel = (points_mm - (lo + hi) / 2) / np.maximum((hi - lo) / 2, 1e-9)
    rho = np.hypot(rel[..., 0], rel[..., 1])
    angle = np.arctan2(rel[..., 1], rel[..., 0]) % (2 * np.pi)
    sector = np.minimum((angle / (2 * np.pi) * RING_SECTORS).astype(np.int8), RING_SECTORS - 1)
    middle = rho <= CENTRE
    sector = np.where(rho >= EDGE, sector, -1).astype(np.int8)
    onehot = sector[..., None] == np.arange(RING_SECTORS)
    counts = np.maximum(middle.sum(axis=1), 1), np.maximum(onehot.sum(axis=1), 1)
    return Zones(middle, sector, onehot, *counts)


def _zone_means(dark: np.ndarray, zones: Zones):
    """Mean darkness of the middle (B,) and of each edge sector (B, 8)."""
    centre = (dark * zones.middle).sum(axis=1) / zones.middle_n
    edge = np.einsum("bs,bsk->bk", dark, zones.onehot) / zones.sector_n
    return centre, edge


def ring_points(
    layout: BubbleLayout, *, gaps_mm=(0.3, 0.55, 0.8, 1.05), per_sector: int = 4
) -> np.ndarray:
    """Sample points (N, 8 * per_sector * len(gaps_mm), 2) in mm on rings just outside each bubble.

    Points are ordered sector by sector, so a reshape to
    (N, 8, per_sector * len(gaps_mm)) groups them by sector.
    """
    n_angles = RING_SECTORS * per_sector
    angles = (np.arange(n_angles) + 0.5) * 2 * np.pi / n_angles
    unit = np.column_stack([np.cos(angles), np.sin(angles)])  # (A, 2), sector-major
    axes = layout.half_axes[:, None, None, :] + np.asarray(gaps_mm)[None, None, :, None]
    pts = layout.centers_xy[:, None, None, :] + unit[None, :, None, :] * axes  # (N, A, G, 2)
    return pts.reshape(len(layout), -1, 2)


def ring_mask(layout: BubbleLayout, ring_mm: np.ndarray, *, margin_mm: float = 0.3) -> np.ndarray:
    """(N, R) bool: ring points clear of every other bubble (and its outline).

    Where bubbles sit close, a ring reaches into the neighbour; a filled
    neighbour would then look like a ring drawn round this bubble.
    """
    keep = np.ones(ring_mm.shape[:2], dtype=bool)
    reach = layout.half_axes + margin_mm  # (N, 2)
    centres = layout.centers_xy
    # Only bubbles whose outline could touch this bubble's outermost ring matter.
    outer = np.linalg.norm(ring_mm - centres[:, None, :], axis=-1).max(axis=1)
    gaps = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=-1)
    near = gaps < outer[:, None] + reach.max(axis=1)[None, :]
    np.fill_diagonal(near, False)
    for k in np.flatnonzero(near.any(axis=1)):
        others = np.flatnonzero(near[k])
        rel = (ring_mm[k][:, None, :] - centres[others][None, :, :]) / reach[others][None, :, :]
        keep[k] = (np.hypot(rel[..., 0], rel[..., 1]) > 1).all(axis=1)
    return keep


def _last_axis_max(values: np.ndarray) -> np.ndarray:
    """``values.max(axis=-1)`` for a short last axis, one column at a time (numpy's
    reduction along 16 values is four times slower; a maximum is the same in any order)."""
    out = values[..., 0].copy()
    for j in range(1, values.shape[-1]):
        np.maximum(out, values[..., j], out=out)
    return out


def measure_bubbles(
    gray: np.ndarray,
    matrix: np.ndarray,
    points_mm: np.ndarray,
    *,
    ink: float,
    ring_mm: np.ndarray | None = None,
    ring_keep: np.ndarray | None = None,
    zones: Zones | None = None,
) -> BubbleMeasures:
    """Darkness and coverage of every bubble.

    Parameters
    ----------
    gray : (M, N) ndarray of uint8
        The page.
    matrix : (3, 3) ndarray
        Form millimetres → image pixels.
    points_mm : (B, S, 2) ndarray
        Sample points of each bubble (see :func:`bubble_points`).
    ink : float
        Grey level of the page's printed solid marks (its black reference).
    ring_mm : (B, R, 2) ndarray, optional
        Ring sample points (see :func:`ring_points`).
    ring_keep : (B, R) ndarray of bool, optional
        Which ring points to use (see :func:`ring_mask`); all when None.
    zones : Zones, optional
        :func:`inner_zones` of ``points_mm``, when worked out once for the form.
    """
    grey = sample_image(gray, apply_transform(matrix, points_mm))
    paper = percentile(grey, 90.0)
    contrast = max(paper - ink, 8.0)
    dark = np.clip((paper - grey) / contrast, -0.5, 1.5)
    ring = by_sector = ring_peak = None
    if ring_mm is not None:
        ring_grey = sample_image(gray, apply_transform(matrix, ring_mm))
        ring_dark = np.clip((paper - ring_grey) / contrast, -0.5, 1.5)
        keep = np.ones(ring_dark.shape, bool) if ring_keep is None else ring_keep
        weight = keep.reshape(len(ring_dark), RING_SECTORS, -1)
        values = ring_dark.reshape(weight.shape) * weight
        by_sector = values.sum(axis=2) / np.maximum(weight.sum(axis=2), 1)
        ring = values.sum(axis=(1, 2)) / np.maximum(weight.sum(axis=(1, 2)), 1)
        kept = np.where(weight, ring_dark.reshape(weight.shape), -0.5)
        ring_peak = _last_axis_max(kept)
    middle, peak = sample_quantiles(dark, (0.5, 0.9))
    centre, edge = _zone_means(dark, zones or inner_zones(points_mm))
    return BubbleMeasures(
        darkness=dark.mean(axis=1),
        coverage=(dark > 0.5).mean(axis=1),
        paper=paper,
        ink=float(ink),
        ring=ring,
        ring_by_sector=by_sector,
        median=middle,
        peak=peak,
        centre=centre,
        edge_by_sector=edge,
        ring_peak_by_sector=ring_peak,
    )


def rect_points(
    origin: tuple[float, float],
    size: tuple[float, float],
    *,
    margin: float = 1.5,
    label_band: float = 4.0,
    spacing: float = 0.3,
) -> np.ndarray:
    """Sample points (S, 2) in mm inside a rectangle, clear of its border and its printed label."""
    x0, y0 = origin[0] + margin, origin[1] + label_band
    x1, y1 = origin[0] + size[0] - margin, origin[1] + size[1] - margin
    xs = np.arange(x0, x1, spacing)
    ys = np.arange(y0, y1, spacing)
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def ink_share(
    gray: np.ndarray,
    matrix: np.ndarray,
    points_mm: np.ndarray,
    *,
    paper: float,
    ink: float,
    level: float = 0.35,
) -> float:
    """Share of ``points_mm`` darker than ``level`` of the way from paper to ink (a signature)."""
    grey = sample_image(gray, apply_transform(matrix, points_mm))
    dark = (paper - grey) / max(paper - ink, 8.0)
    return float((dark > level).mean()) if dark.size else 0.0
