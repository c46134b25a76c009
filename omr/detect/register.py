"""Register a page on its form: rotation (any quarter turn), skew, shift, scale.

The form chooses how: solid corner marks (squares, circles, L-shapes), a
timing track of dashes, or, for sheets with no marks at all, the features of
a reference image of the blank sheet. Landmarks fix the transform; the
orientation mark (or, without one, the printed bubble outlines) tells an
upside-down sheet, and the outlines check every fit over the whole page.
Failure is a value, not an exception: :class:`RegistrationFailed` is falsy and
carries the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

from omr.detect.landmarks import (
    chain_tracks,
    find_dashes,
    find_solid_marks,
    refine_box_centres,
    refine_centres,
)
from omr.detect.photo import flatten_light
from omr.detect.proof import prove_fit, unproven
from omr.detect.reference import ReferenceFeatures, align_on_reference
from omr.detect.refine import refine_on_outlines
from omr.detect.sampling import apply_transform, sample_image, square_pattern
from omr.forms import CornerMarks, Form, ReferenceImage, TimingTrack

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
    proof: dict = field(default_factory=dict)

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
            **self.proof,
        }


@dataclass(frozen=True)
class RegistrationFailed:
    """Why a page could not be registered; falsy."""

    reason: str
    message: str
    proof: dict = field(default_factory=dict)
    matrix: np.ndarray | None = None  # the fit that was refused, when there was one

    def __bool__(self) -> bool:
        return False


def find_square_marks(gray: np.ndarray, side_px: float, **kw) -> np.ndarray:
    """Centres (K, 2), (x, y), of solid dark squares of about ``side_px`` pixels."""
    return find_solid_marks(gray, (side_px, side_px), "square", **kw)


def _fit_affine(src_xy: np.ndarray, dst_xy: np.ndarray) -> np.ndarray:
    """Least-squares affine (3, 3) mapping ``src_xy`` (K, 2) onto ``dst_xy`` (K, 2)."""
    a = np.column_stack([src_xy, np.ones(len(src_xy))])
    coef, *_ = np.linalg.lstsq(a, dst_xy, rcond=None)
    return np.vstack([coef.T, [0.0, 0.0, 1.0]])


def _fit_similarity(src_xy: np.ndarray, dst_xy: np.ndarray) -> np.ndarray:
    """Least-squares similarity (3, 3): turn, one scale and shift; fixed by points in a line."""
    x, y = src_xy[:, 0], src_xy[:, 1]
    one, zero = np.ones_like(x), np.zeros_like(x)
    a = np.vstack([np.column_stack([x, -y, one, zero]), np.column_stack([y, x, zero, one])])
    b = np.concatenate([dst_xy[:, 0], dst_xy[:, 1]])
    (p, q, tx, ty), *_ = np.linalg.lstsq(a, b, rcond=None)
    return np.array([[p, -q, tx], [q, p, ty], [0.0, 0.0, 1.0]])


def _spread(src_xy: np.ndarray) -> float:
    """The landmarks' smallest standard deviation along any direction, in their units."""
    centred = src_xy - src_xy.mean(axis=0)
    return float(np.linalg.svd(centred, compute_uv=False)[-1] / np.sqrt(len(src_xy)))


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
    min_marks: int = 3,
    min_spread: float = 0.15,
    max_half_turn_share: float = 0.3,
    reference: ReferenceFeatures | None = None,
) -> Registration | RegistrationFailed:
    """Find the form's landmarks on ``gray`` and fit the form→image transform.

    Parameters
    ----------
    gray : (M, N) ndarray of uint8
        The page.
    form : Form
    search_mm : float
        How far from where a landmark would sit on a centred page it may be found.
    max_residual_mm : float
        Largest RMS misfit of the landmarks accepted.
    min_marks : int
        Fewest landmarks that must be found: three fix the transform; below five,
        the printed bubble outlines must confirm it (:func:`check_fit`).
    min_spread : float
        Least spread of the corner marks found across their thinnest direction,
        as a share of the page's shorter side (three marks in a line fix nothing).
    max_half_turn_share : float
        When nothing printed tells the orientation, the bubble outlines do: the
        form's bubbles that a half turn puts clear of all its others must show
        their outlines under one fit, and under the half-turned fit no more
        than this share of that (paper, not other printed bubbles).
    reference : ReferenceFeatures, optional
        The reference image's features, for a ``reference-image`` form.
    """
    if gray.ndim != 2 or min(gray.shape) < 50:
        return RegistrationFailed("unreadable-page", "the page image is empty or too small")
    scale0 = max(gray.shape) / max(form.page.width, form.page.height)
    f = min(1.0, WORK_PX_PER_MM / scale0)
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else gray
    darkest, paper = grey_percentiles(small, (0.5, 90))
    if grey_percentiles(small, (99.5,))[0] - darkest < 40:
        return RegistrationFailed("blank-page", "the page is blank (no contrast at all)")
    reg = form.registration
    if isinstance(reg, ReferenceImage):
        if reference is None:
            raise ValueError("a reference-image form needs the reference's features")
        fit = align_on_reference(gray, reference, px_per_mm_guess=scale0)
        if isinstance(fit, str):
            return RegistrationFailed("marks-not-found", fit)
        if fit.residual_mm > max_residual_mm:
            return RegistrationFailed(
                "registration-weak",
                f"the page matches its reference loosely ({fit.residual_mm:.2f} mm)",
            )
        # Features of the whole sheet repeat (letters beside bubbles, rules):
        # each field's own printed outlines say where it really is.
        matrix = refine_on_outlines(gray, fit.matrix, form, paper=paper, ink=darkest)
        fitted = (1.0, matrix, fit.inliers, fit.residual_mm, darkest, np.inf)
    else:
        fitted = _fit_landmarks(
            gray, small, f, form, scale0, search_mm, paper, darkest, max_half_turn_share
        )
        if isinstance(fitted, RegistrationFailed):
            return fitted
    _, matrix, n_found, residual_mm, ink, spread = fitted
    expected = len(reg.landmarks_mm())
    if n_found < min_marks or residual_mm > max_residual_mm:
        return RegistrationFailed(
            "registration-weak",
            f"marks fit badly: {n_found} of {expected} found, misfit {residual_mm:.2f} mm",
        )
    if isinstance(reg, CornerMarks) and spread < min_spread * min(
        form.page.width, form.page.height
    ):
        return RegistrationFailed(
            "registration-weak", "the marks found lie too close to a line to fix the page"
        )
    proof = prove_fit(gray, matrix, form, paper=paper, ink=darkest)
    if not proof.ok:
        problem = unproven(
            gray,
            matrix,
            form,
            proof,
            n_found,
            paper=paper,
            ink=darkest,
            blind_ok=not isinstance(reg, ReferenceImage),
        )
        if problem:
            return RegistrationFailed("registration-weak", problem, proof.summary(), matrix)
    a, b = matrix[0, 0], matrix[1, 0]
    angle = float(np.degrees(np.arctan2(b, a)))
    return Registration(
        matrix=matrix,
        residual_mm=residual_mm,
        rotation_deg=angle,
        upside_down=abs(angle) > 135,
        px_per_mm=float(np.sqrt(abs(np.linalg.det(matrix[:2, :2])))),
        marks_found=n_found,
        marks_expected=expected or n_found,
        ink=ink,
        proof=proof.summary(),
    )


def _solid_marks(small: np.ndarray, side_px: float, reg: CornerMarks) -> np.ndarray:
    """Centres of the form's solid marks; where some are missed, looked for again in even light.

    A lid shadow along an edge can fall below the page's global threshold and
    swallow the marks in it; evening the light first gives them back.
    """
    size = (side_px, side_px)
    thick = reg.l_thickness * side_px / reg.mark_size
    found = find_solid_marks(small, size, reg.shape, l_thickness_px=thick)
    if len(found) < len(reg.marks):
        evened = flatten_light(small, side_px / reg.mark_size, window_mm=3 * reg.mark_size)
        again = find_solid_marks(evened, size, reg.shape, l_thickness_px=thick)
        if len(again) > len(found):
            return again
    return found


def _fit_landmarks(gray, small, f, form, scale0, search_mm, paper, darkest, max_half_turn_share):
    """Fit on corner marks or a timing track under every quarter turn; keep the best.

    Returns the fit tuple of :func:`_fit_hypothesis`, or :class:`RegistrationFailed`.
    """
    reg = form.registration
    if isinstance(reg, TimingTrack):
        size = np.asarray(reg.dash) * scale0 * f
        found, upright = find_dashes(small, (size[0], size[1]))
        # The window must take in one whole dash and none of its neighbours.
        found = refine_centres(
            gray, found / f, (0.5 * max(reg.dash) + 0.3 * min(reg.dash)) * scale0
        )
        pitches = [
            np.linalg.norm(np.subtract(t.last, t.first)) / (t.count - 1) * scale0
            for t in reg.tracks
        ]
        chains = chain_tracks(found, (0.8 * min(pitches), 1.2 * max(pitches)), upright)
        what = "timing-track dashes"
    else:
        side = reg.mark_size * scale0
        found = _solid_marks(small, side * f, reg) / f
        refine = refine_box_centres if reg.shape == "l-shape" else refine_centres
        found = refine(gray, found, side)
        chains = None
        what = "registration mark(s)"
    if len(found) < 3:  # three fix an affine transform; a fourth landmark must check it
        return RegistrationFailed(
            "marks-not-found",
            f"found {len(found)} {what}: not this form, a blank or back page, or cut off",
        )
    if chains is not None:
        candidates = [
            fit
            for t in range(4)
            for fit in _fit_track_hypotheses(form, gray, chains, t, scale0, search_mm)
        ]
        if not candidates:
            return RegistrationFailed(
                "marks-not-found", f"found {len(found)} {what} but no track of this form's layout"
            )
        best = _choose_by_outlines(gray, form, candidates, paper, darkest)
        if best and best[5] < 0.1 * min(form.page.width, form.page.height):
            best = _refine_across_track(gray, form, best, paper, darkest)
        return best
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


def _choose_by_outlines(gray, form, candidates, paper, darkest):
    """The one candidate fit under which clearly more rows of printed bubbles sit on their outlines.

    Fits one dash apart put most bubbles on their neighbours' outlines (the
    grid is regular); they differ by whole rows at the ends of every field.
    """
    if len(candidates) == 1:
        return candidates[0]
    rows = [rows_on_outlines(gray, c[1], form, paper=paper, ink=darkest) for c in candidates]
    order = np.argsort(rows)[::-1]
    n_rows = sum(len(f.index) for f in form.layout.fields.values())
    if rows[order[0]] - rows[order[1]] < 2 or rows[order[0]] < 0.9 * n_rows:
        return RegistrationFailed(
            "registration-weak",
            f"the timing track fits the page {len(candidates)} ways and the printed "
            "bubbles are too faint to tell which (dashes cut off, or the sheet turned)",
        )
    return candidates[order[0]]


def _refine_across_track(gray, form, fit, paper, darkest, *, span: float = 0.015):
    """Fix the scale across a single track (which only fixes its own) on the bubble outlines.

    Dashes in one line give the turn, the shift and the scale along the line;
    scanners stretch the two directions slightly differently, so the scale
    across is searched (within ``span``) where the printed outlines fit best.
    """
    score, matrix, n, residual_mm, ink, spread = fit
    dashes = form.registration.landmarks_mm()
    along = dashes[-1] - dashes[0]
    along /= np.linalg.norm(along)
    normal = np.array([-along[1], along[0]])
    origin = dashes.mean(axis=0)

    def stretched(factor: float) -> np.ndarray:
        # p -> p + (factor - 1) * ((p - origin) . normal) * normal, in form mm
        t = np.eye(3)
        t[:2, :2] += (factor - 1) * np.outer(normal, normal)
        t[:2, 2] = -(factor - 1) * np.outer(normal, normal) @ origin
        return matrix @ t

    def fit_of(factor: float) -> float:
        per = outline_contrasts(gray, stretched(factor), form, paper=paper, ink=darkest)
        return float(per.mean())

    lo, hi = 1 - span, 1 + span
    golden = (np.sqrt(5) - 1) / 2
    a, b = hi - golden * (hi - lo), lo + golden * (hi - lo)
    fa, fb = fit_of(a), fit_of(b)
    for _ in range(18):
        if fa >= fb:
            hi, b, fb = b, a, fa
            a = hi - golden * (hi - lo)
            fa = fit_of(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + golden * (hi - lo)
            fb = fit_of(b)
    factor = (lo + hi) / 2
    if fit_of(factor) <= fit_of(1.0):
        return fit
    return score, stretched(factor), n, residual_mm, ink, spread


def _fit_track_hypotheses(form, gray, chains, turns, scale0, search_mm) -> list[tuple]:
    """Fits of the timing tracks under one quarter turn, one per way the dashes may correspond.

    Each track of the form is matched to the longest chain of dashes found on
    the page that lies where the turned page puts it and runs the same way.
    A whole chain corresponds dash for dash; a chain short of some dashes (a
    scanner cut the end of the track) may sit anywhere along the track, so
    every placement gives a candidate and the bubble outlines choose. Returns
    tuples as :func:`_fit_hypothesis` gives (score 0).
    """
    reg = form.registration
    guess = _initial_guess(form, gray.shape, turns, scale0)
    options = []
    used = set()
    for track in reg.tracks:
        expected = apply_transform(guess, track.centres())
        e_dir = expected[-1] - expected[0]
        best, best_key = None, None
        for k, chain in enumerate(chains):
            if k in used or len(chain) > track.count or len(chain) < 0.6 * track.count:
                continue
            c = chain if np.dot(chain[-1] - chain[0], e_dir) > 0 else chain[::-1]
            c_dir = c[-1] - c[0]
            cos = np.dot(c_dir, e_dir) / (np.linalg.norm(c_dir) * np.linalg.norm(e_dir))
            unit = e_dir / np.linalg.norm(e_dir)
            off = c.mean(axis=0) - expected[0]
            line_gap = abs(unit[0] * off[1] - unit[1] * off[0])  # distance from the track's line
            if cos > 0.97 and line_gap < search_mm * scale0:
                key = (len(c), -line_gap)
                if best_key is None or key > best_key:
                    best, best_key = (k, c), key
        if best is None:
            return []
        used.add(best[0])
        chain = best[1]
        offsets = range(track.count - len(chain) + 1)
        options.append([(track.centres()[o : o + len(chain)], chain) for o in offsets])
    fits = []
    for combo in _combinations(options, limit=24):
        src_xy = np.concatenate([src for src, _ in combo])
        dst_xy = np.concatenate([dst for _, dst in combo])
        fits.append(_fit_dashes(form, gray, src_xy, dst_xy))
    return fits


def _combinations(options: list[list], *, limit: int) -> list[tuple]:
    """Every choice of one option per list, at most ``limit`` of them."""
    combos: list[tuple] = [()]
    for choices in options:
        combos = [c + (o,) for c in combos for o in choices][:limit]
    return combos


def _fit_dashes(form, gray, src_xy, dst_xy) -> tuple:
    """Fit dash centres in mm (K, 2) to their pixels (K, 2), as :func:`_fit_hypothesis` returns."""
    reg = form.registration
    spread_mm = _spread(src_xy)
    if spread_mm < 0.1 * min(form.page.width, form.page.height):
        matrix = _fit_similarity(src_xy, dst_xy)  # dashes in one line: turn and one scale
    else:
        matrix = _fit_affine(src_xy, dst_xy)
    px_per_mm = np.sqrt(abs(np.linalg.det(matrix[:2, :2])))
    resid = apply_transform(matrix, src_xy) - dst_xy
    residual_mm = float(np.sqrt((resid**2).sum(axis=1).mean()) / px_per_mm)
    pattern = square_pattern(half=0.3 * min(reg.dash))
    ink = float(np.median(sample_image(gray, apply_transform(matrix, src_xy[:, None] + pattern))))
    return -0.001 * residual_mm, matrix, len(src_xy), residual_mm, ink, spread_mm


def _fit_hypothesis(form, gray, found, turns, scale0, search_mm, paper):
    """Fit corner marks under one quarter-turn hypothesis; None if the marks do not fit it.

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
    marks_pattern = square_pattern(half=0.3 * reg.mark_size)
    if reg.shape == "l-shape":
        marks_pattern = square_pattern(half=0.1 * reg.mark_size)  # the box centre may be paper
        ink_points = _l_corner_points(src, reg, form)
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
                matrix = _fit_affine(src, dst)
    px_per_mm = np.sqrt(abs(np.linalg.det(matrix[:2, :2])))
    resid = apply_transform(matrix, src) - dst
    residual_mm = float(np.sqrt((resid**2).sum(axis=1).mean()) / px_per_mm)
    return score - 0.001 * residual_mm, matrix, len(src), residual_mm, ink, _spread(src)


def _l_corner_points(src_mm: np.ndarray, reg: CornerMarks, form: Form) -> np.ndarray:
    """Points (K, P, 2) on the corner square of each L-shape: the arms meet toward the page edge."""
    centre = np.array([form.page.width, form.page.height]) / 2
    toward_edge = np.sign(src_mm - centre)  # the L's corner lies outward
    corner = src_mm + toward_edge * (reg.mark_size - reg.l_thickness) / 2
    return corner[:, None] + square_pattern(half=0.3 * reg.l_thickness)


def grey_percentiles(gray: np.ndarray, qs) -> list[float]:
    """Percentiles ``qs`` (0–100) of a uint8 image, from its histogram (fast on big pages)."""
    hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()
    cum = np.cumsum(hist) / max(hist.sum(), 1)
    return [float(np.searchsorted(cum, q / 100.0)) for q in qs]


_ANGLES = np.linspace(0, 2 * np.pi, 24, endpoint=False)
_ROUND_OUTLINE = np.column_stack([np.cos(_ANGLES), np.sin(_ANGLES)])  # (24, 2) on a unit circle
# On a unit square's sides, clear of the (maybe rounded) corners: six points a side.
_SIDE = np.linspace(-0.6, 0.6, 6)
_RECT_OUTLINE = np.concatenate(
    [
        np.column_stack([_SIDE, -np.ones(6)]),
        np.column_stack([np.ones(6), _SIDE]),
        np.column_stack([_SIDE, np.ones(6)]),
        np.column_stack([-np.ones(6), _SIDE]),
    ]
)


def outline_contrasts(
    gray: np.ndarray, matrix: np.ndarray, form: Form, *, paper: float, ink: float
) -> np.ndarray:
    """Per bubble (N,): grey just inside the printed outline minus grey on it.

    In units of the page's paper-to-black contrast: clearly positive where the
    transform puts the bubble where it is printed, about zero where it does not.
    """
    layout = form.layout
    unit = np.where(layout.rectangular[:, None, None], _RECT_OUTLINE, _ROUND_OUTLINE)
    centres = layout.centers_xy[:, None, :]
    axes = layout.half_axes[:, None, :]
    on = sample_image(gray, apply_transform(matrix, centres + unit * axes)).mean(axis=1)
    inside = sample_image(gray, apply_transform(matrix, centres + unit * axes * 0.75)).mean(axis=1)
    return (inside - on) / max(paper - ink, 1.0)


def half_turn_tells(form: Form) -> np.ndarray:
    """Mask (N,) of the bubbles a half turn of the page puts clear of every other bubble.

    Only these tell the way up by their outlines: the others land on printed
    bubbles either way. (Printed bubbles the form leaves out, a name grid, can
    still sit there: :func:`way_up_by_outlines` asks for paper, not less print.)
    """
    xy = np.ascontiguousarray(form.layout.centers_xy, dtype=float)
    reach = 2 * float(form.layout.half_axes.max())  # a bubble's width: no overlap
    # A form's answer is the same on every page: worked out once per layout.
    return _half_turn_tells(form.page.width, form.page.height, reach, xy.shape, xy.tobytes())


@lru_cache(maxsize=16)
def _half_turn_tells(width, height, reach, shape, xy_bytes) -> np.ndarray:
    xy = np.frombuffer(xy_bytes, dtype=float).reshape(shape)
    turned = np.array([width, height]) - xy
    tells = np.ones(len(xy), dtype=bool)
    for start in range(0, len(xy), 512):  # chunks keep the distance table small
        block = turned[start : start + 512]
        d = np.linalg.norm(block[:, None, :] - xy[None, :, :], axis=-1)
        tells[start : start + 512] = d.min(axis=1) > reach
    tells.flags.writeable = False  # shared by every caller
    return tells


def way_up_by_outlines(
    gray: np.ndarray,
    matrices: tuple[np.ndarray, np.ndarray],
    form: Form,
    *,
    paper: float,
    ink: float,
    max_share: float = 0.3,
    visible: float = 0.12,
    min_bubbles: int = 8,
) -> int | None:
    """Which of two fits a half turn apart is the right way up (0 or 1), or None.

    Judged on the bubbles of :func:`half_turn_tells`: under the right fit their
    printed outlines show (median contrast at least ``visible``); under the
    other they fall on paper (at most ``max_share`` of that). A page whose
    print repeats where the half turn puts them (grids left out of the form)
    tells nothing, and the sheet goes to a person rather than being read
    upside down.
    """
    levels = _telling_levels(gray, matrices, form, paper=paper, ink=ink, min_bubbles=min_bubbles)
    if levels is None:
        return None
    best = int(np.argmax(levels))
    if levels[best] < visible or levels[1 - best] > max_share * levels[best]:
        return None
    return best


def _telling_levels(gray, matrices, form, *, paper, ink, min_bubbles=8) -> list[float] | None:
    """Median outline contrast of the :func:`half_turn_tells` bubbles under each matrix."""
    tells = half_turn_tells(form)
    if tells.sum() < min_bubbles:
        return None
    return [
        float(np.median(outline_contrasts(gray, m, form, paper=paper, ink=ink)[tells]))
        for m in matrices
    ]


def half_turn_share(
    gray: np.ndarray, matrix: np.ndarray, form: Form, *, paper: float, ink: float
) -> float | None:
    """How well the outlines fit ``matrix`` turned half round, as a share of how well they fit it.

    Near 0 where the bubbles that tell the way up land on paper when turned;
    near 1 where the page prints bubbles there too (then, without an
    orientation mark, the way up cannot be told). None when too few bubbles
    tell at all.
    """
    w, h = form.page.width, form.page.height
    turned = np.asarray(matrix, dtype=float) @ np.array([[-1.0, 0, w], [0, -1, h], [0, 0, 1]])
    levels = _telling_levels(gray, (matrix, turned), form, paper=paper, ink=ink)
    if levels is None or levels[0] <= 0:
        return None
    return max(levels[1], 0.0) / levels[0]


def rows_on_outlines(
    gray: np.ndarray,
    matrix: np.ndarray,
    form: Form,
    *,
    paper: float,
    ink: float,
    share: float = 0.4,
) -> int:
    """How many item rows (all fields) sit on printed outlines under ``matrix``.

    A row counts when its bubbles' mean outline contrast reaches ``share`` of
    the page's median (and 0.05 at least).
    """
    per_bubble = outline_contrasts(gray, matrix, form, paper=paper, ink=ink)
    level = max(0.05, share * float(np.median(per_bubble[~form.layout.square])))
    return int(
        sum((per_bubble[f.index].mean(axis=1) >= level).sum() for f in form.layout.fields.values())
    )


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
