"""Pen models: graphite of several hardnesses, ballpoint, gel and felt-tip ink.

Article 7.7 allows dark black pencil only; the simulator draws the other pens
too, so that a reader can be measured on telling them apart. A pen is a
colour (relative absorbance per channel), a density and a texture:

- **graphite** is opaque grey flakes covering part of the paper: the light
  reflected falls linearly with the covered share, the same in every channel
  (``I_c = I (1 - d s)``, ``s`` the local amount, ``d`` the darkness). Its
  texture is grainy (the paper's tooth), with a few lighter specks where the
  burnished graphite shines back at the scanner's lamp;
- **ink** is a dye layer: each channel is absorbed exponentially
  (Beer–Lambert, ``I_c = I 10^(-D k_c s)``), with ``k_c`` the pen's relative
  absorbance (blue ink takes red and green, red ink green and blue) and
  ``D = -log10(1 - d)``, so that ``d`` is the share of light taken in the most
  absorbed channel at a full stroke. Ballpoint fills show the parallel lines
  of the strokes, gel is smooth, felt-tip flat and bleeding a little.

Nothing here imports the rest of the simulator: :mod:`omr.simulate.profile`
holds the catalogue (:data:`PENS`) as one of its knobs.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Range = tuple[float, float]
LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601: how a grey scanner mixes R, G, B
PENCIL, INK = "pencil", "ink"


@dataclass(frozen=True)
class Pen:
    """One writing instrument.

    Attributes
    ----------
    name : str
        The pen's name in the truth (``HB``, ``blue-ballpoint``, …).
    medium : str
        ``pencil`` (graphite: linear, neutral) or ``ink`` (dye: Beer–Lambert).
    absorbance : (float, float, float)
        Relative absorbance of red, green and blue light (largest 1); graphite
        is ``(1, 1, 1)``.
    density : (float, float)
        Darkness of a full stroke (share of light taken in the most absorbed
        channel) from the lightest to the heaviest hand.
    grain : (float, float)
        Pixel-to-pixel variation of the amount laid down, ``±grain`` (graphite's
        grain; next to nothing for ink).
    tooth : float
        Share of the grain that is smooth over about two pixels (the paper's
        tooth catching graphite) rather than pixel noise.
    sheen : float
        Share of a graphite mark's area that shines back as lighter specks.
    sheen_depth : (float, float)
        How much lighter a speck is, as a share of the local amount.
    stroke_spacing_mm : (float, float)
        Distance between the parallel strokes of a fill (ballpoint, gel).
    stroke_contrast : (float, float)
        Contrast of those strokes (0: no strokes visible).
    mottle : float
        Amplitude of a smooth unevenness across the mark.
    bleed_mm : (float, float)
        Width of the halo the ink spreads beyond the stroke (felt-tip; 0 none).
    bleed_strength : float
        Amount of ink in the halo, as a share of the stroke's, at its edge.
    """

    name: str
    medium: str
    absorbance: tuple[float, float, float]
    density: Range
    grain: Range = (0.0, 0.0)
    tooth: float = 0.0
    sheen: float = 0.0
    sheen_depth: Range = (0.0, 0.0)
    stroke_spacing_mm: Range = (0.3, 0.4)
    stroke_contrast: Range = (0.0, 0.0)
    mottle: float = 0.0
    bleed_mm: Range = (0.0, 0.0)
    bleed_strength: float = 0.0

    def transmittance(self, darkness: float) -> np.ndarray:
        """Share of red, green and blue light a full stroke of ``darkness`` lets through, (3,)."""
        k = np.asarray(self.absorbance, dtype=float)
        d = float(np.clip(darkness, 0.0, 0.995))
        if self.medium == PENCIL:
            return 1.0 - d * k
        return (1.0 - d) ** k

    def grey_darkness(self, darkness: float) -> float:
        """Darkness of a full stroke on a grey scan (luminance of :meth:`transmittance`)."""
        return float(1.0 - LUMA @ self.transmittance(darkness))


PENS: tuple[Pen, ...] = (
    # graphite: HB is harder and lighter, 2B softer, darker and shinier; both neutral grey
    Pen(
        "HB",
        PENCIL,
        (1.0, 1.0, 1.0),
        density=(0.45, 0.72),
        grain=(0.18, 0.32),
        tooth=0.5,
        sheen=0.02,
        sheen_depth=(0.3, 0.55),
    ),
    Pen(
        "2B",
        PENCIL,
        (1.0, 1.0, 1.0),
        density=(0.6, 0.85),
        grain=(0.12, 0.26),
        tooth=0.5,
        sheen=0.04,
        sheen_depth=(0.35, 0.6),
    ),
    # ballpoint: dye paste, strokes visible as parallel lines across a fill
    Pen(
        "blue-ballpoint",
        INK,
        (1.0, 0.85, 0.35),
        density=(0.72, 0.9),
        grain=(0.02, 0.04),
        stroke_spacing_mm=(0.28, 0.42),
        stroke_contrast=(0.2, 0.4),
        mottle=0.04,
    ),
    Pen(
        "black-ballpoint",
        INK,
        (0.95, 1.0, 0.86),  # a little less blue and red absorbed: the blue-violet cast
        density=(0.85, 0.95),
        grain=(0.02, 0.04),
        stroke_spacing_mm=(0.28, 0.42),
        stroke_contrast=(0.15, 0.35),
        mottle=0.04,
    ),
    Pen(
        "red-ballpoint",
        INK,
        (0.12, 1.0, 0.75),
        density=(0.72, 0.9),
        grain=(0.02, 0.04),
        stroke_spacing_mm=(0.28, 0.42),
        stroke_contrast=(0.2, 0.4),
        mottle=0.04,
    ),
    Pen(
        "green-ballpoint",
        INK,
        (1.0, 0.42, 0.85),
        density=(0.7, 0.88),
        grain=(0.02, 0.04),
        stroke_spacing_mm=(0.28, 0.42),
        stroke_contrast=(0.2, 0.4),
        mottle=0.04,
    ),
    # gel: pigment ink in a wide, wet line: very dark and smooth
    Pen(
        "black-gel",
        INK,
        (1.0, 1.0, 0.96),
        density=(0.93, 0.98),
        grain=(0.01, 0.02),
        stroke_spacing_mm=(0.45, 0.6),
        stroke_contrast=(0.0, 0.06),
        mottle=0.02,
    ),
    Pen(
        "blue-gel",
        INK,
        (1.0, 0.72, 0.18),
        density=(0.9, 0.96),
        grain=(0.01, 0.02),
        stroke_spacing_mm=(0.45, 0.6),
        stroke_contrast=(0.0, 0.06),
        mottle=0.02,
    ),
    # felt-tip: a flat, fully saturated black-dye layer that bleeds into the paper
    Pen(
        "felt-tip",
        INK,
        (0.97, 1.0, 0.9),
        density=(0.9, 0.97),
        grain=(0.0, 0.01),
        mottle=0.015,
        bleed_mm=(0.06, 0.15),
        bleed_strength=0.6,
    ),
)
"""The default pen catalogue (:attr:`omr.simulate.profile.Profile.pens`)."""


def pen_by_name(pens: tuple[Pen, ...], name: str) -> Pen:
    """The pen called ``name`` in ``pens``; ``KeyError`` naming the known ones otherwise."""
    for pen in pens:
        if pen.name == name:
            return pen
    raise KeyError(f"no pen {name!r}: known pens are {', '.join(p.name for p in pens)}")


def _specks(shape: tuple[int, int], share: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of 2×2-pixel specks covering about ``share`` of ``shape``."""
    h, w = shape
    cells = rng.random(((h + 1) // 2, (w + 1) // 2)) < share
    return np.repeat(np.repeat(cells, 2, axis=0), 2, axis=1)[:h, :w]


def pen_texture(
    pen: Pen,
    shape: tuple[int, int],
    rng: np.random.Generator,
    *,
    px_per_mm: float,
    grain: float | None = None,
) -> np.ndarray:
    """How much of the pen's full stroke each pixel of a mark receives (mean about 1).

    Parameters
    ----------
    pen : Pen
        The instrument.
    shape : (int, int)
        Rows and columns of the mark's patch.
    rng : numpy.random.Generator
        Source of the stroke direction, grain, mottle and specks.
    px_per_mm : float
        Resolution of the patch (stroke spacing is in millimetres).
    grain : float, optional
        Grain strength; default a draw from ``pen.grain``.

    Returns
    -------
    (M, N) ndarray of float32
        The factor to multiply the mark's shape by.
    """
    h, w = shape
    tex = np.ones(shape, dtype=np.float32)
    if pen.stroke_contrast[1] > 0:
        # the strokes of a fill: back-and-forth passes of parallel lines, the
        # return pass a little turned, each wavering
        angle = rng.uniform(0.0, np.pi)
        contrast = rng.uniform(*pen.stroke_contrast)
        yy, xx = np.mgrid[:h, :w].astype(np.float32)
        lines = np.zeros(shape, dtype=np.float32)
        for turn in (0.0, rng.normal(0.0, np.deg2rad(12.0))):
            spacing = rng.uniform(*pen.stroke_spacing_mm) * px_per_mm
            across = xx * np.cos(angle + turn) + yy * np.sin(angle + turn)
            across += 0.3 * spacing * _smooth(shape, 3, rng)
            lines += 0.25 + 0.25 * np.cos(2 * np.pi * across / spacing + rng.uniform(0, 2 * np.pi))
        tex *= (1.0 - contrast * lines) / (1.0 - contrast / 2)
    if pen.mottle > 0:
        tex *= 1.0 + pen.mottle * _smooth(shape, 4, rng)
    g = rng.uniform(*pen.grain) if grain is None else grain
    if g > 0:
        noise = 2.0 * rng.random(shape, dtype=np.float32) - 1.0
        if pen.tooth > 0:
            tooth = cv2.GaussianBlur(noise, (0, 0), 0.8)
            tooth /= max(float(np.abs(tooth).max()), 1e-6)
            noise = (1.0 - pen.tooth) * noise + pen.tooth * tooth
        tex *= 1.0 + g * noise
    if pen.sheen > 0:
        depth = rng.uniform(*pen.sheen_depth)
        specks = cv2.GaussianBlur(_specks(shape, pen.sheen, rng).astype(np.float32), (0, 0), 0.6)
        tex *= 1.0 - depth * np.clip(1.6 * specks, 0.0, 1.0)
    return tex.astype(np.float32)


def _smooth(shape: tuple[int, int], cells: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth random field about in [-1, 1] with ``cells`` bumps across (float32)."""
    grid = rng.uniform(-1.0, 1.0, (cells + 1, cells + 1)).astype(np.float32)
    return cv2.resize(grid, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def bleed(
    amount: np.ndarray, pen: Pen, rng: np.random.Generator, *, px_per_mm: float
) -> np.ndarray:
    """``amount`` with the pen's halo spread around it (unchanged for a pen that does not bleed).

    Parameters
    ----------
    amount : (M, N) ndarray of float32
        The stroke's amount, 0..1 (about).

    Returns
    -------
    (M, N) ndarray of float32
    """
    if pen.bleed_mm[1] <= 0:
        return amount
    sigma = max(rng.uniform(*pen.bleed_mm) * px_per_mm, 0.3)
    halo = cv2.GaussianBlur(amount.astype(np.float32), (0, 0), sigma)
    return np.maximum(amount, pen.bleed_strength * halo).astype(np.float32)


def apply_pen(
    page: np.ndarray, amount: np.ndarray, x0: int, y0: int, *, pen: Pen, darkness: float
) -> None:
    """Lay ``amount`` (a patch, top-left at pixel (x0, y0)) of ``pen`` on ``page``, in place.

    Parameters
    ----------
    page : (M, N) or (M, N, 3) ndarray of uint8
        Grey or RGB page. Ink on a grey page darkens it by its luminance.
    amount : (m, n) ndarray
        Share of a full stroke at each pixel (shape times texture), about 0..1.
    pen : Pen
        Graphite darkens linearly and neutrally; ink by Beer–Lambert per channel.
    darkness : float
        Darkness of a full stroke (see :class:`Pen`).
    """
    h, w = page.shape[:2]
    ah, aw = amount.shape
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x0 + aw, w), min(y0 + ah, h)
    if cx0 >= cx1 or cy0 >= cy1:
        return
    s = np.maximum(amount[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0], 0.0).astype(np.float32)
    k = np.asarray(pen.absorbance, dtype=np.float32)
    d = float(np.clip(darkness, 0.0, 0.995))
    if pen.medium == PENCIL:
        alpha = np.clip(d * s, 0.0, 0.99)
        trans = 1.0 - alpha if page.ndim == 2 else 1.0 - alpha[..., None] * k
    else:
        od = np.float32(-np.log10(1.0 - d))
        trans = np.power(np.float32(10.0), -od * s[..., None] * k)
        if page.ndim == 2:
            trans = trans @ LUMA.astype(np.float32)
    patch = page[cy0:cy1, cx0:cx1].astype(np.float32) * trans
    page[cy0:cy1, cx0:cx1] = np.clip(np.rint(patch), 0, 255).astype(np.uint8)
