"""Turn a marked page into a scan: placement on the glass, resolution, optics, noise, colour.

Coordinates: page points are millimetres from the top-left corner (x right,
y down); image points are pixels with pixel centres at integer coordinates
(OpenCV's convention), so millimetres ``xy`` sit at pixel ``xy * dpi / 25.4 - 0.5``.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass

import cv2
import numpy as np
from PIL import Image

from omr.simulate.profile import Profile

MM_PER_INCH = 25.4


@dataclass(frozen=True)
class ScanParams:
    """How one sheet went through the scanner.

    The sheet is placed on the glass as follows: a page point ``p`` (mm)
    lands at ``c + shift_mm + scale * R (p - c)`` of the scan, where ``c`` is
    the page centre and ``R`` turns by ``rotation_deg`` counter-clockwise as
    seen on screen (OpenCV's ``getRotationMatrix2D`` convention), plus a half
    turn when ``upside_down``. The scan covers the page size at ``dpi``;
    what falls outside the sheet is paper white.
    """

    dpi: int
    rotation_deg: float
    shift_mm: tuple[float, float]
    scale: float
    upside_down: bool
    colour: str  # "grey" or "colour"
    paper_white: float
    tint: tuple[float, float, float]  # paper colour multipliers (R, G, B); marks stay neutral
    blur_sigma: float
    noise_sigma: float
    jpeg_quality: int

    def to_truth(self) -> dict:
        """The parameters as JSON-ready values."""
        d = asdict(self)
        d["shift_mm"] = list(self.shift_mm)
        d["tint"] = list(self.tint)
        return d


def draw_scan_params(profile: Profile, rng: np.random.Generator) -> ScanParams:
    """Scanner behaviour for one sheet, drawn from ``profile`` (values rounded as recorded)."""
    p = profile
    weights = np.asarray(p.dpi_weights, dtype=float)
    dpi = int(rng.choice(p.dpi_choices, p=weights / weights.sum()))
    rotation = float(
        np.clip(rng.normal(0, p.rotation_sd_deg), -p.rotation_max_deg, p.rotation_max_deg)
    )
    shift = rng.uniform(-p.shift_max_mm, p.shift_max_mm, 2)
    scale = rng.uniform(*p.scale)
    upside_down = bool(rng.random() < p.p_upside_down)
    colour = bool(rng.random() < p.p_colour)
    paper = rng.uniform(*p.paper_white)
    tint = (1.0, rng.uniform(*p.tint_green), rng.uniform(*p.tint_blue))
    blur = rng.uniform(*p.blur_sigma)
    noise = rng.uniform(*p.noise_sigma)
    quality = int(rng.integers(p.jpeg_quality[0], p.jpeg_quality[1] + 1))
    return ScanParams(
        dpi=dpi,
        rotation_deg=round(rotation, 3),
        shift_mm=(round(float(shift[0]), 3), round(float(shift[1]), 3)),
        scale=round(float(scale), 4),
        upside_down=upside_down,
        colour="colour" if colour else "grey",
        paper_white=round(float(paper), 1),
        tint=tuple(round(float(t), 3) for t in tint) if colour else (1.0, 1.0, 1.0),
        blur_sigma=round(float(blur), 3),
        noise_sigma=round(float(noise), 3),
        jpeg_quality=quality,
    )


def scan_size(page_mm: tuple[float, float], dpi: int) -> tuple[int, int]:
    """Width and height in pixels of a scan of a ``page_mm`` (width, height) page."""
    return round(page_mm[0] * dpi / MM_PER_INCH), round(page_mm[1] * dpi / MM_PER_INCH)


def placement_matrix(params: ScanParams, page_mm: tuple[float, float]) -> np.ndarray:
    """The affine map from page millimetres to scan pixels.

    Returns
    -------
    (2, 3) ndarray
        ``[A | b]`` with scan pixel ``xy = A @ p_mm + b`` (pixel centres at integers).
    """
    theta = np.deg2rad(params.rotation_deg + (180.0 if params.upside_down else 0.0))
    cos, sin = np.cos(theta), np.sin(theta)
    rot = params.scale * np.array([[cos, sin], [-sin, cos]])
    centre = np.asarray(page_mm, dtype=float) / 2
    k = params.dpi / MM_PER_INCH
    a = k * rot
    b = k * (centre + np.asarray(params.shift_mm) - rot @ centre) - 0.5
    return np.column_stack([a, b])


def scan_page(
    page: np.ndarray,
    params: ScanParams,
    *,
    page_mm: tuple[float, float],
    source_dpi: float = 300.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Scan a marked page.

    Parameters
    ----------
    page : (M, N) ndarray of uint8
        The sheet rendered at ``source_dpi``, grayscale, top-left at pixel (0, 0).
    params : ScanParams
        The scanner's behaviour for this sheet.
    page_mm : (float, float)
        Page width and height in millimetres: the scan's canvas.
    source_dpi : float
        Resolution of ``page``.
    rng : numpy.random.Generator, optional
        Source of the sensor noise; no noise without it.

    Returns
    -------
    (H, W) or (H, W, 3) ndarray of uint8
        The scan at ``params.dpi`` (RGB when ``params.colour == "colour"``),
        with ``(W, H) == scan_size(page_mm, params.dpi)``.
    """
    if page.ndim != 2 or page.dtype != np.uint8:
        raise ValueError(f"page must be a 2-D uint8 array, got {page.dtype} {page.shape}")
    src = page
    # page pixel -> page mm, for the (possibly reduced) source
    fx = fy = MM_PER_INCH / source_dpi
    if params.dpi < source_dpi:
        size = (
            max(1, round(page.shape[1] * params.dpi / source_dpi)),
            max(1, round(page.shape[0] * params.dpi / source_dpi)),
        )
        src = cv2.resize(page, size, interpolation=cv2.INTER_AREA)
        fx = fx * page.shape[1] / size[0]
        fy = fy * page.shape[0] / size[1]
    to_mm = np.array([[fx, 0.0, 0.5 * fx], [0.0, fy, 0.5 * fy], [0.0, 0.0, 1.0]])
    m = placement_matrix(params, page_mm) @ to_mm
    width, height = scan_size(page_mm, params.dpi)
    img = cv2.warpAffine(
        src.astype(np.float32),
        m,
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255.0,
    )
    img *= params.paper_white / 255.0
    if params.colour == "colour":
        light = img / 255.0
        img = np.stack([img * (1.0 - light * (1.0 - t)) for t in params.tint], axis=-1)
    if params.blur_sigma > 0.05:
        img = cv2.GaussianBlur(img, (0, 0), params.blur_sigma)
    if rng is not None and params.noise_sigma > 0:
        img += params.noise_sigma * rng.standard_normal(img.shape, dtype=np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def encode_jpeg(image: np.ndarray, *, quality: int, dpi: int) -> bytes:
    """JPEG bytes of a grey ``(H, W)`` or RGB ``(H, W, 3)`` uint8 image, ``dpi`` recorded."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=int(quality), dpi=(dpi, dpi), optimize=True)
    return buf.getvalue()
