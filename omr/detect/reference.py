"""Align a scan on the blank sheet's reference image by its features, for forms with no marks.

ORB keypoints of both images are matched (ratio test), and a homography is
fitted with RANSAC: any rotation, upside down, scale and perspective.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

WORK_PX_PER_MM = 5.0  # both images are compared at about 127 dpi


@dataclass(frozen=True, eq=False)
class ReferenceFeatures:
    """ORB keypoints (K, 2) in reference millimetres and their descriptors (K, 32)."""

    xy_mm: np.ndarray
    descriptors: np.ndarray


def _orb(n_features: int) -> cv2.ORB:
    return cv2.ORB_create(nfeatures=n_features, scaleFactor=1.2, nlevels=8, fastThreshold=12)


def _at_work_scale(gray: np.ndarray, px_per_mm: float) -> tuple[np.ndarray, float]:
    f = WORK_PX_PER_MM / px_per_mm
    if abs(f - 1) < 0.02:
        return gray, 1.0
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    return cv2.resize(gray, None, fx=f, fy=f, interpolation=interp), f


def reference_features(
    gray: np.ndarray, px_per_mm: float, *, n_features: int = 6000
) -> ReferenceFeatures:
    """Keypoints of the blank sheet's image ``gray`` (M, N) uint8 at ``px_per_mm``."""
    if gray.ndim != 2:
        raise ValueError("gray must be a 2-D array")
    small, f = _at_work_scale(gray, px_per_mm)
    keypoints, descriptors = _orb(n_features).detectAndCompute(small, None)
    if descriptors is None:
        return ReferenceFeatures(np.empty((0, 2)), np.empty((0, 32), np.uint8))
    xy = np.array([k.pt for k in keypoints], dtype=float)
    return ReferenceFeatures(xy / (f * px_per_mm), descriptors)


@dataclass(frozen=True)
class FeatureFit:
    """A homography (3, 3) from form millimetres to image pixels, with its support."""

    matrix: np.ndarray
    inliers: int
    matches: int
    residual_mm: float


def align_on_reference(
    gray: np.ndarray,
    reference: ReferenceFeatures,
    *,
    px_per_mm_guess: float,
    n_features: int = 8000,
    ratio: float = 0.8,
    reprojection_mm: float = 0.8,
    min_inliers: int = 25,
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
    h, mask = cv2.findHomography(
        src.astype(np.float32), dst.astype(np.float32), cv2.RANSAC, threshold, maxIters=4000
    )
    if h is None:
        return "no consistent alignment with the reference image"
    inl = mask.ravel().astype(bool)
    if inl.sum() < min_inliers:
        return f"only {int(inl.sum())} features agree with the reference image: not this form?"
    # Refit on the inliers only, least squares, for sub-feature accuracy.
    h, _ = cv2.findHomography(src[inl].astype(np.float32), dst[inl].astype(np.float32), 0)
    proj = cv2.perspectiveTransform(src[inl][None].astype(np.float64), h)[0]
    residual_px = float(np.sqrt(((proj - dst[inl]) ** 2).sum(axis=1).mean()))
    to_full = np.diag([1 / f, 1 / f, 1.0])
    return FeatureFit(
        matrix=to_full @ h,
        inliers=int(inl.sum()),
        matches=len(good),
        residual_mm=residual_px / WORK_PX_PER_MM,
    )
