"""Phone photos of a sheet: find the page in the frame, straighten it, even out the light."""

from __future__ import annotations

from itertools import combinations

import cv2
import numpy as np

from omr.forms import Form

RECTIFIED_PX_PER_MM = 8.0  # about 200 dpi: the straightened page's resolution


def find_page_quad(gray: np.ndarray, *, min_share: float = 0.15) -> np.ndarray | None:
    """Corners (4, 2) in (x, y) of the bright sheet in a photo, or None.

    Corners are ordered top-left, top-right, bottom-right, bottom-left as seen
    in the image. The sheet must cover at least ``min_share`` of the frame and
    look like a quadrilateral.

    Parameters
    ----------
    gray : (M, N) ndarray of uint8
    """
    if gray.ndim != 2 or min(gray.shape) < 50:
        return None
    scale = min(1.0, 800.0 / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    _, bright = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9))
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, kernel)  # fill the printing
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    page = max(contours, key=cv2.contourArea)
    if cv2.contourArea(page) < min_share * small.size:
        return None
    hull = cv2.convexHull(page)
    quad = None
    for eps in (0.01, 0.02, 0.03, 0.05):
        approx = cv2.approxPolyDP(hull, eps * cv2.arcLength(hull, True), True)
        if len(approx) == 4:
            quad = approx.reshape(4, 2).astype(np.float64)
            break
    if quad is None:
        return None
    return order_corners(quad) / scale


def find_mark_quad(gray: np.ndarray, *, min_fill: float = 0.86) -> np.ndarray | None:
    """Centres (4, 2) in (x, y) of the four outermost square marks in a photo, or None.

    Works at any scale and in perspective: solid dark blobs that fill their
    smallest enclosing rectangle like a square does (filled bubbles, being
    round, fill 0.785) are candidates; the four that span the largest
    quadrilateral are the corner marks. Ordered top-left, top-right,
    bottom-right, bottom-left as seen in the image.
    """
    if gray.ndim != 2 or min(gray.shape) < 50:
        return None
    scale = min(1.0, 1600.0 / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    flat = flatten_light(small, max(small.shape) / 300.0)  # window about 1/33 of the frame
    _, dark = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(dark, connectivity=8)
    candidates, areas = [], []
    for k in range(1, n):
        area = stats[k, cv2.CC_STAT_AREA]
        if area < 30 or area > 0.01 * small.size:
            continue
        x, y, w, h = stats[k, :4]
        blob = (labels[y : y + h, x : x + w] == k).astype(np.uint8)
        contours, _ = cv2.findContours(blob, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        (_, _), (rw, rh), _ = cv2.minAreaRect(contours[0])
        if rw * rh <= 0 or max(rw, rh) > 1.8 * min(rw, rh):
            continue
        if area / (rw * rh) >= min_fill:
            candidates.append(centroids[k])
            areas.append(area)
    if len(candidates) < 4:
        return None
    pts, areas = np.asarray(candidates), np.asarray(areas, dtype=float)
    # Marks are the larger squares: drop specks far smaller than the biggest ones.
    keep = areas >= 0.3 * np.sort(areas)[-min(4, len(areas))]
    pts = pts[keep]
    if len(pts) < 4:
        return None
    hull = cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2).astype(np.float64)
    if len(hull) < 4:
        return None
    best, best_area = None, 0.0
    for combo in combinations(range(len(hull)), 4):
        quad = order_corners(hull[list(combo)])
        area = cv2.contourArea(quad.astype(np.float32))
        if area > best_area:
            best, best_area = quad, area
    if best is None or best_area < 0.1 * small.size:
        return None
    return best / scale


def order_corners(xy: np.ndarray) -> np.ndarray:
    """Order four points top-left, top-right, bottom-right, bottom-left (image view)."""
    s = xy.sum(axis=1)
    d = xy[:, 0] - xy[:, 1]
    return np.array([xy[s.argmin()], xy[d.argmax()], xy[s.argmax()], xy[d.argmin()]])


def rectify_page(
    gray: np.ndarray, quad: np.ndarray, form: Form, *, corners_mm: np.ndarray | None = None
) -> np.ndarray:
    """The sheet warped to an upright page of the form's size, light evened out.

    ``quad`` (4, 2) are image points of ``corners_mm`` (the form's outermost
    marks, or the page corners when None), ordered top-left, top-right,
    bottom-right, bottom-left as seen. The quad's longer sides become the
    page's long sides; a page the wrong way up stays so (registration turns it).

    Returns (H, W) uint8 at :data:`RECTIFIED_PX_PER_MM`.
    """
    w_mm, h_mm = form.page.width, form.page.height
    if corners_mm is None:
        corners_mm = np.array([[0, 0], [w_mm, 0], [w_mm, h_mm], [0, h_mm]], dtype=float)
    tl, tr, br, bl = quad
    across = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    down = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    if (across > down) != (w_mm > h_mm):  # the sheet lies sideways in the frame
        quad = np.array([bl, tl, tr, br])
    size = (round(w_mm * RECTIFIED_PX_PER_MM), round(h_mm * RECTIFIED_PX_PER_MM))
    target = np.asarray(corners_mm, dtype=float) * RECTIFIED_PX_PER_MM - 0.5
    h = cv2.getPerspectiveTransform(quad.astype(np.float32), target.astype(np.float32))
    warped = cv2.warpPerspective(gray, h, size, flags=cv2.INTER_LINEAR, borderValue=255)
    return flatten_light(warped, RECTIFIED_PX_PER_MM)


def flatten_light(gray: np.ndarray, px_per_mm: float, *, window_mm: float = 9.0) -> np.ndarray:
    """Divide out slow changes of paper brightness (shading, vignetting, shadows).

    The paper level is estimated at 1 px/mm by a grey closing wider than any
    printed or pencil mark, smoothed, and scaled back up.

    Parameters
    ----------
    gray : (M, N) ndarray of uint8
    """
    f = 1.0 / px_per_mm
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    k = max(3, int(round(window_mm)) | 1)
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    paper = cv2.GaussianBlur(paper.astype(np.float32), (0, 0), window_mm / 2)
    paper = cv2.resize(paper, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    out = gray.astype(np.float32) / np.maximum(paper, 1.0) * 250.0
    return np.clip(out, 0, 255).astype(np.uint8)
