"""Photograph a marked sheet with a phone: perspective, uneven light, a desk around it.

Coordinates: page points are millimetres from the top-left corner (x right,
y down); photo points are pixels of the *upright* photo (as
:func:`PIL.ImageOps.exif_transpose` shows it), pixel centres at integers. A
photo stored turned a quarter carries EXIF orientation 6 or 8.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from omr.simulate.marks import smooth_noise
from omr.simulate.profile import Profile
from omr.simulate.scanner import MM_PER_INCH, fold_field

EXIF_ORIENTATION = 0x0112
CORNER_MARGIN = 0.02  # page corners stay this share of the frame width inside the frame


@dataclass(frozen=True)
class Photo:
    """How one sheet was photographed.

    Attributes
    ----------
    frame_px : (int, int)
        Width and height of the upright photo (portrait, 3:4).
    corners_px : tuple of four (x, y)
        Where the page's top-left, top-right, bottom-right and bottom-left
        corners land in the upright photo (the page's own corners: on an
        upside-down photo the top-left corner is near the bottom right).
    exif_orientation : int
        1 (stored upright), 6 or 8 (pixels stored turned a quarter, EXIF says
        how to turn them back).
    brightness : float
        Mean light on the scene (1 is a well-exposed white sheet).
    gradient : (float, float)
        Light change from the frame's centre to its right and bottom edges.
    vignette : float
        Darkening at the frame's corners.
    desk_rgb : (int, int, int)
        Base colour of the desk behind the sheet.
    defocus_sigma : float
        Gaussian blur, pixels.
    motion_px, motion_angle_deg : float
        Length and direction of the motion blur.
    noise_sigma : float
        Sensor noise, grey levels.
    jpeg_quality : int
        JPEG quality of the stored photo.
    """

    frame_px: tuple[int, int]
    corners_px: tuple[tuple[float, float], ...]
    exif_orientation: int
    brightness: float
    gradient: tuple[float, float]
    vignette: float
    desk_rgb: tuple[int, int, int]
    defocus_sigma: float
    motion_px: float
    motion_angle_deg: float
    noise_sigma: float
    jpeg_quality: int

    def homography(self, page_mm: tuple[float, float]) -> np.ndarray:
        """The (3, 3) map from page millimetres to upright photo pixels (homogeneous)."""
        w, h = page_mm
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        return cv2.getPerspectiveTransform(src, np.float32(self.corners_px)).astype(float)

    def dpi(self, page_mm: tuple[float, float]) -> float:
        """The page's mean resolution in the photo, pixels per inch (from its edge lengths)."""
        c = np.asarray(self.corners_px)
        sides = np.linalg.norm(c - np.roll(c, -1, axis=0), axis=1)
        return float(sides.sum() / (2 * (page_mm[0] + page_mm[1])) * MM_PER_INCH)

    def to_truth(self) -> dict:
        """The photo's parameters as JSON-ready values."""
        return {
            "frame_px": list(self.frame_px),
            "corners_px": [list(c) for c in self.corners_px],
            "exif_orientation": self.exif_orientation,
            "brightness": self.brightness,
            "gradient": list(self.gradient),
            "vignette": self.vignette,
            "desk_rgb": list(self.desk_rgb),
            "defocus_sigma": self.defocus_sigma,
            "motion_px": self.motion_px,
            "motion_angle_deg": self.motion_angle_deg,
            "noise_sigma": self.noise_sigma,
            "jpeg_quality": self.jpeg_quality,
        }


def draw_photo(
    profile: Profile,
    rng: np.random.Generator,
    *,
    page_mm: tuple[float, float],
    upside_down: bool = False,
) -> tuple[Photo, float]:
    """How a phone photographs one sheet, drawn from ``profile``.

    The page fills ``photo_fill`` of the frame's height, turned by up to
    ``photo_rotation_max_deg`` (plus a half turn when ``upside_down``); each
    corner then moves by up to ``photo_corner_jitter`` of the page's size,
    and the whole page shrinks if needed so that the desk shows on every side.

    Returns
    -------
    photo : Photo
        The photo's parameters (values rounded as recorded).
    rotation_deg : float
        The in-plane turn before the corners moved (counter-clockwise on screen).
    """
    p = profile
    long = int(rng.integers(p.photo_long_px[0], p.photo_long_px[1] + 1))
    fw, fh = round(long * 3 / 4), long
    k = rng.uniform(*p.photo_fill) * fh / page_mm[1]  # photo pixels per page millimetre
    k = min(k, 0.92 * fw / page_mm[0])
    pw, ph = k * page_mm[0], k * page_mm[1]
    turn = float(rng.uniform(-p.photo_rotation_max_deg, p.photo_rotation_max_deg))
    theta = np.deg2rad(turn + (180.0 if upside_down else 0.0))
    rot = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
    local = np.array([[-pw, -ph], [pw, -ph], [pw, ph], [-pw, ph]]) / 2
    centre = np.array([fw, fh]) / 2 + rng.uniform(-0.04, 0.04, 2) * (fw, fh)
    jitter = rng.uniform(-1.0, 1.0, (4, 2)) * p.photo_corner_jitter * np.array([pw, ph])
    corners = centre + local @ rot.T + jitter
    # keep the whole page inside the frame with a strip of desk on every side
    m = CORNER_MARGIN * fw
    mid = (corners.min(axis=0) + corners.max(axis=0)) / 2
    half = (corners.max(axis=0) - corners.min(axis=0)) / 2
    room = np.array([fw, fh]) / 2 - m
    shrink = min(1.0, *(room / half))
    corners = mid + (corners - mid) * shrink
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    corners += np.clip(m - lo, 0, None) - np.clip(hi - (np.array([fw, fh]) - m), 0, None)
    orientation = 1
    if rng.random() < p.p_photo_exif_rotated:
        orientation = int(rng.choice([6, 8]))
    desk = np.asarray(p.photo_desks[int(rng.integers(len(p.photo_desks)))], dtype=float)
    desk = np.clip(desk * rng.uniform(0.85, 1.15), 0, 255)
    photo = Photo(
        frame_px=(fw, fh),
        corners_px=tuple((round(float(x), 2), round(float(y), 2)) for x, y in corners),
        exif_orientation=orientation,
        brightness=round(float(rng.uniform(*p.photo_brightness)), 3),
        gradient=tuple(
            round(float(g), 3) for g in rng.uniform(*p.photo_gradient, 2) * rng.choice([-1, 1], 2)
        ),
        vignette=round(float(rng.uniform(*p.photo_vignette)), 3),
        desk_rgb=tuple(int(round(c)) for c in desk),
        defocus_sigma=round(float(rng.uniform(*p.photo_defocus_sigma)), 3),
        motion_px=round(float(rng.uniform(*p.photo_motion_px)), 2),
        motion_angle_deg=round(float(rng.uniform(0, 180)), 1),
        noise_sigma=round(float(rng.uniform(*p.photo_noise_sigma)), 3),
        jpeg_quality=int(rng.integers(p.photo_jpeg_quality[0], p.photo_jpeg_quality[1] + 1)),
    )
    return photo, round(turn, 3)


def _desk(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Light over a textured desk, about 1: blotches, a wood-like grain, fine noise; float32."""
    small = (max(height // 4, 1), max(width // 4, 1))
    blotch = 1.0 + 0.12 * smooth_noise(small, 5, rng)
    yy, xx = np.mgrid[: small[0], : small[1]].astype(np.float32)
    a = rng.uniform(0, np.pi)
    u = xx * np.cos(a) + yy * np.sin(a)
    period = rng.uniform(6.0, 20.0)
    wobble = 0.8 * smooth_noise(small, 6, rng)
    grain = 1.0 + rng.uniform(0.0, 0.08) * np.sin(2 * np.pi * (u + wobble * period) / period)
    light = cv2.resize(blotch * grain, (width, height), interpolation=cv2.INTER_LINEAR)
    light += 0.02 * rng.standard_normal((height, width), dtype=np.float32)
    return light


def _motion_kernel(length: float, angle_deg: float) -> np.ndarray:
    """A normalised line kernel of ``length`` pixels at ``angle_deg``."""
    n = int(np.ceil(length)) | 1
    kernel = np.zeros((n, n), dtype=np.float32)
    c = (n - 1) / 2
    a = np.deg2rad(angle_deg)
    d = length / 2 * np.array([np.cos(a), np.sin(a)])
    p0 = np.rint((np.array([c, c]) - d) * 16).astype(np.int32)
    p1 = np.rint((np.array([c, c]) + d) * 16).astype(np.int32)
    cv2.line(kernel, tuple(int(v) for v in p0), tuple(int(v) for v in p1), 1.0, 1, cv2.LINE_AA, 4)
    return kernel / max(float(kernel.sum()), 1e-6)


def photograph_page(
    page: np.ndarray,
    photo: Photo,
    *,
    page_mm: tuple[float, float],
    paper_white: float,
    tint: tuple[float, float, float],
    folds: tuple = (),
    source_dpi: float = 300.0,
    rng: np.random.Generator,
) -> np.ndarray:
    """Photograph a marked page: the upright colour photo.

    Parameters
    ----------
    page : (M, N) or (M, N, 3) ndarray of uint8
        The sheet rendered at ``source_dpi``, grey or RGB (ink), top-left at
        pixel (0, 0).
    photo : Photo
        Where the page lands and how it is lit, blurred and noised.
    page_mm : (float, float)
        Page width and height in millimetres.
    paper_white, tint
        Grey level of the paper and its colour multipliers (R, G, B).
    folds : tuple of omr.simulate.scanner.Fold
        Creases in the paper.
    rng : numpy.random.Generator
        Source of the desk's texture and the sensor noise.

    Returns
    -------
    (H, W, 3) ndarray of uint8
        The upright photo, ``(W, H) == photo.frame_px``.
    """
    rgb = page.ndim == 3 and page.shape[2] == 3
    if not (page.ndim == 2 or rgb) or page.dtype != np.uint8:
        raise ValueError(
            f"page must be a 2-D or (M, N, 3) uint8 array, got {page.dtype} {page.shape}"
        )
    fw, fh = photo.frame_px
    # reduce the page first, to a little more than its largest size in the photo
    corners = np.asarray(photo.corners_px)
    sides = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)
    px_per_mm = 1.2 * max(sides[0], sides[2]) / page_mm[0]
    src = page
    if px_per_mm < page.shape[1] / page_mm[0]:
        size = (max(1, round(page_mm[0] * px_per_mm)), max(1, round(page_mm[1] * px_per_mm)))
        src = cv2.resize(page, size, interpolation=cv2.INTER_AREA)
    fx, fy = page_mm[0] / src.shape[1], page_mm[1] / src.shape[0]
    sheet = src.astype(np.float32)
    if folds:
        crease = fold_field(src.shape[:2], (fx, fy), folds)
        sheet *= crease[..., None] if rgb else crease
    sheet *= paper_white / 255.0
    to_mm = np.array([[fx, 0.0, 0.5 * fx], [0.0, fy, 0.5 * fy], [0.0, 0.0, 1.0]])
    h = photo.homography(page_mm) @ to_mm
    # pixel centres at integers on both sides: the homography's output is already in
    # that convention, the input's half-pixel shift is in ``to_mm``
    warp = dict(flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    sheet = cv2.warpPerspective(sheet, h, (fw, fh), **warp)
    mask = cv2.warpPerspective(np.ones(src.shape[:2], np.float32), h, (fw, fh), **warp)
    # light on the scene: brightness, a linear gradient and a vignette
    u = (np.arange(fw, dtype=np.float32) - fw / 2) / (fw / 2)
    v = (np.arange(fh, dtype=np.float32) - fh / 2) / (fh / 2)
    field = photo.brightness * (
        1.0 + photo.gradient[0] * u[None, :] + photo.gradient[1] * v[:, None]
    )
    field *= 1.0 - photo.vignette * (u[None, :] ** 2 + v[:, None] ** 2) / 2
    # channel c: lit sheet tinted as a scanner tints it, sheet * (1 - sheet / 255 * (1 - t_c)),
    # over the lit desk; computed from grey planes, the colour only at the end
    lit_sheet = field * mask
    if rgb:  # an RGB sheet: the same per channel, from its own plane
        lit_desk = field * (1.0 - mask) * _desk(fw, fh, rng)
        planes = zip(tint, photo.desk_rgb, range(3), strict=True)
        img = np.stack(
            [
                lit_sheet * sheet[..., i] * (1.0 - (1 - t) * sheet[..., i] / 255.0) + c * lit_desk
                for t, c, i in planes
            ],
            axis=-1,
        )
    else:
        lit_square = lit_sheet * (sheet * sheet / 255.0)
        lit_sheet *= sheet
        lit_desk = field * (1.0 - mask) * _desk(fw, fh, rng)
        planes = zip(tint, photo.desk_rgb, strict=True)
        img = np.stack(
            [lit_sheet - (1 - t) * lit_square + c * lit_desk for t, c in planes], axis=-1
        )
    if photo.motion_px >= 1.0:
        img = cv2.filter2D(img, -1, _motion_kernel(photo.motion_px, photo.motion_angle_deg))
    if photo.defocus_sigma > 0.05:
        img = cv2.GaussianBlur(img, (0, 0), photo.defocus_sigma)
    img += photo.noise_sigma * rng.standard_normal(img.shape, dtype=np.float32)
    np.rint(img, out=img)
    return np.clip(img, 0, 255, out=img).astype(np.uint8)


def encode_photo(upright: np.ndarray, photo: Photo) -> bytes:
    """JPEG bytes of a photo, its pixels turned as ``photo.exif_orientation`` says.

    Orientation 6 means "turn 90° clockwise to view", so the pixels are
    stored turned 90° counter-clockwise; 8 is the reverse. No resolution is
    recorded (a photo has none); Pillow then reports 72 dpi, as it does for
    real phone photos.
    """
    turns = {1: 0, 6: 1, 8: -1}[photo.exif_orientation]
    stored = np.ascontiguousarray(np.rot90(upright, turns))
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = photo.exif_orientation
    buf = io.BytesIO()
    Image.fromarray(stored).save(
        buf, "JPEG", quality=photo.jpeg_quality, exif=exif.tobytes(), optimize=True
    )
    return buf.getvalue()
