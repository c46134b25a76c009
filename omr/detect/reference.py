"""Align a scan on the blank sheet's reference image by its features, for forms with no marks.

ORB keypoints of both images are matched (ratio test), a similarity is
fitted with RANSAC (any rotation, upside down, any scale) and refined to an
affine map by least squares over its inliers; the correlation of the whole
image (bubbles left out) checks it. Perspective (phone photos) is straightened before, from the
sheet's edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from omr.detect.sampling import mm_to_px

WORK_PX_PER_MM = 5.0  # both images are compared at about 127 dpi


@dataclass(frozen=True, eq=False)
class ReferenceFeatures:
    """ORB keypoints (K, 2) in reference millimetres, their descriptors (K, 32), and
    the reference image itself at :data:`WORK_PX_PER_MM` (M, N) uint8."""

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


def _at_work_scale(gray: np.ndarray, px_per_mm: float) -> tuple[np.ndarray, float]:
    f = WORK_PX_PER_MM / px_per_mm
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
) -> ReferenceFeatures:
    """Keypoints of the blank sheet's image ``gray`` (M, N) uint8 at ``px_per_mm``.

    ``bubbles_mm`` (K, 2), the bubble centres: the areas within
    ``bubble_reach_mm`` of them are left out of matching and correlation,
    since students' marks change them from sheet to sheet.
    """
    if gray.ndim != 2:
        raise ValueError("gray must be a 2-D array")
    small, f = _at_work_scale(gray, px_per_mm)
    k = f * px_per_mm
    mask = None
    if bubbles_mm is not None and len(bubbles_mm):
        mask = np.full(small.shape, 255, np.uint8)
        for x, y in np.asarray(bubbles_mm) * k - 0.5:
            cv2.circle(mask, (round(x), round(y)), round(bubble_reach_mm * k), 0, -1)
    keypoints, descriptors = _orb(n_features).detectAndCompute(small, mask)
    if descriptors is None:
        return ReferenceFeatures(np.empty((0, 2)), np.empty((0, 32), np.uint8), small, k, mask)
    xy = np.array([p.pt for p in keypoints], dtype=float)
    return ReferenceFeatures((xy + 0.5) / k, descriptors, small, k, mask)


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
    min_correlation: float = 0.5,
    max_stretch: float = 0.005,
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

    Returns
    -------
    FeatureFit, or a message saying why the scan could not be aligned.
    """
    if len(reference.xy_mm) < min_inliers:
        return "the reference image has too few features to align on"
    small, f = _at_work_scale(gray, px_per_mm_guess)
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
    threshold = reprojection_mm * WORK_PX_PER_MM
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
    resid = a @ coef - dst[inl]
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
        residual_mm=residual_px / WORK_PX_PER_MM,
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
    back = cv2.warpAffine(
        scan,
        ref_to_scan[:2],
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
