"""Register a page on its form: rotation (any quarter turn), skew, shift, scale.

The form chooses how: solid corner marks (squares, circles, L-shapes), a
timing track of dashes, copies of a picture the user supplies, or, for
sheets with no marks at all, the features of a reference image of the
blank sheet. Landmarks fix the transform; the orientation mark (or,
without one, the printed bubble outlines) tells an upside-down sheet, and
no fit is read before the outlines prove it (:mod:`omr.detect.proof`).
Failure is a value, not an exception: :class:`RegistrationFailed` is falsy and
carries the reason.

One module per job: :mod:`.marks` (corner marks), :mod:`.track` (timing
tracks), :mod:`.marker` (a marker image), :mod:`omr.detect.reference`
(reference images), :mod:`.outlines` (choosing between fits on the
printed outlines), :mod:`.geometry` (least squares); :func:`register_page`
here chooses the kind, fits and proves.
"""

from __future__ import annotations

import cv2
import numpy as np

from omr.detect.centring import field_centring, fields_off_print
from omr.detect.grid_lines import missing_lines
from omr.detect.proof import form_pitches, prove_fit, unproven
from omr.detect.reference import ReferenceFeatures, align_on_reference, print_in_register
from omr.detect.refine import refine_on_outlines
from omr.detect.register.geometry import grey_percentiles
from omr.detect.register.marker import fit_marker_image
from omr.detect.register.marks import find_square_marks, fit_corner_marks
from omr.detect.register.outlines import (
    field_fits,
    half_turn_share,
    half_turn_tells,
    outline_contrast,
    outline_contrasts,
    way_up_by_outlines,
)
from omr.detect.register.result import Registration, RegistrationFailed
from omr.detect.register.track import fit_track
from omr.forms import CornerMarks, Form, MarkerImage, ReferenceImage, TimingTrack

__all__ = [
    "Registration",
    "RegistrationFailed",
    "field_fits",
    "find_square_marks",
    "grey_percentiles",
    "half_turn_share",
    "half_turn_tells",
    "outline_contrast",
    "outline_contrasts",
    "register_page",
    "way_up_by_outlines",
]

WORK_PX_PER_MM = 4.0  # resolution at which marks are searched
# A reference-image page's print, tile by tile, lies within this share of the
# smallest bubble pitch of where its fit puts it (measured on simulated stacks:
# pages in register within 0.6 mm, pages printed off by half a pitch 2.7 mm and more).
PRINT_OFF_PITCH = 0.25


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
        the printed bubble outlines must prove it (:mod:`omr.detect.proof`).
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
    darkest, paper, lightest = grey_percentiles(small, (0.5, 90, 99.5))
    if lightest - darkest < 40:
        return RegistrationFailed("blank-page", "the page is blank (no contrast at all)")
    reg = form.registration
    if isinstance(reg, ReferenceImage):
        if reference is None:
            raise ValueError("a reference-image form needs the reference's features")
        fitted = _fit_reference(gray, form, reference, scale0, paper, darkest, max_residual_mm)
        if isinstance(fitted, RegistrationFailed):
            return fitted
    else:
        if isinstance(reg, TimingTrack):
            fitted = fit_track(gray, small, f, form, scale0, search_mm, paper, darkest)
        elif isinstance(reg, MarkerImage):
            fitted = fit_marker_image(
                gray, small, f, form, scale0, search_mm, paper, darkest, max_half_turn_share
            )
        else:
            fitted = fit_corner_marks(
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
    if isinstance(reg, CornerMarks | MarkerImage) and spread < min_spread * min(
        form.page.width, form.page.height
    ):
        return RegistrationFailed(
            "registration-weak", "the marks found lie too close to a line to fix the page"
        )
    proof = prove_fit(gray, matrix, form, paper=paper, ink=darkest)
    if not proof.ok and isinstance(reg, ReferenceImage):
        # A photo at an angle: the same matches, fitted with its perspective.
        again = _fit_reference(
            gray, form, reference, scale0, paper, darkest, max_residual_mm, perspective=True
        )
        if not isinstance(again, RegistrationFailed):
            tilted = prove_fit(gray, again[1], form, paper=paper, ink=darkest)
            if tilted.ok:
                fitted, proof = again, tilted
                _, matrix, n_found, residual_mm, ink, spread = fitted
    if proof.ok and isinstance(reg, ReferenceImage):
        # The bubbles' outlines are where the fit says; the rest of the print
        # must be too (a page printed off register has two prints, each fitting).
        check = print_in_register(
            gray, matrix, reference, limit_mm=PRINT_OFF_PITCH * min(form_pitches(form).values())
        )
        if not check.ok:
            return RegistrationFailed(
                "registration-weak",
                f"the page's print is not the reference's under one fit: {check.summary()}",
                proof.summary(),
                matrix,
            )
    centring = {}
    if proof.ok:
        # Proven against fits half a pitch off; the form itself may still sit
        # a little off the print in one field (a hand-made form).
        px_per_mm = float(np.sqrt(abs(np.linalg.det(matrix[:2, :2]))))
        centring = field_centring(gray, matrix, form, paper=paper, ink=darkest, px_per_mm=px_per_mm)
        blank = fields_off_print(gray, matrix, form, paper=paper, ink=darkest).items()
        if blank:
            return RegistrationFailed(
                "registration-weak",
                "; ".join(f"{name} {why}" for name, why in blank),
                {**proof.summary(), **_centring_summary(centring)},
                matrix,
            )
        off = [(name, c) for name, c in centring.items() if not c.ok]
        if off:
            name, worst = max(off, key=lambda nc: nc[1].off_radius)
            return RegistrationFailed(
                "registration-weak",
                f"the form's bubbles are not centred on the printed ones: "
                f"{worst.describe(name, px_per_mm)}",
                {**proof.summary(), **_centring_summary(centring)},
                matrix,
            )
        # Proven against its near misses where they can be told; a field whose
        # ends both border other print cannot tell a whole pitch, its lines can.
        missing = missing_lines(form, *proof.levels)
        if missing:
            return RegistrationFailed(
                "registration-weak",
                f"{missing[0].describe()} ({len(missing)} line(s) without outlines)",
                {**proof.summary(), **_centring_summary(centring)},
                matrix,
            )
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
        proof={**proof.summary(), **_centring_summary(centring)},
    )


def _centring_summary(centring: dict) -> dict:
    """The field furthest off its printed outlines, for the read record."""
    if not centring:
        return {}
    name, worst = max(centring.items(), key=lambda nc: nc[1].off_radius / nc[1].limit)
    return {"centring_worst": name, "centring_off_radius": round(worst.off_radius, 3)}


def _fit_reference(
    gray: np.ndarray,
    form: Form,
    reference: ReferenceFeatures,
    scale0: float,
    paper: float,
    darkest: float,
    max_residual_mm: float,
    *,
    perspective: bool = False,
) -> tuple | RegistrationFailed:
    """The reference image's feature fit, brought onto each field's printed outlines."""
    fit = align_on_reference(gray, reference, px_per_mm_guess=scale0, perspective=perspective)
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
    return 1.0, matrix, fit.inliers, fit.residual_mm, darkest, np.inf
