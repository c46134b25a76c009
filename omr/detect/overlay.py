"""Draw a form over a registered scan, so a person can see every bubble sits where it should."""

from __future__ import annotations

import cv2
import numpy as np

from omr.detect.sampling import apply_transform
from omr.forms import Form


def overlay(image: np.ndarray, matrix: np.ndarray, form: Form) -> np.ndarray:
    """A colour copy of ``image`` with the form's bubbles (green) and marks (red) drawn on it.

    Parameters
    ----------
    image : (M, N) or (M, N, 3) ndarray of uint8
        The scan (RGB when colour).
    matrix : (3, 3) ndarray
        Form millimetres → image pixels.

    Returns
    -------
    (M, N, 3) ndarray of uint8, RGB.
    """
    out = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image.copy()
    layout = form.layout
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:2, :2]))))
    thickness = max(1, round(scale * 0.15))
    centres = apply_transform(matrix, layout.centers_xy)
    for (x, y), r in zip(centres, layout.radius * scale, strict=True):
        cv2.circle(out, (round(x), round(y)), max(1, round(r)), (0, 170, 0), thickness, cv2.LINE_AA)
    reg = form.registration
    squares = [(m, reg.mark_size) for m in reg.marks] + [
        (reg.orientation_mark, reg.orientation_size)
    ]
    for centre, side in squares:
        half = side / 2
        corners = np.asarray(centre) + np.array(
            [[-half, -half], [half, -half], [half, half], [-half, half]]
        )
        pts = apply_transform(matrix, corners).round().astype(np.int32)
        cv2.polylines(out, [pts], True, (220, 0, 0), thickness, cv2.LINE_AA)
    return out
