"""Bring a fit onto the printed bubble outlines, field by field, within half a pitch.

A reference-image fit rests on features of the whole sheet (text, lines, the
letters beside bubbles), which repeat and may be matched a little off in
part of the page. Each field's printed outlines say where that field really
is: its best translation, searched within less than half its pitch, moves
the fit there, and an affine map through every field's correction replaces
it. Searching less than half a pitch never moves a field onto its
neighbours' outlines; a fit further off stays off, and the proof
(:mod:`omr.detect.proof`) refuses it.
"""

from __future__ import annotations

import cv2
import numpy as np

from omr.detect.proof import form_pitches, outline_levels
from omr.detect.sampling import RECT_OUTLINE, ROUND_OUTLINE, apply_transform, sample_image
from omr.detect.stats import median_last_axis
from omr.forms import Form


def refine_on_outlines(
    gray: np.ndarray,
    matrix: np.ndarray,
    form: Form,
    *,
    paper: float,
    ink: float,
    reach: float = 0.4,
    min_bubbles: int = 8,
    per_field: int = 40,
    part_mm: float = 50.0,
) -> np.ndarray:
    """``matrix`` (form mm → page px) moved onto the printed outlines; itself if nothing is better.

    ``reach`` is the search's half width in pitches of each field; fields of
    fewer than ``min_bubbles`` bubbles are left to the others; at most
    ``per_field`` bubbles of a field part, spread over it, are sampled; a
    field longer than ``part_mm`` is moved in parts of its items (a sheet
    stretched in the scanner is off by more at one end than the other).
    """
    layout = form.layout
    xy, ax, rect = layout.centers_xy, layout.half_axes, layout.rectangular
    pitches = form_pitches(form)
    src, dst, weights = [], [], []
    for name, f in layout.fields.items():
        if f.kind == "box" or f.index.size < min_bubbles or name not in pitches:
            continue
        for members in _parts(xy, f.index, part_mm):
            chosen = members[
                np.linspace(0, len(members) - 1, min(per_field, len(members))).astype(int)
            ]
            best, gain = _best_shift(
                gray,
                matrix,
                xy[chosen],
                ax[chosen],
                rect[chosen],
                reach * pitches[name],
                paper,
                ink,
            )
            if gain <= 0:
                best = np.zeros(2)
            src.append(xy[members])
            dst.append(apply_transform(matrix, xy[members] + best))
            weights.append(np.full(len(members), 1.0 / len(members)))
    if not src:
        return matrix
    src_xy, dst_xy = np.concatenate(src), np.concatenate(dst)
    w = np.sqrt(np.concatenate(weights))
    projective = bool(np.any(matrix[2, :2] != 0))
    refined = None
    if len(src) >= 2 and _spread(src_xy) > 0.1 * min(form.page.width, form.page.height):
        if projective and len(src) >= 4:
            # A photo's perspective: a homography through every part's correction,
            # each part by as many points as the others.
            even = [np.linspace(0, len(p) - 1, 16).round().astype(int) for p in src]
            offsets = np.cumsum([0] + [len(p) for p in src[:-1]])
            pick = np.concatenate([o + e for o, e in zip(offsets, even, strict=True)])
            h, _ = cv2.findHomography(src_xy[pick], dst_xy[pick], 0)
            refined = None if h is None else h / h[2, 2]
        else:
            a = np.column_stack([src_xy, np.ones(len(src_xy))]) * w[:, None]
            coef, *_ = np.linalg.lstsq(a, dst_xy * w[:, None], rcond=None)
            refined = np.vstack([coef.T, [0.0, 0.0, 1.0]])
    if refined is None:  # one part, or all in a line: a shift only
        moved = (dst_xy - apply_transform(matrix, src_xy)) * w[:, None] ** 2
        shift = np.eye(3)
        shift[:2, 2] = moved.sum(axis=0) / (w**2).sum()
        refined = shift @ matrix
    before, _ = outline_levels(gray, matrix, xy, ax, rect, paper=paper, ink=ink)
    after, _ = outline_levels(gray, refined, xy, ax, rect, paper=paper, ink=ink)
    return refined if np.median(after) > np.median(before) else matrix


def _best_shift(gray, matrix, xy, ax, rect, reach_mm, paper, ink) -> tuple[np.ndarray, float]:
    """The shift (mm) within ``reach_mm`` putting these bubbles best on outlines, and its gain.

    Scored by the darkness on the outline alone (letters printed inside the
    bubbles move with the field and would pull it off centre). Where the
    printed size is not quite the form's, the score has two peaks either side
    of the centre: the middle of the shifts that score near the best is taken.
    """
    ring = np.where(rect[:, None, None], RECT_OUTLINE, ROUND_OUTLINE) * ax[:, None, :]
    scale = max(paper - ink, 1.0)

    def scores(shifts: np.ndarray) -> np.ndarray:
        # Every shift's outlines sampled at once: (shifts, bubbles, rays).
        pts = xy[None, :, None, :] + shifts[:, None, None, :] + ring[None]
        rings = sample_image(gray, apply_transform(matrix, pts)).mean(axis=2)
        return (paper - median_last_axis(rings)) / scale

    def grid(centre: np.ndarray, half: float) -> np.ndarray:
        steps = np.linspace(-half, half, 9)
        return centre + np.array([(dx, dy) for dx in steps for dy in steps])

    coarse = grid(np.zeros(2), reach_mm)
    got = scores(coarse)
    base = float(got[len(got) // 2])  # the middle of the grid: no shift
    if got.max() - got.min() < 0.05:
        return np.zeros(2), 0.0
    fine = grid(coarse[int(got.argmax())], reach_mm / 4)
    fine = fine[np.abs(fine).max(axis=1) <= reach_mm]
    got = scores(fine)
    top, low = float(got.max()), float(got.min())
    near = got >= top - 0.15 * max(top - low, 1e-6)
    return fine[near].mean(axis=0), top - base


def _parts(xy: np.ndarray, index: np.ndarray, part_mm: float) -> list[np.ndarray]:
    """A field's bubbles in runs of whole items, each at most about ``part_mm`` long."""
    members = index.ravel()
    extent = float(np.ptp(xy[members], axis=0).max())
    n = max(1, min(len(index), int(np.ceil(extent / part_mm))))
    return [index[rows].ravel() for rows in np.array_split(np.arange(len(index)), n)]


def _spread(xy: np.ndarray) -> float:
    centred = xy - xy.mean(axis=0)
    return float(np.linalg.svd(centred, compute_uv=False)[-1] / np.sqrt(len(xy)))
