"""Pencil or not (article 7.7): colour evidence of each marked bubble.

Graphite is neutral grey: it absorbs red, green and blue light alike, and its
grain makes a fill uneven. Dye inks absorb unevenly (blue ballpoint takes red
and green, red ink takes green and blue), so their absorbance has a colour;
black ballpoint and gel are denser and smoother than graphite, often with a
blue-violet cast. Grey scans carry no colour, but a felt-tip marker or a gel
pen still shows what it leaves: a fill far denser than graphite and smooth,
without graphite's grain (:func:`classify_grey`); such a mark is ``ink``,
every other mark ``unknown`` (a grey scan cannot prove pencil). 1-bit scans
keep neither density nor grain: there every mark is ``unknown``.

Absorbance per channel is ``-log10(I / paper)``, so the paper's own tint and
the scanner's gains cancel out. A pen's colour scales with how much of it
lies on the paper: its *chroma* (colour saturation times density, in
absorbance) is what a mark shows of a colour of its own. Graphite shows next
to none at any density; a black ballpoint's cast, times its density, does.
The strongest evidence is the sheet itself: one correction in pen stands out
from the candidate's own pencil marks on the same sheet (its colour, its
density, its smoothness), whatever the scanner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omr.calibration import InkModel
from omr.detect import stats
from omr.detect.sampling import apply_transform, sample_image

PENCIL, INK, UNKNOWN = "pencil", "ink", "unknown"
DARK_SHARE = 0.35  # samples this share of the way to black are the mark's own


@dataclass(frozen=True, eq=False)
class MarkColour:
    """Colour evidence of K marked bubbles, arrays of shape (K,).

    ``saturation``: how unevenly the mark absorbs the three channels (0 for a
    neutral grey), relative to its mean absorbance. ``hue``: the direction of
    that unevenness in degrees, on absorbance (the complement of the colour
    seen): about 50–60 for blue inks, 190–200 for red.
    ``density``: mean absorbance of the mark's dark samples. ``texture``:
    spread of darkness among them, relative to their mean (graphite grain).
    """

    saturation: np.ndarray
    hue: np.ndarray
    density: np.ndarray
    texture: np.ndarray

    @property
    def chroma(self) -> np.ndarray:
        """Colour of the mark in absorbance units: saturation times density, (K,)."""
        return self.saturation * self.density

    def vectors(self) -> np.ndarray:
        """Colour vectors (saturation along hue) on the two opponent axes, (K, 2)."""
        hue = np.radians(self.hue)
        return np.stack([self.saturation * np.cos(hue), self.saturation * np.sin(hue)], axis=-1)

    def neutralised(
        self, a0: float, b0: float, *, da: float = 0.0, db: float = 0.0, d0: float = 0.0
    ) -> MarkColour:
        """The same marks with a scanner's cast (its pencil's colour vector) taken away.

        The cast is ``(a0, b0)`` at density ``d0`` and changes by ``(da, db)``
        per unit of density (a scanner's lifted black level tints dark marks
        more than light ones).
        """
        hue = np.radians(self.hue)
        a = self.saturation * np.cos(hue) - (a0 + da * (self.density - d0))
        b = self.saturation * np.sin(hue) - (b0 + db * (self.density - d0))
        return MarkColour(
            np.hypot(a, b), np.degrees(np.arctan2(b, a)) % 360, self.density, self.texture
        )


def neutralise(colour: MarkColour, model: InkModel) -> MarkColour:
    """``colour`` with the calibration's pencil cast (at each mark's density) taken away."""
    return colour.neutralised(
        model.neutral_a,
        model.neutral_b,
        da=model.neutral_da,
        db=model.neutral_db,
        d0=model.neutral_density,
    )


def mark_colour(
    rgb: np.ndarray,
    matrix: np.ndarray,
    points_mm: np.ndarray,
    *,
    paper_rgb: np.ndarray,
    dark_share: float = DARK_SHARE,
) -> MarkColour:
    """Colour evidence for the bubbles whose sample points are ``points_mm``.

    Parameters
    ----------
    rgb : (M, N, 3) ndarray of uint8
        The colour page.
    matrix : (3, 3) ndarray
        Form millimetres → image pixels.
    points_mm : (K, S, 2) ndarray
        Interior sample points of the K marked bubbles.
    paper_rgb : (3,) ndarray
        The page's paper colour.
    dark_share : float
        Samples darker than this share of the way to black are the mark's.
    """
    xy = apply_transform(matrix, points_mm)
    chans = sample_image(rgb, xy)  # (K, S, 3): one pass, equal to a channel at a time
    return sampled_colour(chans, paper_rgb=paper_rgb, dark_share=dark_share)


def sampled_colour(
    chans: np.ndarray, *, paper_rgb: np.ndarray, dark_share: float = DARK_SHARE
) -> MarkColour:
    """:func:`mark_colour` from the marks' samples ``chans`` (K, S, 3), already taken."""
    return _absorbance_colour(_absorbance(chans, paper_rgb), dark_share)


def _absorbance(chans: np.ndarray, paper_rgb) -> np.ndarray:
    """Absorbance of samples (K, S, C) against the paper's (C,)."""
    paper = np.maximum(np.asarray(paper_rgb, dtype=np.float64), 1.0)
    return -np.log10(np.clip(chans / paper, 1e-3, 1.0))


def _absorbance_colour(absorb: np.ndarray, dark_share: float) -> MarkColour:
    """:func:`sampled_colour` from the samples' absorbance (K, S, 3)."""
    mean_abs = absorb.mean(axis=-1)  # (K, S)
    # The mark's own samples: at least ``dark_share`` of the way from paper to black.
    dark = mean_abs >= -np.log10(1.0 - dark_share)
    dark[dark.sum(axis=1) == 0] = True  # a very light mark: use all its samples
    weight = dark[..., None].astype(float)
    per_channel = (absorb * weight).sum(axis=1) / weight.sum(axis=1)  # (K, 3)
    density = per_channel.mean(axis=1)
    # Opponent axes: red–cyan and yellow–blue absorbance differences.
    a = per_channel[:, 0] - (per_channel[:, 1] + per_channel[:, 2]) / 2
    b = (per_channel[:, 0] + per_channel[:, 1]) / 2 - per_channel[:, 2]
    saturation = np.hypot(a, b) / np.maximum(density, 1e-3)
    hue = np.degrees(np.arctan2(b, a)) % 360
    texture = _masked_cv(mean_abs, dark)
    return MarkColour(saturation=saturation, hue=hue, density=density, texture=texture)


def _masked_cv(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Coefficient of variation of ``values`` (K, S) over ``mask`` per row."""
    n = np.maximum(mask.sum(axis=1), 1)
    mean = (values * mask).sum(axis=1) / n
    var = (((values - mean[:, None]) ** 2) * mask).sum(axis=1) / n
    return np.sqrt(var) / np.maximum(mean, 1e-3)


def classify_media(colour: MarkColour, model: InkModel) -> tuple[np.ndarray, np.ndarray]:
    """Medium (``pencil``, ``ink`` or ``unknown``) and an ink score of each mark of one sheet.

    Colours are first neutralised by the calibration's pencil cast. Each test
    scores 1.0 at its threshold, and the mark's score is the highest:

    - **colour**: a mark's saturation above both ``saturation_max`` and the
      sheet's own spread (median + ``mark_mad_k`` × MAD of its marks'
      saturation): a coloured pen;
    - **chroma**: its colour in absorbance (saturation × density) at least
      ``chroma_min``: a dense pen with a cast of its own (black ballpoint,
      felt-tip). Off unless a calibration enables it: very dense pencil on
      warm paper shows a cast of its own too (scanner flare lifts the
      paper's weakest channel most);
    - **a sheet in pen**: at least ``sheet_min_marks`` marks whose colours add
      up (their median colour vector) to ``sheet_saturation``: a black pen's
      faint, steady cast, which noise does not have because its hue wanders;
      the marks that carry that cast (0.8 of it along its direction) are ink;
    - **black pen density**: a mark denser than ``black_density_min`` with
      grain below ``black_texture_max`` (off unless a calibration enables it);
    - **unlike the sheet's own pencil** (:func:`sheet_outliers`): a mark whose
      colour or density stands out from the other marks of the same sheet.

    A mark with less than ``min_density`` inside its bubble is ``unknown``.
    """
    colour = neutralise(colour, model)
    sat = colour.saturation
    n = len(sat)
    median = stats.median(sat) if n else 0.0
    mad = float(1.4826 * stats.median(np.abs(sat - median))) if n else 0.0
    mark_limit = max(model.saturation_max, median + model.mark_mad_k * mad)
    colour_score = sat / mark_limit
    chroma_score = colour.chroma / model.chroma_min
    vec = colour.vectors()
    mean = _column_medians(vec) if n else np.zeros(2)  # a few coloured marks do not make it
    resultant = float(np.hypot(*mean))
    pen_sheet = n >= model.sheet_min_marks and resultant >= model.sheet_saturation
    # on a sheet in pen, the marks that carry its cast (pencil beside it does not)
    along = vec @ (mean / max(resultant, 1e-9))
    sheet_score = np.where(
        pen_sheet,
        np.minimum(along / (0.8 * model.sheet_saturation), resultant / model.sheet_saturation),
        0.0,
    )
    black_score = np.where(
        colour.texture <= model.black_texture_max,
        colour.density / model.black_density_min,
        0.0,
    )
    outlier_score = sheet_outliers(colour, model)
    score = np.maximum.reduce([colour_score, chroma_score, sheet_score, black_score, outlier_score])
    medium = np.where(score >= 1.0, INK, PENCIL)
    # Too little inside the bubble (a ring drawn round it, a dot) to tell its colour.
    medium = np.where(colour.density < model.min_density, UNKNOWN, medium)
    return medium, score


def sheet_outliers(colour: MarkColour, model: InkModel) -> np.ndarray:
    """Score (1.0 at the threshold) of each mark for standing out from the sheet's own pencil.

    The sheet's typical mark (the median of its marks' colour vectors,
    densities and grain) is its candidate's pencil as this scanner shows it:
    the test holds while pen marks are fewer than half (a few corrections, or
    answers in pen beside pencil identity marks catch the other tests).

    - **colour**: the mark's colour vector differs from the sheet's by at
      least ``outlier_chroma`` in absorbance (the difference times the mark's
      density), by ``outlier_mad_k`` × the sheet's spread of that difference
      and by ``outlier_tail_k`` × its 90th percentile; the mark has more
      colour than the sheet's pencil at its density and at most
      ``outlier_grain_ratio`` times its median grain;
    - **density**: the mark is at least ``outlier_density_ratio`` times as
      dense as the sheet's lightest marks (the ``outlier_light_share`` least
      dense), denser than ``outlier_density_min`` and at most
      ``outlier_smooth_ratio`` times their grain (dense and smooth: gel,
      felt-tip), however many marks are in that pen.

    Sheets with fewer than ``outlier_min_marks`` marks score 0.

    Parameters
    ----------
    colour : MarkColour
        The K marks of one sheet, already neutralised.
    model : InkModel

    Returns
    -------
    (K,) ndarray of float
    """
    n = len(colour.density)
    if n < model.outlier_min_marks:
        return np.zeros(n)
    vec = colour.vectors()
    ref = _column_medians(vec)
    density = colour.density
    apart = np.hypot(*(vec - ref).T) * density  # absorbance
    spread = stats.median(apart) + model.outlier_mad_k * 1.4826 * stats.median(
        np.abs(apart - stats.median(apart))
    )
    # A compressed colour scan bleeds chroma into a few dark marks (block by
    # block: on a 150 dpi JPEG a bubble spans one or two chroma blocks); those
    # sit in the tail of the sheet's own differences, which a pen stands far
    # beyond (pen marks are a few, or caught by the other tests).
    spread = max(spread, model.outlier_tail_k * stats.quantile(apart, 0.9))
    grain = stats.median(colour.texture)
    # dye, not graphite: more colour than the sheet's pencil at that density, and
    # not grainier than it (a shiny, grainy pencil mark scatters its colour)
    inky = (colour.chroma > np.hypot(*ref) * density) & (
        colour.texture <= model.outlier_grain_ratio * grain
    )
    colour_score = np.where(
        inky, np.minimum(apart / model.outlier_chroma, apart / max(spread, 1e-6)), 0.0
    )

    def dense(reference: np.ndarray, grain_limit: float) -> np.ndarray:
        """Score of each mark for being far denser than ``reference`` marks and smooth."""
        typical = stats.median(density[reference])
        return np.where(
            colour.texture <= grain_limit,
            np.minimum(
                density / (model.outlier_density_ratio * max(typical, 1e-6)),
                density / model.outlier_density_min,
            ),
            0.0,
        )

    # Against the sheet's median mark, no grainier than it: a few pen marks
    # among pencil. Against its lightest marks (its pencil, where there is
    # any) and clearly smoother than them: a pen used for most marks (the
    # answers in gel or marker, the identity in pencil), which is its own
    # median. Dense pencil on a compressed scan keeps the grain of the same
    # sheet's light pencil (0.6-1.0 times on stress seed 101), a pen's ink
    # shows a third of it.
    light = density <= stats.quantile(density, model.outlier_light_share)
    density_score = np.maximum(
        dense(np.ones(n, dtype=bool), grain),
        dense(light, model.outlier_smooth_ratio * stats.median(colour.texture[light])),
    )
    return np.maximum(colour_score, density_score)


def _column_medians(vec: np.ndarray) -> np.ndarray:
    """``np.median(vec, axis=0)`` of (K, 2) colour vectors."""
    return np.array([stats.median(vec[:, 0]), stats.median(vec[:, 1])])


def grey_colour(gray: np.ndarray, matrix: np.ndarray, points_mm: np.ndarray) -> MarkColour:
    """Density and grain of marks on a grey page (saturation 0): :func:`mark_colour` on it."""
    paper = stats.byte_percentile(gray[::8, ::8], 90.0)
    # The three channels of a grey page are one: sampled once, not the page copied thrice.
    samples = sample_image(gray, apply_transform(matrix, points_mm))
    # Their absorbance once too, then as three equal channels (the same numbers).
    absorb = _absorbance(samples[..., None], np.full(1, paper))
    return _absorbance_colour(np.repeat(absorb, 3, axis=-1), DARK_SHARE)


def classify_grey(colour: MarkColour, model: InkModel) -> tuple[np.ndarray, np.ndarray]:
    """Medium (``ink`` or ``unknown``) and an ink score of each mark of one grey sheet.

    - **a sheet in marker**: at least ``grey_sheet_share`` of its marks (and
      ``sheet_min_marks``) are at least ``grey_density_min`` dense with grain
      below ``grey_texture_max`` (solid and smooth: a felt-tip marker, a gel
      pen); those marks are ink. One dense, smooth pencil mark does not make a
      sheet in marker: heavy 2B reaches that density, and smooth, here and there;
    - **unlike the sheet's own pencil** (:func:`sheet_outliers`, its density
      test: no colour here): a few pen marks among pencil.

    Measured on simulated grey scans: no pencil sheet flagged of 390 (a
    300-sheet and a 60-sheet stress stack, 12 standard sheets, 18 of the pen
    models' pencil; at 1.0 instead of 1.1, one 2B sheet of 12 standard and one
    of 300 stress were), sheets in felt-tip 4 of 5 and black gel 3 of 3; on
    open-mcr's real grey pencil scans none (as dense, but grain 0.53-0.8).
    """
    black = np.where(
        colour.texture <= model.grey_texture_max, colour.density / model.grey_density_min, 0.0
    )
    n = len(black)
    solid = black >= 1.0
    in_marker = n >= model.sheet_min_marks and solid.mean() >= model.grey_sheet_share
    sheet = np.where(in_marker, black, np.minimum(black, 0.99))  # alone: short of the threshold
    score = np.maximum(sheet, sheet_outliers(colour, model))
    medium = np.where(score >= 1.0, INK, UNKNOWN)
    medium = np.where(colour.density < model.min_density, UNKNOWN, medium)
    return medium, score


def paper_colour(rgb: np.ndarray) -> np.ndarray:
    """The paper's RGB: the 90th percentile of each channel (most of a sheet is paper)."""
    small = rgb[::8, ::8]
    return np.array([stats.byte_percentile(small[..., c], 90.0) for c in range(3)])


def is_colour(rgb: np.ndarray | None, *, min_spread: float = 6.0) -> bool:
    """True when the page has colour at all (a colour scan of a sheet, not a grey one)."""
    if rgb is None or rgb.ndim != 3:
        return False
    small = rgb[::8, ::8].astype(np.int16)
    # channel by channel: numpy's max along an axis of three is 25 times slower, same values
    r, g, b = small[..., 0], small[..., 1], small[..., 2]
    spread = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    return bool(stats.byte_percentile(spread, 99.5) >= min_spread)
