"""Map form millimetres to image pixels and sample the image there, vectorised."""

from __future__ import annotations

import cv2
import numpy as np

_ANGLES = np.linspace(0, 2 * np.pi, 24, endpoint=False)
ROUND_OUTLINE = np.column_stack([np.cos(_ANGLES), np.sin(_ANGLES)])  # (24, 2) on a unit circle
# On a unit square's sides, clear of the (maybe rounded) corners: six points a side.
_SIDE = np.linspace(-0.6, 0.6, 6)
RECT_OUTLINE = np.concatenate(
    [
        np.column_stack([_SIDE, -np.ones(6)]),
        np.column_stack([np.ones(6), _SIDE]),
        np.column_stack([_SIDE, np.ones(6)]),
        np.column_stack([-np.ones(6), _SIDE]),
    ]
)  # (24, 2)


def apply_transform(matrix: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Map points through a 3×3 projective matrix.

    Parameters
    ----------
    matrix : (3, 3) ndarray
        Maps homogeneous form points (x, y, 1) in mm to image (x, y, w) in pixels.
    xy : (..., 2) ndarray
        Points in (x, y) order.

    Returns
    -------
    (..., 2) ndarray of float64, mapped points in (x, y) order.
    """
    pts = np.asarray(xy, dtype=np.float64)
    flat = pts.reshape(-1, 2)
    # Contiguous factors: numpy multiplies a transposed view element by element,
    # ten times slower, to the same bits (checked on 1.5 million points); an
    # affine map's w is 1, and dividing by it changes nothing (2.4 million).
    # The offset added column by column, in place: broadcast along rows of two,
    # numpy loops over pairs, four times as slow, to the same bits.
    if matrix[2, 0] == 0 and matrix[2, 1] == 0 and matrix[2, 2] == 1:
        out = flat @ np.ascontiguousarray(matrix[:2, :2].T)
        _add_columns(out, matrix[:2, 2])
        return out.reshape(pts.shape)
    homog = flat @ np.ascontiguousarray(matrix[:, :2].T)
    _add_columns(homog, matrix[:, 2])
    out = np.empty((len(flat), 2))
    for c in range(2):  # the same division, a column at a time
        np.divide(homog[:, c], homog[:, 2], out=out[:, c])
    return out.reshape(pts.shape)


def _add_columns(rows: np.ndarray, offset: np.ndarray) -> None:
    """``rows += offset``, one column at a time."""
    for c in range(rows.shape[1]):
        rows[:, c] += offset[c]


def mm_to_px(px_per_mm: float) -> np.ndarray:
    """(3, 3) map from millimetres to pixel coordinates of an upright image (pixel centres at
    integers), as :func:`apply_transform` takes."""
    return np.array([[px_per_mm, 0.0, -0.5], [0.0, px_per_mm, -0.5], [0.0, 0.0, 1.0]])


def disc_pattern(*, spacing: float = 0.18, radius: float = 1.0) -> np.ndarray:
    """Offsets ``(S, 2)`` in (x, y) on a square lattice inside a disc of ``radius``.

    Offsets are in units of the bubble radius, so one pattern serves every
    bubble size; ``spacing`` is in the same units.
    """
    steps = np.arange(-radius, radius + 1e-9, spacing)
    gx, gy = np.meshgrid(steps, steps)
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    return pts[np.hypot(pts[:, 0], pts[:, 1]) <= radius + 1e-9]


def square_pattern(*, spacing: float = 0.18, half: float = 1.0) -> np.ndarray:
    """Offsets ``(S, 2)`` on a square lattice filling ``[-half, half]²``."""
    steps = np.linspace(-half, half, max(2, int(round(2 * half / spacing)) + 1))
    gx, gy = np.meshgrid(steps, steps)
    return np.column_stack([gx.ravel(), gy.ravel()])


def sample_image(image: np.ndarray, xy: np.ndarray, *, fill: float = 255.0) -> np.ndarray:
    """Bilinear samples of ``image`` at pixel points; outside the image gives ``fill``.

    Parameters
    ----------
    image : (M, N) or (M, N, C) ndarray of uint8
        A colour page is sampled in one pass, each channel as alone.
    xy : (..., 2) ndarray
        Pixel positions in (x, y) order (x = column, y = row).

    Returns
    -------
    (...) or (..., C) ndarray of float32
    """
    pts = np.asarray(xy)
    shape = pts.shape[:-1]
    flat = pts.reshape(-1, 2)  # cast to float32 as it is copied into the map
    # cv2.remap takes 2-D maps of fewer than 32767 rows: lay the points out in rows
    # of 256, as one two-channel map (the same samples as two one-channel maps).
    width = 256
    rows = -(-len(flat) // width)
    padded = np.empty((rows * width, 2), dtype=np.float32)
    padded[: len(flat)] = flat
    padded[len(flat) :] = 0.0
    out = cv2.remap(
        image,
        padded.reshape(rows, width, 2),
        None,
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(float(fill),) * 4,  # every channel's (a lone number fills the first only)
    )
    chans = image.shape[2:]
    return out.reshape(-1, *chans)[: len(flat)].astype(np.float32).reshape(shape + chans)
