"""Transforms from landmarks: least-squares fits, the starting guess, matching, grey levels."""

from __future__ import annotations

import cv2
import numpy as np

from omr.detect.sampling import apply_transform
from omr.forms import Form


def fit_affine(src_xy: np.ndarray, dst_xy: np.ndarray) -> np.ndarray:
    """Least-squares affine (3, 3) mapping ``src_xy`` (K, 2) onto ``dst_xy`` (K, 2)."""
    a = np.column_stack([src_xy, np.ones(len(src_xy))])
    coef, *_ = np.linalg.lstsq(a, dst_xy, rcond=None)
    return np.vstack([coef.T, [0.0, 0.0, 1.0]])


def fit_similarity(src_xy: np.ndarray, dst_xy: np.ndarray) -> np.ndarray:
    """Least-squares similarity (3, 3): turn, one scale and shift; fixed by points in a line."""
    x, y = src_xy[:, 0], src_xy[:, 1]
    one, zero = np.ones_like(x), np.zeros_like(x)
    a = np.vstack([np.column_stack([x, -y, one, zero]), np.column_stack([y, x, zero, one])])
    b = np.concatenate([dst_xy[:, 0], dst_xy[:, 1]])
    (p, q, tx, ty), *_ = np.linalg.lstsq(a, b, rcond=None)
    return np.array([[p, -q, tx], [q, p, ty], [0.0, 0.0, 1.0]])


def spread(src_xy: np.ndarray) -> float:
    """The landmarks' smallest standard deviation along any direction, in their units."""
    centred = src_xy - src_xy.mean(axis=0)
    return float(np.linalg.svd(centred, compute_uv=False)[-1] / np.sqrt(len(src_xy)))


def initial_guess(form: Form, shape: tuple[int, int], quarter_turns: int, scale: float):
    """Form→image similarity: page centred on the image, turned by quarter turns."""
    w, h = form.page.width, form.page.height
    angle = np.pi / 2 * quarter_turns
    c, s = np.cos(angle), np.sin(angle)
    centre = np.array([shape[1] / 2, shape[0] / 2])
    rot = scale * np.array([[c, -s], [s, c]])
    shift = centre - rot @ np.array([w / 2, h / 2])
    return np.vstack([np.column_stack([rot, shift]), [0, 0, 1]])


def match_nearest(expected_px: np.ndarray, found_px: np.ndarray, tol_px: float) -> np.ndarray:
    """Index of the found mark nearest each expected one, or -1 beyond ``tol_px``."""
    if len(found_px) == 0:
        return np.full(len(expected_px), -1)
    d = np.linalg.norm(expected_px[:, None, :] - found_px[None, :, :], axis=-1)
    best = d.argmin(axis=1)
    best[d[np.arange(len(best)), best] > tol_px] = -1
    return best


def fit_on_nearest(form: Form, marks_mm, found, shape, turns: int, scale: float, search_mm):
    """Affine fit of ``marks_mm`` (K, 2) on the nearest ``found`` (J, 2) px, in one quarter turn.

    Starts from the page centred and turned by ``turns``; marks are matched
    within ``search_mm``, then, fitted three times, within 2 mm. Returns
    (matrix, index of each mark's match, which marks matched), or None when
    fewer than three match or two share a match.
    """
    matrix = initial_guess(form, shape, turns, scale)
    tol = search_mm * scale
    for _ in range(3):
        idx = match_nearest(apply_transform(matrix, marks_mm), found, tol)
        ok = idx >= 0
        if ok.sum() < 3 or len(set(idx[ok])) < ok.sum():
            return None
        matrix = fit_affine(marks_mm[ok], found[idx[ok]])
        tol = 2.0 * scale  # after the first fit, marks must sit within 2 mm
    return matrix, idx, ok


def grey_percentiles(gray: np.ndarray, qs) -> list[float]:
    """Percentiles ``qs`` (0–100) of a uint8 image, from its histogram (fast on big pages)."""
    hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()
    cum = np.cumsum(hist) / max(hist.sum(), 1)
    return [float(np.searchsorted(cum, q / 100.0)) for q in qs]
