"""Registration on corner marks (squares, circles, L-shapes, rings) and an orientation mark."""

from __future__ import annotations

import cv2
import numpy as np

from omr.detect.landmarks import _dark, find_solid_marks, refine_box_centres, refine_centres
from omr.detect.photo import flatten_light
from omr.detect.register.geometry import fit_affine, fit_on_nearest, spread
from omr.detect.register.outlines import way_up_by_outlines
from omr.detect.register.result import RegistrationFailed
from omr.detect.sampling import apply_transform, sample_image, square_pattern
from omr.forms import CornerMarks, Form


def find_square_marks(gray: np.ndarray, side_px: float, **kw) -> np.ndarray:
    """Centres (K, 2), (x, y), of solid dark squares of about ``side_px`` pixels."""
    return find_solid_marks(gray, (side_px, side_px), "square", **kw)


def _solid_marks(small: np.ndarray, side_px: float, reg: CornerMarks) -> np.ndarray:
    """Centres of the form's solid marks; where some are missed, looked for again in even light.

    A lid shadow along an edge can fall below the page's global threshold and
    swallow the marks in it; evening the light first gives them back.
    """
    size = (side_px, side_px)
    thick = reg.l_thickness * side_px / reg.mark_size
    find = find_solid_marks
    if reg.shape == "ring":  # a ring, its hole filled, is a solid circle

        def find(gray, size, _shape, **_kw):
            return find_rings(gray, size[0])

    found = find(small, size, reg.shape, l_thickness_px=thick)
    if len(found) < len(reg.marks):
        evened = flatten_light(small, side_px / reg.mark_size, window_mm=3 * reg.mark_size)
        again = find(evened, size, reg.shape, l_thickness_px=thick)
        if len(again) > len(found):
            return again
    return found


def filled_rings(gray: np.ndarray, side_px: float) -> np.ndarray:
    """A copy of ``gray`` with the hole of every dark ring about ``side_px`` across painted dark.

    A ring's hole must be most of its inside (a thin line round one wide
    hole), so a letter's loop or a bubble holding a letter keeps its paper.
    """
    dark = _dark(gray)
    out = gray.copy()
    if dark is None:
        return out
    contours, hierarchy = cv2.findContours(dark, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if hierarchy is None:
        return out
    for i, (_, _, child, parent) in enumerate(hierarchy[0]):
        if parent != -1 or child == -1:
            continue
        _, _, w, h = cv2.boundingRect(contours[i])
        if not (0.75 * side_px <= min(w, h) and max(w, h) <= 1.3 * side_px):
            continue
        _, _, hw, hh = cv2.boundingRect(contours[child])
        if min(hw, hh) >= 0.5 * min(w, h):
            cv2.drawContours(out, contours, i, 0, thickness=cv2.FILLED)
    return out


def find_rings(gray: np.ndarray, side_px: float) -> np.ndarray:
    """Centres (K, 2), (x, y), of dark rings about ``side_px`` across (not solid discs)."""
    rings = find_solid_marks(filled_rings(gray, side_px), (side_px, side_px), "circle")
    discs = find_solid_marks(gray, (side_px, side_px), "circle")
    if len(rings) == 0 or len(discs) == 0:
        return rings
    d = np.hypot(*(rings[:, None, :] - discs[None, :, :]).transpose(2, 0, 1)).min(axis=1)
    return rings[d > 0.25 * side_px]


def fit_corner_marks(gray, small, f, form, scale0, search_mm, paper, darkest, max_half_turn_share):
    """Fit on the form's corner marks under every quarter turn; keep the best.

    Returns the fit tuple of :func:`_fit_hypothesis`, or :class:`RegistrationFailed`.
    """
    reg = form.registration
    side = reg.mark_size * scale0
    found = _solid_marks(small, side * f, reg) / f
    refine = refine_box_centres if reg.shape in ("l-shape", "ring") else refine_centres
    found = refine(gray, found, side)
    what = "registration mark(s)"
    if len(found) < 3:  # three fix an affine transform; a fourth landmark must check it
        return RegistrationFailed(
            "marks-not-found",
            f"found {len(found)} {what}: not this form, a blank or back page, or cut off",
        )
    fits = {t: _fit_hypothesis(form, gray, found, t, scale0, search_mm, paper) for t in range(4)}
    fits = {t: fit for t, fit in fits.items() if fit is not None}
    if not fits:
        return RegistrationFailed(
            "marks-not-found", f"found {len(found)} {what} but not in this form's layout"
        )
    turns = max(fits, key=lambda t: fits[t][0])
    if fits[turns][0] < 0.35:
        # Nothing printed tells the half turn (no orientation mark, or it is cut
        # off): the printed bubble outlines sit where the form says under one only.
        other = fits.get((turns + 2) % 4)
        if other is not None:
            pair = (fits[turns], other)
            up = way_up_by_outlines(
                gray,
                (pair[0][1], pair[1][1]),
                form,
                paper=paper,
                ink=darkest,
                max_share=max_half_turn_share,
            )
            if up is None:
                return RegistrationFailed(
                    "orientation-unknown",
                    "nothing on the page tells which way up it is (no orientation mark "
                    "found, and the printed bubbles fit both ways up)",
                )
            return pair[up]
    return fits[turns]


def _fit_hypothesis(form, gray, found, turns, scale0, search_mm, paper):
    """Fit corner marks under one quarter-turn hypothesis; None if the marks do not fit it.

    Returns (orientation score, matrix, landmarks used, residual mm, ink level,
    spread mm: the landmarks' smallest standard deviation along any direction).
    """
    reg = form.registration
    marks_mm = np.asarray(reg.marks, dtype=float)
    fit = fit_on_nearest(form, marks_mm, found, gray.shape, turns, scale0, search_mm)
    if fit is None:
        return None
    matrix, idx, ok = fit
    src, dst = marks_mm[ok], found[idx[ok]]
    marks_pattern = square_pattern(half=0.3 * reg.mark_size)
    if reg.shape == "l-shape":
        marks_pattern = square_pattern(half=0.1 * reg.mark_size)  # the box centre may be paper
        ink_points = _l_corner_points(src, reg, form)
    elif reg.shape == "ring":  # its centre is paper: the ink is on its line
        ink_points = src[:, None] + _circle_points((reg.mark_size - reg.ring_width) / 2)
    else:
        ink_points = src[:, None] + marks_pattern
    ink = float(np.median(sample_image(gray, apply_transform(matrix, ink_points))))
    score = 0.0
    if reg.orientation_mark is not None:
        # The orientation square is dark; where a half turn would put it, paper.
        w, h = form.page.width, form.page.height
        o = np.asarray(reg.orientation_mark, dtype=float)
        pattern = square_pattern(half=0.35 * reg.orientation_size)
        here = float(np.median(sample_image(gray, apply_transform(matrix, o + pattern))))
        there = float(np.median(sample_image(gray, apply_transform(matrix, (w, h) - o + pattern))))
        score = (there - here) / max(paper - ink, 1.0)
        if score > 0.35:
            # The orientation square is one more landmark: it lets a page with only three
            # symmetric marks left (corners cut off by the scanner) still be checked.
            px_per_mm = np.sqrt(abs(np.linalg.det(matrix[:2, :2])))
            guess = apply_transform(matrix, o[None])
            centre = refine_centres(gray, guess, reg.orientation_size * px_per_mm)
            if np.linalg.norm(centre - guess) < 1.0 * px_per_mm:
                src, dst = np.vstack([src, o]), np.vstack([dst, centre])
                matrix = fit_affine(src, dst)
    px_per_mm = np.sqrt(abs(np.linalg.det(matrix[:2, :2])))
    resid = apply_transform(matrix, src) - dst
    residual_mm = float(np.sqrt((resid**2).sum(axis=1).mean()) / px_per_mm)
    return score - 0.001 * residual_mm, matrix, len(src), residual_mm, ink, spread(src)


def _l_corner_points(src_mm: np.ndarray, reg: CornerMarks, form: Form) -> np.ndarray:
    """Points (K, P, 2) on the corner square of each L-shape: the arms meet toward the page edge."""
    centre = np.array([form.page.width, form.page.height]) / 2
    toward_edge = np.sign(src_mm - centre)  # the L's corner lies outward
    corner = src_mm + toward_edge * (reg.mark_size - reg.l_thickness) / 2
    return corner[:, None] + square_pattern(half=0.3 * reg.l_thickness)


def _circle_points(radius: float, n: int = 16) -> np.ndarray:
    """(n, 2) points on a circle of ``radius`` round the origin."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return radius * np.column_stack([np.cos(t), np.sin(t)])
