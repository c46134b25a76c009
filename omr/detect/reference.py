"""Align a scan on the sheet's reference image by its features, for forms with no marks.

ORB keypoints of both images are matched (ratio test), a similarity is
fitted with RANSAC (any rotation, upside down, any scale) and refined to an
affine map by least squares over its inliers; the correlation of the whole
sheet (bubbles left out) checks it. Perspective (phone photos) is straightened before, from the
sheet's edges.

Features come from the print only: the reference is often one filled sheet
of the stack, and what its candidate wrote there (bubbles filled, in the
form or in grids it leaves out, a signature) is not on the next sheet. Every
bubble of the form, every solid fill of about a bubble's size anywhere on
the sheet, and the write-in areas are masked, so any good scan of a print
run taken as the reference gives the same fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from omr.detect.once import once_per
from omr.detect.photo import find_page_quad
from omr.detect.sampling import apply_transform, mm_to_px
from omr.forms import Form

WORK_PX_PER_MM = 5.0  # both images are compared at about 127 dpi, or finer for small sheets
MIN_WORK_SIDE_PX = 1000  # a small sheet is enlarged to this longer side: ORB's patches are 31 px
MAX_WORK_PX_PER_MM = 12.0


@dataclass(frozen=True, eq=False)
class ReferenceFeatures:
    """ORB keypoints (K, 2) in reference millimetres, their descriptors (K, 32), and
    the reference image itself (M, N) uint8 at its work scale ``image_px_per_mm``
    (:func:`work_scale`); ``mask`` 255 where print is (None: everywhere)."""

    xy_mm: np.ndarray
    descriptors: np.ndarray
    image: np.ndarray
    image_px_per_mm: float
    mask: np.ndarray | None = None


def _scaling(f: float) -> np.ndarray:
    """(3, 3) map of pixel coordinates under a resize by ``f`` (pixel centres at integers)."""
    shift = 0.5 * f - 0.5
    return np.array([[f, 0.0, shift], [0.0, f, shift], [0.0, 0.0, 1.0]])


def _orb(n_features: int) -> cv2.ORB:
    return cv2.ORB_create(nfeatures=n_features, scaleFactor=1.2, nlevels=8, fastThreshold=12)


def work_scale(shape: tuple[int, int], px_per_mm: float) -> float:
    """Pixels per mm at which a reference of ``shape`` at ``px_per_mm`` is matched.

    :data:`WORK_PX_PER_MM`, or finer for a small sheet (a card, a photo's
    crop), so that its longer side has :data:`MIN_WORK_SIDE_PX` pixels:
    ORB describes a 31-pixel patch, and a bubble must span more than a few.
    """
    side_mm = max(shape) / px_per_mm
    return float(np.clip(MIN_WORK_SIDE_PX / side_mm, WORK_PX_PER_MM, MAX_WORK_PX_PER_MM))


def _at_work_scale(gray: np.ndarray, px_per_mm: float, work: float) -> tuple[np.ndarray, float]:
    f = work / px_per_mm
    if abs(f - 1) < 0.02:
        return gray, 1.0
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    return cv2.resize(gray, None, fx=f, fy=f, interpolation=interp), f


def reference_features(
    gray: np.ndarray,
    px_per_mm: float,
    *,
    n_features: int = 2500,
    bubbles_mm: np.ndarray | None = None,
    bubble_reach_mm: float = 3.5,
    fill_diameter_mm: float | None = None,
    written_mm: tuple[tuple[float, float, float, float], ...] = (),
) -> ReferenceFeatures:
    """Keypoints of the print on the reference image ``gray`` (M, N) uint8 at ``px_per_mm``.

    What changes from sheet to sheet is left out of matching and correlation
    (:func:`print_mask`): the areas within ``bubble_reach_mm`` of the
    bubble centres ``bubbles_mm`` (K, 2), solid fills about
    ``fill_diameter_mm`` across anywhere, the write-in rectangles
    ``written_mm`` (x0, y0, x1, y1), and, on a photo, what lies around the sheet.
    """
    if gray.ndim != 2:
        raise ValueError("gray must be a 2-D array")
    small, f = _at_work_scale(gray, px_per_mm, work_scale(gray.shape, px_per_mm))
    k = f * px_per_mm
    mask = print_mask(
        small,
        k,
        bubbles_mm=bubbles_mm,
        bubble_reach_mm=bubble_reach_mm,
        fill_diameter_mm=fill_diameter_mm,
        written_mm=written_mm,
    )
    keypoints, descriptors = _orb(n_features).detectAndCompute(small, mask)
    if descriptors is None:
        return ReferenceFeatures(np.empty((0, 2)), np.empty((0, 32), np.uint8), small, k, mask)
    xy = np.array([p.pt for p in keypoints], dtype=float)
    return ReferenceFeatures((xy + 0.5) / k, descriptors, small, k, mask)


def print_mask(
    small: np.ndarray,
    k: float,
    *,
    bubbles_mm: np.ndarray | None = None,
    bubble_reach_mm: float = 3.5,
    fill_diameter_mm: float | None = None,
    written_mm: tuple[tuple[float, float, float, float], ...] = (),
) -> np.ndarray | None:
    """Mask (M, N) uint8 of the reference ``small`` (at ``k`` px/mm): 255 where only print is.

    None when nothing is masked. See :func:`reference_features` for the arguments.
    """
    mask = np.full(small.shape, 255, np.uint8)
    if bubbles_mm is not None and len(bubbles_mm):
        for x, y in np.asarray(bubbles_mm) * k - 0.5:
            cv2.circle(mask, (round(x), round(y)), round(bubble_reach_mm * k), 0, -1)
    if fill_diameter_mm:
        fills = _solid_fills(small, fill_diameter_mm * k)
        reach = max(1, round((bubble_reach_mm - fill_diameter_mm / 2) * k))
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
        mask[cv2.dilate(fills, disc) > 0] = 0
    for x0, y0, x1, y1 in written_mm:
        cv2.rectangle(mask, (round(x0 * k), round(y0 * k)), (round(x1 * k), round(y1 * k)), 0, -1)
    quad = find_page_quad(small)
    if quad is not None and cv2.contourArea(quad.astype(np.float32)) < 0.95 * small.size:
        # A photo: the table around the sheet is no part of the form.
        sheet = np.zeros_like(mask)
        cv2.fillConvexPoly(sheet, np.round(quad).astype(np.int32), 255)
        mask &= cv2.erode(sheet, np.ones((5, 5), np.uint8))
    return None if mask.all() else mask


def _solid_fills(small: np.ndarray, diameter_px: float) -> np.ndarray:
    """Mask (M, N) uint8 of solid dark areas about a bubble of ``diameter_px`` across.

    A filled bubble (of the form or of a grid the form leaves out), not print:
    what a disc of 0.6 of a bubble's diameter fits in (no stroke of text, no
    outline), at most twice a bubble's area (larger solid print stays).
    """
    blur = cv2.GaussianBlur(small, (0, 0), max(0.5, 0.06 * diameter_px))
    ink, paper = np.percentile(small, (0.5, 90))
    dark = (blur < paper - 0.35 * (paper - ink)).astype(np.uint8)
    r = max(1, round(0.3 * diameter_px))
    opened = cv2.morphologyEx(
        dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    )
    n, labels, stats, _ = cv2.connectedComponentsWithStats(opened)
    bubble_area = np.pi * (diameter_px / 2) ** 2
    small_enough = stats[:, cv2.CC_STAT_AREA] <= 2.0 * bubble_area
    small_enough[0] = False  # the background
    return np.where(small_enough[labels], 255, 0).astype(np.uint8)


_FORM_FEATURES: dict[int, tuple] = {}


def form_reference(form: Form) -> ReferenceFeatures | None:
    """The print features of a reference-image form's reference, worked out once per form."""
    gray = form.reference_gray
    if gray is None:
        return None

    def make() -> ReferenceFeatures:
        layout = form.layout
        written = ()
        if form.signature is not None:
            (x, y), (w, h) = form.signature.origin, form.signature.size
            written = ((x, y, x + w, y + h),)
        return reference_features(
            gray,
            form.registration.dpi / 25.4,
            bubbles_mm=layout.centers_xy,
            fill_diameter_mm=float(2 * np.median(layout.radius)),
            written_mm=written,
        )

    return once_per(form, _FORM_FEATURES, make)


@dataclass(frozen=True)
class FeatureFit:
    """A homography (3, 3) from form millimetres to image pixels, with its support."""

    matrix: np.ndarray
    inliers: int
    matches: int
    residual_mm: float
    correlation: float


def align_on_reference(
    gray: np.ndarray,
    reference: ReferenceFeatures,
    *,
    px_per_mm_guess: float,
    n_features: int = 4000,
    ratio: float = 0.8,
    reprojection_mm: float = 0.4,
    min_inliers: int = 25,
    min_correlation: float = 0.25,
    max_stretch: float = 0.005,
    perspective: bool = False,
) -> FeatureFit | str:
    """Fit the form→image homography of ``gray`` on the reference's features.

    Parameters
    ----------
    gray : (M, N) ndarray of uint8
        The scan.
    reference : ReferenceFeatures
    px_per_mm_guess : float
        Roughly the scan's resolution (page size against image size).
    ratio : float
        Lowe's ratio test for a match to count.
    reprojection_mm : float
        RANSAC's inlier distance.
    min_inliers : int
        Fewest agreeing matches for a fit.
    min_correlation : float
        Least correlation of the scan, brought onto the reference image, with it
        (outside the bubbles, where students' marks differ).
    max_stretch : float
        Largest difference of scale between the two directions, and shear, a
        scan may have; an affine fit beyond it falls back to the similarity.
    perspective : bool
        Fit a homography instead (a photo taken at an angle), by RANSAC over
        the same matches; the similarity's when it agrees with fewer of them.

    Returns
    -------
    FeatureFit, or a message saying why the scan could not be aligned.
    """
    if len(reference.xy_mm) < min_inliers:
        return "the reference image has too few features to align on"
    work = reference.image_px_per_mm
    small, f = _at_work_scale(gray, px_per_mm_guess, work)
    keypoints, descriptors = _orb(n_features).detectAndCompute(small, None)
    if descriptors is None or len(keypoints) < min_inliers:
        return "too few features on the page to align it on the reference image"
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(reference.descriptors, descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < ratio * p[1].distance]
    if len(good) < min_inliers:
        return f"only {len(good)} features match the reference image: not this form?"
    src = reference.xy_mm[[m.queryIdx for m in good]]
    dst = np.array([keypoints[m.trainIdx].pt for m in good], dtype=float)
    threshold = reprojection_mm * work
    # A scan is turned, shifted and scaled: a similarity, robust to wrong matches ...
    sim, mask = cv2.estimateAffinePartial2D(
        src.astype(np.float32),
        dst.astype(np.float32),
        method=cv2.RANSAC,
        ransacReprojThreshold=threshold,
        maxIters=4000,
    )
    if sim is None:
        return "no consistent alignment with the reference image"
    inl = mask.ravel().astype(bool)
    if inl.sum() < min_inliers:
        return f"only {int(inl.sum())} features agree with the reference image: not this form?"
    # ... then an affine map by least squares over its inliers: scanners stretch the two
    # directions a little differently. (Measured on simulated stacks: within 0.03° and
    # 0.1 mm; whole-image correlation refinement (ECC) was pulled off by handwriting.)
    a = np.column_stack([src[inl], np.ones(inl.sum())])
    coef, *_ = np.linalg.lstsq(a, dst[inl], rcond=None)
    if not _nearly_similar(coef.T[:, :2], max_stretch):
        # Features bunched in part of the page (a cut-off scan) let an affine
        # fit wander; the similarity is then the safer map.
        coef = np.vstack([sim[:, :2].T, sim[:, 2]])
    mm_to_scan = np.vstack([coef.T, [0.0, 0.0, 1.0]])
    if perspective:
        h, hmask = cv2.findHomography(src, dst, cv2.RANSAC, threshold, maxIters=4000)
        if h is not None and hmask.sum() >= inl.sum():
            mm_to_scan, inl = h / h[2, 2], hmask.ravel().astype(bool)
    resid = apply_transform(mm_to_scan, src[inl]) - dst[inl]
    residual_px = float(np.sqrt((resid**2).sum(axis=1).mean()))
    mm_to_ref = mm_to_px(reference.image_px_per_mm)
    correlation = _correlation(reference, small, mm_to_scan @ np.linalg.inv(mm_to_ref))
    if correlation < min_correlation:
        return (
            f"the page matches its reference image poorly (correlation {correlation:.2f}): "
            "not this form?"
        )
    return FeatureFit(
        matrix=np.linalg.inv(_scaling(f)) @ mm_to_scan,
        inliers=int(inl.sum()),
        matches=len(good),
        residual_mm=residual_px / work,
        correlation=correlation,
    )


def _nearly_similar(linear: np.ndarray, max_stretch: float) -> bool:
    """Whether a (2, 2) linear map scales both directions alike and keeps right angles."""
    cx, cy = linear[:, 0], linear[:, 1]
    nx, ny = np.linalg.norm(cx), np.linalg.norm(cy)
    shear = abs(float(np.dot(cx, cy))) / (nx * ny)
    return abs(nx / ny - 1) <= max_stretch and shear <= max_stretch


def _correlation(reference: ReferenceFeatures, scan: np.ndarray, ref_to_scan: np.ndarray) -> float:
    """Correlation of the reference image with the scan brought onto it, outside the bubbles."""
    h, w = reference.image.shape
    back = cv2.warpPerspective(
        scan,
        ref_to_scan,
        (w, h),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255,
    )
    keep = np.ones((h, w), bool) if reference.mask is None else reference.mask > 0
    a = reference.image[keep].astype(np.float32)
    b = back[keep].astype(np.float32)
    a -= a.mean()
    b -= b.mean()
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denom) if denom > 0 else 0.0


@dataclass(frozen=True)
class PrintCheck:
    """Whether the whole print lies where one map puts it: per tile of the reference
    with print on it, how far (mm) the page's print there is from where the fit puts it."""

    ok: bool
    offsets_mm: np.ndarray  # (T,) of the tiles that could tell
    off_tiles: int
    limit_mm: float

    def summary(self) -> str:
        worst = float(self.offsets_mm.max()) if len(self.offsets_mm) else 0.0
        return (
            f"{self.off_tiles} of {len(self.offsets_mm)} parts of the print lie more than "
            f"{self.limit_mm:.1f} mm off (up to {worst:.1f} mm)"
        )


def print_in_register(
    gray: np.ndarray,
    matrix: np.ndarray,
    reference: ReferenceFeatures,
    *,
    limit_mm: float,
    tile_mm: float = 24.0,
    min_response: float = 0.15,
    max_off_share: float = 0.1,
) -> PrintCheck:
    """Whether the print of ``gray`` lies, all of it, where ``matrix`` (form mm → px) puts it.

    A page printed off register (its bubble fields shifted against its text,
    a sister form's page) has two prints, each matching the reference under
    its own map; the fit follows one, the other shows off by the shift. Each
    tile of about ``tile_mm`` of the reference with print on it (bubbles and
    what changes from sheet to sheet masked) is compared with the page brought
    onto it (phase correlation, peaks below ``min_response`` tell nothing):
    more than ``max_off_share`` of the telling tiles (and at least two) off by
    more than ``limit_mm`` fail.
    """
    k = reference.image_px_per_mm
    h, w = reference.image.shape
    to_ref = mm_to_px(k)
    back = cv2.warpPerspective(
        gray,
        matrix @ np.linalg.inv(to_ref),
        (w, h),
        flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255,
    )
    keep = np.ones((h, w), bool) if reference.mask is None else reference.mask > 0
    ref = reference.image
    ink, paper = np.percentile(ref, (0.5, 90))
    printed = (ref < paper - 0.5 * (paper - ink)) & keep
    t = max(32, int(round(tile_mm * k / 2)) * 2)
    window = cv2.createHanningWindow((t, t), cv2.CV_32F)
    offsets = []
    for y in range(0, h - t + 1, t * 3 // 4):
        for x in range(0, w - t + 1, t * 3 // 4):
            sl = np.s_[y : y + t, x : x + t]
            m = keep[sl]
            if m.mean() < 0.5 or printed[sl].mean() < 0.01:
                continue
            a = ref[sl].astype(np.float32)
            b = back[sl].astype(np.float32)
            a[~m] = a[m].mean()
            b[~m] = b[m].mean()
            (dx, dy), response = cv2.phaseCorrelate(a, b, window)
            if response >= min_response:
                offsets.append(np.hypot(dx, dy) / k)
    off = np.asarray(offsets)
    n_off = int((off > limit_mm).sum())
    ok = not (n_off >= 2 and n_off > max_off_share * len(off))
    return PrintCheck(ok, off, n_off, limit_mm)
