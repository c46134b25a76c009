"""Turn a marked page into a scan: placement on the glass, resolution, optics, noise, colour.

Also the harder scanners: folds in the paper, the lid's shadow along an edge,
1-bit (bilevel) storage; and a scanner's own colour response (gains, gamma,
black level, saturation per channel). A page with ink arrives in RGB: a
colour scan keeps its colour, a grey scan sees its luminance, a 1-bit scan
only what survives the threshold. Coordinates: page points are millimetres from the
top-left corner (x right, y down); image points are pixels with pixel centres
at integer coordinates (OpenCV's convention), so millimetres ``xy`` sit at
pixel ``xy * dpi / 25.4 - 0.5``.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, replace

import cv2
import numpy as np
from PIL import Image

from omr.simulate.pens import LUMA
from omr.simulate.profile import Profile

MM_PER_INCH = 25.4
PAPER_HEADROOM = 0.96  # a dithering scanner turns 96 % of the paper's median grey to white


FOLD_LINES = ((True, 1 / 2), (True, 1 / 3), (True, 2 / 3), (False, 1 / 2))
"""Where sheets are folded: (across the page?, share of the side): in half, in three, lengthwise."""


@dataclass(frozen=True)
class Fold:
    """A crease across the sheet, from one page edge to the other (page millimetres).

    Across the crease line (``width_mm`` wide) the paper darkens by
    ``depth``; a ridge beside it brightens by ``highlight``; the facet on the
    ``shade_side`` (+1: the side the line's left-hand normal points to, -1:
    the other) is darkened by ``shade``, fading over ``shade_mm``.
    """

    from_mm: tuple[float, float]
    to_mm: tuple[float, float]
    depth: float
    highlight: float
    width_mm: float
    shade: float
    shade_mm: float
    shade_side: int

    def to_truth(self) -> dict:
        """The crease as JSON-ready values."""
        d = asdict(self)
        d["from_mm"], d["to_mm"] = list(self.from_mm), list(self.to_mm)
        return d


@dataclass(frozen=True)
class Shadow:
    """The scanner lid's shadow: ``strength`` darkening at the ``edge`` of the scan, fading
    over ``width_mm`` (``edge`` is ``left``, ``right``, ``top`` or ``bottom`` of the image)."""

    edge: str
    strength: float
    width_mm: float


@dataclass(frozen=True)
class Response:
    """A scanner's colour response: how it maps the light it sees to stored levels.

    On levels ``v`` of 0..1 per channel (R, G, B): ``black + (1 - black) *
    gain * v ** gamma``, then colour saturation scaled by ``saturation``
    around the luminance. A grey scan applies the luminance-weighted mean of
    gain, gamma and black level.
    """

    gain: tuple[float, float, float]
    gamma: tuple[float, float, float]
    black: tuple[float, float, float]
    saturation: float

    def to_truth(self) -> dict:
        """The response as JSON-ready values."""
        return {
            "gain": list(self.gain),
            "gamma": list(self.gamma),
            "black": list(self.black),
            "saturation": self.saturation,
        }


def apply_response(img: np.ndarray, response: Response) -> np.ndarray:
    """``img`` (grey (H, W) or RGB (H, W, 3) float levels 0..255) through ``response``.

    Returns
    -------
    ndarray of float32
        The same shape, levels 0..255 (not rounded).
    """
    v = np.clip(img, 0.0, 255.0) / 255.0
    gain, gamma, black = (
        np.asarray(x, dtype=np.float32) for x in (response.gain, response.gamma, response.black)
    )
    if img.ndim == 2:
        gain, gamma, black = (np.float32(LUMA @ x) for x in (gain, gamma, black))
        return (255.0 * (black + (1.0 - black) * gain * v**gamma)).astype(np.float32)
    v = black + (1.0 - black) * gain * v**gamma
    if response.saturation != 1.0:
        y = (v @ LUMA.astype(np.float32))[..., None]
        v = y + np.float32(response.saturation) * (v - y)
    return (255.0 * v).astype(np.float32)


@dataclass(frozen=True)
class ScanParams:
    """How one sheet went through the scanner.

    The sheet is placed on the glass as follows: a page point ``p`` (mm)
    lands at ``c + shift_mm + scale * R (p - c)`` of the scan, where ``c`` is
    the page centre and ``R`` turns by ``rotation_deg`` counter-clockwise as
    seen on screen (OpenCV's ``getRotationMatrix2D`` convention), plus a half
    turn when ``upside_down``. The scan covers the page size at ``dpi``;
    what falls outside the sheet is paper white.

    The harder scanners add ``fold`` (creases in the paper), ``shadow`` (the
    lid's) and ``bilevel`` storage: thresholded at ``bilevel_threshold``,
    dithered when ``dither``, always grey, ``jpeg_quality`` None. A phone
    photo carries its :class:`omr.simulate.photo.Photo` in ``photo``. A
    scanner with a colour response of its own carries it in ``response``
    (None: the identity).
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
    jpeg_quality: int | None
    fold: tuple[Fold, ...] = ()
    shadow: Shadow | None = None
    bilevel: bool = False
    bilevel_threshold: float | None = None
    dither: bool = False
    photo: object | None = None  # omr.simulate.photo.Photo (kept loose: no import cycle)
    response: Response | None = None

    def to_truth(self) -> dict:
        """The parameters as JSON-ready values."""
        d = asdict(self)
        d["shift_mm"] = list(self.shift_mm)
        d["tint"] = list(self.tint)
        d["fold"] = [f.to_truth() for f in self.fold]
        d["photo"] = self.photo.to_truth() if self.photo is not None else None
        d["response"] = self.response.to_truth() if self.response is not None else None
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


def draw_scan_extras(
    params: ScanParams,
    profile: Profile,
    rng: np.random.Generator,
    *,
    page_mm: tuple[float, float],
    photo: bool = False,
) -> ScanParams:
    """Add the harder scanners' folds, shadow and bilevel storage to ``params``.

    ``rng`` is a stream of its own; with every share at 0 it is not used and
    ``params`` comes back unchanged. A photographed sheet (``photo``) gets
    folds only: no lid, no 1-bit storage.
    """
    p = profile
    folds: tuple[Fold, ...] = ()
    if p.p_fold > 0 and rng.random() < p.p_fold:
        n = int(rng.integers(p.folds_per_sheet[0], p.folds_per_sheet[1] + 1))
        lines = [FOLD_LINES[i] for i in rng.permutation(len(FOLD_LINES))]
        chosen: list[tuple[bool, float]] = []
        for across, at in lines:
            # one crease per third or half of a side: no two creases a few mm apart
            if len(chosen) < n and all(a != across or abs(t - at) > 0.2 for a, t in chosen):
                chosen.append((across, at))
        folds = tuple(_draw_fold(p, rng, page_mm, across=a, at=t) for a, t in chosen)
    shadow = None
    if not photo and p.p_shadow > 0 and rng.random() < p.p_shadow:
        shadow = Shadow(
            edge=str(rng.choice(["left", "right", "top", "bottom"])),
            strength=round(float(rng.uniform(*p.shadow_strength)), 3),
            width_mm=round(float(rng.uniform(*p.shadow_width_mm)), 2),
        )
    bilevel = not photo and p.p_bilevel > 0 and bool(rng.random() < p.p_bilevel)
    if bilevel:
        params = replace(
            params,
            colour="grey",
            tint=(1.0, 1.0, 1.0),
            jpeg_quality=None,
            bilevel=True,
            bilevel_threshold=round(float(rng.uniform(*p.bilevel_threshold)), 1),
            dither=bool(rng.random() < p.p_dither),
        )
    if folds or shadow is not None:
        params = replace(params, fold=folds, shadow=shadow)
    return params


def draw_scan_response(
    params: ScanParams, profile: Profile, rng: np.random.Generator
) -> ScanParams:
    """Give ``params`` the profile's colour response (unchanged when the profile has none).

    ``rng`` is a stream of its own, used only when the response is on: each
    channel's gain varies by ``response_jitter`` from scan to scan.
    """
    p = profile
    if not p.colour_response:
        return params
    gain = np.asarray(p.response_gain, dtype=float)
    if p.response_jitter > 0:
        gain = gain * (1.0 + rng.normal(0.0, p.response_jitter, 3))
    response = Response(
        gain=tuple(round(float(g), 4) for g in gain),
        gamma=tuple(float(g) for g in p.response_gamma),
        black=tuple(float(b) for b in p.response_black),
        saturation=float(p.response_saturation),
    )
    return replace(params, response=response)


def _draw_fold(
    p: Profile,
    rng: np.random.Generator,
    page_mm: tuple[float, float],
    *,
    across: bool,
    at: float,
) -> Fold:
    """One crease, ``across`` the page (or along it) near ``at`` of the other side's length."""
    w, h = page_mm
    length, span = (w, h) if across else (h, w)
    at = span * (at + rng.normal(0.0, 0.03))
    drift = length * np.tan(np.deg2rad(rng.uniform(-p.fold_tilt_deg, p.fold_tilt_deg)))
    a, b = (0.0, at - drift / 2), (length, at + drift / 2)
    if not across:
        a, b = a[::-1], b[::-1]
    return Fold(
        from_mm=(round(float(a[0]), 2), round(float(a[1]), 2)),
        to_mm=(round(float(b[0]), 2), round(float(b[1]), 2)),
        depth=round(float(rng.uniform(*p.fold_depth)), 3),
        highlight=round(float(rng.uniform(*p.fold_highlight)), 3),
        width_mm=round(float(rng.uniform(*p.fold_width_mm)), 2),
        shade=round(float(rng.uniform(*p.fold_shade)), 3),
        shade_mm=round(float(rng.uniform(*p.fold_shade_mm)), 1),
        shade_side=int(rng.choice([-1, 1])),
    )


def fold_field(
    shape: tuple[int, int], mm_per_px: tuple[float, float], folds: tuple[Fold, ...]
) -> np.ndarray:
    """Light factor (about 1; below on creases and shaded facets) over a page image.

    Parameters
    ----------
    shape : (int, int)
        Rows and columns of the page image, whose pixel ``(r, c)`` covers page
        millimetres ``((c + 0.5) fx, (r + 0.5) fy)`` for ``mm_per_px = (fx, fy)``.
    folds : tuple of Fold
        The creases.

    Returns
    -------
    (M, N) ndarray of float32
        Multiply the page by it.
    """
    fx, fy = mm_per_px
    x = ((np.arange(shape[1]) + 0.5) * fx).astype(np.float32)
    y = ((np.arange(shape[0]) + 0.5) * fy).astype(np.float32)
    field = np.ones(shape, dtype=np.float32)
    for f in folds:
        a, b = np.asarray(f.from_mm), np.asarray(f.to_mm)
        d = (b - a) / np.linalg.norm(b - a)
        nx, ny = -d[1], d[0]  # left-hand normal of the line's direction
        dist = (nx * x)[None, :] + (ny * y)[:, None] - np.float32(nx * a[0] + ny * a[1])
        w = f.width_mm / 2
        crease = f.depth * np.exp(-0.5 * (dist / w) ** 2)
        ridge = f.highlight * np.exp(-0.5 * ((dist + f.shade_side * 3 * w) / (1.5 * w)) ** 2)
        side = np.maximum(f.shade_side * dist, 0.0)
        facet = np.where(side > 0, f.shade * np.exp(-side / f.shade_mm), 0.0)
        field *= (1.0 - crease + ridge - facet).astype(np.float32)
    return field


def shadow_field(width: int, height: int, dpi: int, shadow: Shadow) -> np.ndarray:
    """Light factor of the lid's shadow over a ``(height, width)`` scan, broadcastable."""
    horizontal = shadow.edge in ("left", "right")
    n = width if horizontal else height
    dist = (np.arange(n) + 0.5) * MM_PER_INCH / dpi
    if shadow.edge in ("right", "bottom"):
        dist = dist[::-1]
    light = (1.0 - shadow.strength * np.exp(-dist / shadow.width_mm)).astype(np.float32)
    return light[None, :] if horizontal else light[:, None]


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


def _source_and_placement(page, params, page_mm, source_dpi):
    """The page reduced towards the scan's dpi (never enlarged), its mm per pixel, and the
    matrix from its pixels to the scan's (page pixel -> page mm -> scan)."""
    src = page
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
    return src, fx, fy, placement_matrix(params, page_mm) @ to_mm


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
    page : (M, N) or (M, N, 3) ndarray of uint8
        The sheet rendered at ``source_dpi``, grey or RGB (ink), top-left at
        pixel (0, 0). A grey scan of an RGB page sees its luminance.
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
    rgb = page.ndim == 3 and page.shape[2] == 3
    if not (page.ndim == 2 or rgb) or page.dtype != np.uint8:
        raise ValueError(
            f"page must be a 2-D or (M, N, 3) uint8 array, got {page.dtype} {page.shape}"
        )
    if rgb and params.colour != "colour":
        page = luminance(page)
    elif rgb:
        return _scan_rgb(page, params, page_mm=page_mm, source_dpi=source_dpi, rng=rng)
    src, fx, fy, m = _source_and_placement(page, params, page_mm, source_dpi)
    width, height = scan_size(page_mm, params.dpi)
    if params.fold:
        src = src.astype(np.float32) * fold_field(src.shape, (fx, fy), params.fold)
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
    if params.shadow is not None:
        light = shadow_field(width, height, params.dpi, params.shadow)
        img *= light[..., None] if img.ndim == 3 else light
    if params.blur_sigma > 0.05:
        img = cv2.GaussianBlur(img, (0, 0), params.blur_sigma)
    if rng is not None and params.noise_sigma > 0:
        img += params.noise_sigma * rng.standard_normal(img.shape, dtype=np.float32)
    if params.response is not None:
        img = apply_response(img, params.response)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Grey ``(M, N)`` uint8 luminance (ITU-R BT.601) of an RGB ``(M, N, 3)`` uint8 image."""
    grey = rgb.astype(np.float32) @ LUMA.astype(np.float32)
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8)


def _scan_rgb(
    page: np.ndarray,
    params: ScanParams,
    *,
    page_mm: tuple[float, float],
    source_dpi: float,
    rng: np.random.Generator | None,
) -> np.ndarray:
    """:func:`scan_page` of an RGB page in colour: the same steps, channel by channel."""
    src, fx, fy, m = _source_and_placement(page, params, page_mm, source_dpi)
    width, height = scan_size(page_mm, params.dpi)
    img = src.astype(np.float32)
    if params.fold:
        img *= fold_field(src.shape[:2], (fx, fy), params.fold)[..., None]
    img = cv2.warpAffine(
        img,
        m,
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(255.0, 255.0, 255.0),
    )
    img *= params.paper_white / 255.0
    # the paper's tint, as on a grey page: bright (paper) levels take it, dark ones do not
    tint = np.asarray(params.tint, dtype=np.float32)
    img *= 1.0 - img / 255.0 * (1.0 - tint)
    if params.shadow is not None:
        img *= shadow_field(width, height, params.dpi, params.shadow)[..., None]
    if params.blur_sigma > 0.05:
        img = cv2.GaussianBlur(img, (0, 0), params.blur_sigma)
    if rng is not None and params.noise_sigma > 0:
        img += params.noise_sigma * rng.standard_normal(img.shape, dtype=np.float32)
    if params.response is not None:
        img = apply_response(img, params.response)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def encode_jpeg(image: np.ndarray, *, quality: int, dpi: int) -> bytes:
    """JPEG bytes of a grey ``(H, W)`` or RGB ``(H, W, 3)`` uint8 image, ``dpi`` recorded."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=int(quality), dpi=(dpi, dpi), optimize=True)
    return buf.getvalue()


def to_bilevel(gray: np.ndarray, *, threshold: float, dither: bool = False) -> np.ndarray:
    """A 1-bit version of a grey scan, as a bilevel scanner stores it.

    Parameters
    ----------
    gray : (M, N) ndarray of uint8
        The grey scan.
    threshold : float
        Grey level below which a pixel turns black.
    dither : bool
        Floyd–Steinberg error diffusion instead of a plain threshold: the
        paper level (the median) is first stretched a little past white, then
        ``(threshold - 128) / 2`` darkens the result; mid-greys (faint marks,
        residue, grey print) become dot patterns, paper stays white.

    Returns
    -------
    (M, N) ndarray of bool
        True where the pixel is white.
    """
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError(f"gray must be a 2-D uint8 array, got {gray.dtype} {gray.shape}")
    if not dither:
        return gray >= threshold
    # like a scanner's halftone mode: the paper (the median, most of a sheet) is set a
    # little above white first, so that only marks and print turn into dot patterns;
    # a higher threshold darkens what is left
    white = max(float(np.median(gray)), 1.0) * PAPER_HEADROOM
    level = gray.astype(np.float32) * (255.0 / white) - (threshold - 128.0) / 2
    shifted = np.clip(np.rint(level), 0, 255).astype(np.uint8)
    im = Image.fromarray(shifted).convert("1", dither=Image.Dither.FLOYDSTEINBERG)
    return np.asarray(im, dtype=bool)


def encode_bilevel_png(white: np.ndarray, *, dpi: int) -> bytes:
    """1-bit PNG bytes (bit 1 white) of a ``(H, W)`` bool image, ``dpi`` recorded."""
    buf = io.BytesIO()
    Image.fromarray(np.asarray(white, dtype=bool)).save(buf, "PNG", dpi=(dpi, dpi), optimize=True)
    return buf.getvalue()
