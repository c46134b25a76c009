"""Evidence images: the marks a person must look at, cut from the scan, upright, with numbers."""

from __future__ import annotations

import cv2
import numpy as np

TILE_PX_PER_MM = 14.0
CAPTION_PX = 34


def crop_bubble(
    image: np.ndarray, matrix: np.ndarray, centre_xy: np.ndarray, *, half_mm: float = 3.5
) -> np.ndarray:
    """An upright square crop around a bubble, whatever the page's rotation or perspective.

    Parameters
    ----------
    image : (M, N) or (M, N, 3) ndarray of uint8
    matrix : (3, 3) ndarray
        Form millimetres → image pixels.
    centre_xy : (2,) ndarray
        Bubble centre in form millimetres.
    """
    size = int(round(2 * half_mm * TILE_PX_PER_MM))
    # crop pixel → form mm → image pixel
    to_mm = np.array(
        [
            [1 / TILE_PX_PER_MM, 0, centre_xy[0] - half_mm],
            [0, 1 / TILE_PX_PER_MM, centre_xy[1] - half_mm],
            [0, 0, 1],
        ]
    )
    return cv2.warpPerspective(
        image,
        matrix @ to_mm,
        (size, size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderValue=(255, 255, 255),
    )


def evidence_png(
    image: np.ndarray,
    matrix: np.ndarray,
    tiles: list[tuple[np.ndarray, str, str]],
) -> bytes:
    """A strip of captioned crops, as PNG bytes.

    ``tiles`` holds (bubble centre in mm, first caption line, second line);
    captions are ASCII.
    """
    crops = []
    for centre, line1, line2 in tiles:
        crop = crop_bubble(image, matrix, np.asarray(centre, dtype=float))
        if crop.ndim == 2:
            crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB)
        caption = np.full((CAPTION_PX, crop.shape[1], 3), 255, np.uint8)
        for row, text in ((13, line1), (28, line2)):
            cv2.putText(caption, text, (3, row), cv2.FONT_HERSHEY_SIMPLEX, 0.36, (0, 0, 0), 1)
        tile = np.vstack([crop, caption])
        crops.append(cv2.copyMakeBorder(tile, 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=(128,) * 3))
    strip = np.hstack(crops)
    ok, png = cv2.imencode(".png", cv2.cvtColor(strip, cv2.COLOR_RGB2BGR))
    if not ok:  # pragma: no cover - OpenCV always encodes a valid uint8 image
        raise RuntimeError("could not encode the evidence image")
    return png.tobytes()
