"""Draw a form over a registered scan, so a person can see every bubble sits where it should."""

from __future__ import annotations

import cv2
import numpy as np

from omr.detect.sampling import apply_transform
from omr.forms import Form, MarkerImage, ReferenceImage, TimingTrack


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
    outlines = layout.centers_xy[:, None, :] + _outline(layout) * layout.half_axes[:, None, :]
    for pts in apply_transform(matrix, outlines):
        cv2.polylines(out, [pts.round().astype(np.int32)], True, GREEN, thickness, cv2.LINE_AA)
    for pts in _landmark_outlines(form):
        px = apply_transform(matrix, pts).round().astype(np.int32)
        cv2.polylines(out, [px], True, RED, thickness, cv2.LINE_AA)
    return out


GREEN, RED = (0, 170, 0), (220, 0, 0)
_ANGLES = np.linspace(0, 2 * np.pi, 32, endpoint=False)
_CIRCLE = np.column_stack([np.cos(_ANGLES), np.sin(_ANGLES)])
_SQUARE = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])


def _outline(layout) -> np.ndarray:
    """Unit outline (N, 32, 2) per bubble: a circle, or a square (padded) for rectangles."""
    square = np.resize(_SQUARE, (32, 2))
    return np.where(layout.rectangular[:, None, None], square, _CIRCLE)


def _landmark_outlines(form: Form) -> list[np.ndarray]:
    """Polygons (P, 2) in mm around every registration mark or dash of ``form``."""
    reg = form.registration
    if isinstance(reg, ReferenceImage):
        return []
    if isinstance(reg, TimingTrack | MarkerImage):
        half = np.asarray(reg.dash if isinstance(reg, TimingTrack) else reg.mark_size) / 2
        return [c + _SQUARE * half for c in reg.landmarks_mm()]
    shapes = []
    unit = _CIRCLE if reg.shape in ("circle", "ring", "bullseye") else _SQUARE
    size = (reg.ring_size or 4.3 * reg.mark_size) if reg.shape == "bullseye" else reg.mark_size
    for centre in reg.marks:
        shapes.append(np.asarray(centre) + unit * size / 2)
    if reg.orientation_mark is not None:
        shapes.append(np.asarray(reg.orientation_mark) + _SQUARE * reg.orientation_size / 2)
    return shapes


def label_fields(image: np.ndarray, matrix: np.ndarray, form: Form) -> np.ndarray:
    """A copy of the RGB ``image`` with each field's name written by its first bubble (blue)."""
    out = image.copy()
    layout = form.layout
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:2, :2]))))
    for name, f in layout.fields.items():
        first = layout.centers_xy[f.index[0, 0]] - layout.half_axes[f.index[0, 0]] - (0, 1.0)
        x, y = apply_transform(matrix, first[None])[0]
        cv2.putText(
            out,
            name,
            (round(x), round(y)),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale * 0.22,
            (0, 60, 220),
            max(1, round(scale * 0.2)),
            cv2.LINE_AA,
        )
    return out
