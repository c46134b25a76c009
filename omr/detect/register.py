"""Register a page on the form's square marks: rotation (any quarter turn), skew, shift, scale.

The symmetric marks fix the transform; the orientation mark, which a half turn
moves onto blank paper, tells an upside-down sheet. Failure is a value, not an
exception: :class:`RegistrationFailed` is falsy and carries the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from omr.detect.sampling import apply_transform, sample_image, square_pattern
from omr.forms import Form

WORK_PX_PER_MM = 4.0  # resolution at which marks are searched


@dataclass(frozen=True)
class Registration:
    """A page aligned to its form.

    ``matrix`` (3, 3) maps form millimetres (x, y, 1) to image pixels.
    ``paper`` and ``ink`` are the grey levels of blank paper and of the solid
    marks on this page: the page's own white and black references.
    """

    matrix: np.ndarray
    residual_mm: float
    rotation_deg: float
    upside_down: bool
    px_per_mm: float
    marks_found: int
    marks_expected: int
    ink: float

    def __bool__(self) -> bool:
        return True

    def summary(self) -> dict:
        """The numbers a person checks, as plain data."""
        return {
            "residual_mm": round(self.residual_mm, 3),
            "rotation_deg": round(self.rotation_deg, 2),
            "upside_down": self.upside_down,
            "px_per_mm": round(self.px_per_mm, 3),
            "marks_found": self.marks_found,
            "marks_expected": self.marks_expected,
        }


@dataclass(frozen=True)
class RegistrationFailed:
    """Why a page could not be registered; falsy."""

    reason: str
    message: str

    def __bool__(self) -> bool:
        return False


def find_square_marks(
    gray: np.ndarray, side_px: float, *, area_range=(0.7, 1.45), min_fill: float = 0.85
) -> np.ndarray:
    """Centres of solid dark squares of about ``side_px`` pixels.

    Parameters
    ----------
    gray : (M, N) ndarray of uint8
        The page, dark marks on light paper.
    side_px : float
        Expected side of a mark in pixels of ``gray``.
    area_range : (float, float)
        Accepted area, as shares of ``side_px ** 2``: a filled 4-mm bubble is
        about half a 5-mm mark.
    min_fill : float
        Least share of its bounding box a blob must fill; a disc fills 0.785, a
        square turned by 3° about 0.9, so filled bubbles are not taken for marks.

    Returns
    -------
    (K, 2) ndarray of float64, centres in (x, y) order.
    """
    if gray.ndim != 2:
        raise ValueError("gray must be a 2-D array")
    if gray.size == 0 or int(gray.max()) - int(gray.min()) < 20:
        return np.empty((0, 2))
    _, dark = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    n, _, stats, centroids = cv2.connectedComponentsWithStats(dark, connectivity=8)
    area = stats[1:, cv2.CC_STAT_AREA].astype(float)
    w = stats[1:, cv2.CC_STAT_WIDTH].astype(float)
    h = stats[1:, cv2.CC_STAT_HEIGHT].astype(float)
    left, top = stats[1:, cv2.CC_STAT_LEFT], stats[1:, cv2.CC_STAT_TOP]
    inside = (
        (left > 0) & (top > 0) & (left + w < gray.shape[1]) & (top + h < gray.shape[0])
    )  # a mark cut by the page edge would give a biased centre
    expected = side_px**2
    ok = (
        inside
        & (area > expected * area_range[0])
        & (area < expected * area_range[1])
        & (area / (w * h) >= min_fill)
        & (np.maximum(w, h) < 1.35 * np.minimum(w, h))
    )
    return centroids[1:][ok]


def refine_centres(gray: np.ndarray, xy: np.ndarray, side_px: float) -> np.ndarray:
    """Sub-pixel centres of dark squares near ``xy`` (K, 2), by local threshold and moments."""
    out = np.array(xy, dtype=np.float64)
    half = int(np.ceil(side_px))
    for k, (x, y) in enumerate(out):
        x0, y0 = max(int(x) - half, 0), max(int(y) - half, 0)
        win = gray[y0 : int(y) + half + 1, x0 : int(x) + half + 1].astype(np.float32)
        if win.size == 0:
            continue
        level = 0.5 * (float(win.min()) + float(win.max()))
        weight = np.clip(level - win, 0, None)
        total = weight.sum()
        if total > 0:
            rows, cols = np.indices(win.shape)
            out[k] = (x0 + (weight * cols).sum() / total, y0 + (weight * rows).sum() / total)
    return out


def _fit_affine(src_xy: np.ndarray, dst_xy: np.ndarray) -> np.ndarray:
    """Least-squares affine (3, 3) mapping ``src_xy`` (K, 2) onto ``dst_xy`` (K, 2)."""
    a = np.column_stack([src_xy, np.ones(len(src_xy))])
    coef, *_ = np.linalg.lstsq(a, dst_xy, rcond=None)
    return np.vstack([coef.T, [0.0, 0.0, 1.0]])


def _initial_guess(form: Form, shape: tuple[int, int], quarter_turns: int, scale: float):
    """Form→image similarity: page centred on the image, turned by quarter turns."""
    w, h = form.page.width, form.page.height
    angle = np.pi / 2 * quarter_turns
    c, s = np.cos(angle), np.sin(angle)
    centre = np.array([shape[1] / 2, shape[0] / 2])
    rot = scale * np.array([[c, -s], [s, c]])
    shift = centre - rot @ np.array([w / 2, h / 2])
    return np.vstack([np.column_stack([rot, shift]), [0, 0, 1]])


def _match(expected_px: np.ndarray, found_px: np.ndarray, tol_px: float) -> np.ndarray:
    """Index of the found mark nearest each expected one, or -1 beyond ``tol_px``."""
    if len(found_px) == 0:
        return np.full(len(expected_px), -1)
    d = np.linalg.norm(expected_px[:, None, :] - found_px[None, :, :], axis=-1)
    best = d.argmin(axis=1)
    best[d[np.arange(len(best)), best] > tol_px] = -1
    return best


def register_page(
    gray: np.ndarray,
    form: Form,
    *,
    search_mm: float = 25.0,
    max_residual_mm: float = 0.6,
    min_marks: int = 4,
    min_spread: float = 0.15,
    min_outline_gap: float = 0.1,
) -> Registration | RegistrationFailed:
    """Find the form's marks on ``gray`` and fit the form→image transform.

    Parameters
    ----------
    gray : (M, N) ndarray of uint8
        The page.
    form : Form
    search_mm : float
        How far from where a mark would sit on a centred page it may be found.
    max_residual_mm : float
        Largest RMS misfit of the marks accepted.
    min_marks : int
        Fewest landmarks (symmetric marks and the orientation mark) that must
        be found: three fix the transform, a fourth checks it.
    min_spread : float
        Least spread of the landmarks across their thinnest direction, as a
        share of the page's shorter side (three marks in a line fix nothing).
    min_outline_gap : float
        When the orientation mark is unclear, how much better the bubble
        outlines must fit one half turn than the other.
    """
    if gray.ndim != 2 or min(gray.shape) < 50:
        return RegistrationFailed("unreadable-page", "the page image is empty or too small")
    reg = form.registration
    marks_mm = np.asarray(reg.marks, dtype=float)
    scale0 = max(gray.shape) / max(form.page.width, form.page.height)
    f = min(1.0, WORK_PX_PER_MM / scale0)
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else gray
    darkest, paper = grey_percentiles(small, (0.5, 90))
    if grey_percentiles(small, (99.5,))[0] - darkest < 40:
        return RegistrationFailed("blank-page", "the page is blank (no contrast at all)")
    found = find_square_marks(small, reg.mark_size * scale0 * f) / f
    if len(found) < 3:  # three fix an affine transform; a fourth landmark must check it
        return RegistrationFailed(
            "marks-not-found",
            f"found {len(found)} registration mark(s) of {len(marks_mm)}: "
            "not this form, a blank or back page, or cut off",
        )
    found = refine_centres(gray, found, reg.mark_size * scale0)
    fits = {t: _fit_hypothesis(form, gray, found, t, scale0, search_mm, paper) for t in range(4)}
    fits = {t: f for t, f in fits.items() if f is not None}
    if not fits:
        return RegistrationFailed(
            "marks-not-found",
            f"found {len(found)} square mark(s) but not in this form's layout",
        )
    turns = max(fits, key=lambda t: fits[t][0])
    score, matrix, n_found, residual_mm, ink, spread = fits[turns]
    if n_found < min_marks or residual_mm > max_residual_mm:
        return RegistrationFailed(
            "registration-weak",
            f"marks fit badly: {n_found} of {len(marks_mm) + 1} found, misfit {residual_mm:.2f} mm",
        )
    if spread < min_spread * min(form.page.width, form.page.height):
        return RegistrationFailed(
            "registration-weak", "the marks found lie too close to a line to fix the page"
        )
    if score < 0.35:
        # No clear orientation mark (cut off, torn): the printed bubble outlines
        # sit where the form says only under the right half turn.
        other = fits.get((turns + 2) % 4)
        here = outline_contrast(gray, matrix, form, paper=paper, ink=darkest)
        there = outline_contrast(gray, other[1], form, paper=paper, ink=darkest) if other else 0.0
        if here - there < min_outline_gap:
            if there - here >= min_outline_gap:
                score, matrix, n_found, residual_mm, ink, spread = other
            else:
                return RegistrationFailed(
                    "orientation-unknown", "the orientation mark is missing or unclear"
                )
    problem = check_fit(gray, matrix, form, n_found, paper=paper, ink=darkest)
    if problem:
        return RegistrationFailed("registration-weak", problem)
    a, b = matrix[0, 0], matrix[1, 0]
    angle = float(np.degrees(np.arctan2(b, a)))
    return Registration(
        matrix=matrix,
        residual_mm=residual_mm,
        rotation_deg=angle,
        upside_down=abs(angle) > 135,
        px_per_mm=float(np.sqrt(abs(np.linalg.det(matrix[:2, :2])))),
        marks_found=n_found,
        marks_expected=len(marks_mm) + 1,  # the symmetric marks and the orientation mark
        ink=ink,
    )


def _fit_hypothesis(form, gray, found, turns, scale0, search_mm, paper):
    """Fit under one quarter-turn hypothesis; None if the marks do not fit it.

    Returns (orientation score, matrix, landmarks used, residual mm, ink level,
    spread mm: the landmarks' smallest standard deviation along any direction).
    """
    reg = form.registration
    marks_mm = np.asarray(reg.marks, dtype=float)
    matrix = _initial_guess(form, gray.shape, turns, scale0)
    tol = search_mm * scale0
    for _ in range(3):
        idx = _match(apply_transform(matrix, marks_mm), found, tol)
        ok = idx >= 0
        if ok.sum() < 3 or len(set(idx[ok])) < ok.sum():
            return None
        matrix = _fit_affine(marks_mm[ok], found[idx[ok]])
        tol = 2.0 * scale0  # after the first fit, marks must sit within 2 mm
    src, dst = marks_mm[ok], found[idx[ok]]
    # Orientation: the orientation square is dark; where a half turn would put it, paper.
    w, h = form.page.width, form.page.height
    o = np.asarray(reg.orientation_mark, dtype=float)
    pattern = square_pattern(half=0.35 * reg.orientation_size)
    marks_pattern = square_pattern(half=0.3 * reg.mark_size)
    ink = float(
        np.median(sample_image(gray, apply_transform(matrix, src[:, None] + marks_pattern)))
    )
    here = float(np.median(sample_image(gray, apply_transform(matrix, o + pattern))))
    there = float(np.median(sample_image(gray, apply_transform(matrix, (w, h) - o + pattern))))
    contrast = max(paper - ink, 1.0)
    score = (there - here) / contrast
    if score > 0.35:
        # The orientation square is one more landmark: it lets a page with only three
        # symmetric marks left (corners cut off by the scanner) still be checked.
        px_per_mm = np.sqrt(abs(np.linalg.det(matrix[:2, :2])))
        guess = apply_transform(matrix, o[None])
        centre = refine_centres(gray, guess, reg.orientation_size * px_per_mm)
        if np.linalg.norm(centre - guess) < 1.0 * px_per_mm:
            src, dst = np.vstack([src, o]), np.vstack([dst, centre])
            matrix = _fit_affine(src, dst)
    px_per_mm = np.sqrt(abs(np.linalg.det(matrix[:2, :2])))
    resid = apply_transform(matrix, src) - dst
    residual_mm = float(np.sqrt((resid**2).sum(axis=1).mean()) / px_per_mm)
    centred = src - src.mean(axis=0)
    spread = float(np.linalg.svd(centred, compute_uv=False)[-1] / np.sqrt(len(src)))
    return score - 0.001 * residual_mm, matrix, len(src), residual_mm, ink, spread


def grey_percentiles(gray: np.ndarray, qs) -> list[float]:
    """Percentiles ``qs`` (0–100) of a uint8 image, from its histogram (fast on big pages)."""
    hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()
    cum = np.cumsum(hist) / max(hist.sum(), 1)
    return [float(np.searchsorted(cum, q / 100.0)) for q in qs]


def outline_contrasts(
    gray: np.ndarray, matrix: np.ndarray, form: Form, *, paper: float, ink: float
) -> np.ndarray:
    """Per bubble (N,): grey just inside the printed outline minus grey on it.

    In units of the page's paper-to-black contrast: clearly positive where the
    transform puts the bubble where it is printed, about zero where it does not.
    """
    layout = form.layout
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    unit = np.column_stack([np.cos(angles), np.sin(angles)])
    r = layout.radius[:, None, None]
    centres = layout.centers_xy[:, None, :]
    on = sample_image(gray, apply_transform(matrix, centres + unit * r)).mean(axis=1)
    inside = sample_image(gray, apply_transform(matrix, centres + unit * r * 0.75)).mean(axis=1)
    return (inside - on) / max(paper - ink, 1.0)


def outline_contrast(
    gray: np.ndarray, matrix: np.ndarray, form: Form, *, paper: float, ink: float
) -> float:
    """Median of :func:`outline_contrasts` over all bubbles."""
    return float(np.median(outline_contrasts(gray, matrix, form, paper=paper, ink=ink)))


def field_fits(
    gray: np.ndarray, matrix: np.ndarray, form: Form, *, paper: float, ink: float
) -> tuple[float, dict[str, float]]:
    """How well the printed outlines sit under ``matrix``: over the page, and per field.

    Medians of :func:`outline_contrasts` over the round bubbles, and over
    each field's bubbles. A transform right at the marks but wrong in between
    (a bent or photographed sheet) shows in one field before any bubble is read.
    """
    per_bubble = outline_contrasts(gray, matrix, form, paper=paper, ink=ink)
    overall = float(np.median(per_bubble[~form.layout.square]))
    fits = {
        name: float(np.median(per_bubble[f.index.ravel()]))
        for name, f in form.layout.fields.items()
    }
    return overall, fits


def check_fit(
    gray: np.ndarray,
    matrix: np.ndarray,
    form: Form,
    landmarks: int,
    *,
    paper: float,
    ink: float,
    visible: float = 0.12,
    min_share: float = 0.35,
    min_fit: float = 0.05,
    blind_landmarks: int = 5,
) -> str:
    """Why the fitted transform cannot be trusted, or ``""`` when it can.

    The marks fix the transform; the printed bubble outlines check it over the
    whole page. Where outlines are visible (median contrast at least
    ``visible``), every field of eight or more bubbles must fit at least
    ``min_share`` as well as the page does (and above ``min_fit``). Where they
    are not (1-bit scans lose light print), ``blind_landmarks`` marks are needed.
    """
    overall, fits = field_fits(gray, matrix, form, paper=paper, ink=ink)
    if overall < visible:
        if landmarks < blind_landmarks:
            return (
                f"only {landmarks} marks found and the printed bubbles are too faint "
                "to check the fit"
            )
        return ""
    for name, fit in fits.items():
        if form.layout.fields[name].index.size >= 8 and fit < max(min_fit, min_share * overall):
            return f"the printed bubbles of {name} are not where the marks put them"
    return ""
