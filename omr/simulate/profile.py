"""Simulation profiles: every distribution the simulator draws from, in one frozen record.

A profile describes a population of candidates (how they answer, how they
hold a pencil) and a scanning room (how sheets go through the scanner). The
simulator's code holds no tuning value of its own: a new scenario (clean
scans, stress, phone photos) is a new :class:`Profile`, not a code change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

Range = tuple[float, float]


@dataclass(frozen=True)
class Profile:
    """Every knob of a simulated session; ranges are ``(low, high)`` of a uniform draw.

    Attributes
    ----------
    name : str
        The profile's key in :data:`PROFILES`, recorded in the truth.
    exam_date, announcement_date : datetime.date
        Dates written to ``exam.yaml``.
    seats_per_hall : int
        Candidates seated in one hall (hall and seat numbers).
    ability : (float, float)
        Per-candidate probability of answering a question right.
    p_blank, p_double : float
        Per-question probability of leaving it blank, or of marking two
        options; otherwise one option is marked.
    p_group_none, p_group_double : float
        Probability of marking no booklet group, or two; otherwise exactly
        the booklet's group is marked.
    darkness : (float, float)
        Per-candidate pencil darkness (share of light a fully covered spot
        absorbs); ``darkness_jitter`` is the per-mark standard deviation
        around it, clipped to ``darkness_limits``.
    p_partial : float
        Probability that a mark is a partial fill.
    full_coverage, partial_coverage : (float, float)
        Share of the bubble covered by a full or a partial fill.
    mark_size : (float, float)
        Radius of the pencil blob, in bubble radii.
    mark_offset_sd, mark_offset_max : float
        Off-centre offset of the blob in bubble radii (normal, clipped).
    mark_wobble : float
        Largest amplitude of the blob outline's irregularity, in blob radii.
    mark_max_extent : float
        No graphite beyond this many bubble radii from the bubble centre
        (keeps marks off the neighbouring bubbles).
    grain : (float, float)
        Per-candidate strength of the graphite grain (0 is a flat tone).
    softness_px : float
        Width of a mark's soft edge at 300 dpi, pixels.
    handwriting_height_mm, handwriting_thickness_px, signature_thickness_px
        Digits written in the write-in boxes, and the signature's stroke.
    dpi_choices, dpi_weights : tuple
        Scan resolutions and their probabilities.
    rotation_sd_deg, rotation_max_deg : float
        Rotation on the scanner glass, normal and clipped.
    shift_max_mm : float
        Shift along x and y, uniform in ``±shift_max_mm`` millimetres.
    scale : (float, float)
        Scale factor of the scan.
    p_upside_down : float
        Probability that a sheet is fed rotated by 180°.
    p_colour : float
        Probability of a colour scan (otherwise grey).
    paper_white : (float, float)
        Grey level of blank paper in the scan.
    tint_green, tint_blue : (float, float)
        Multipliers of the paper colour on a colour scan (red is 1); below 1
        gives the warm tint of real paper. Marks stay neutral grey.
    blur_sigma : (float, float)
        Gaussian blur, output pixels.
    noise_sigma : (float, float)
        Gaussian sensor noise, grey levels.
    jpeg_quality : (int, int)
        JPEG quality the scan is stored at (inclusive). The standard profile
        leans to 150–200 dpi and quality 45–75 so that a 40-sheet demo stack
        stays near 12 MB (the blank A4 form alone costs about 170 kB per page
        at 150 dpi).
    """

    name: str
    # exam
    exam_date: dt.date = dt.date(2026, 11, 14)
    announcement_date: dt.date = dt.date(2026, 11, 20)
    seats_per_hall: int = 40
    # student behaviour
    ability: Range = (0.3, 0.95)
    p_blank: float = 0.08
    p_double: float = 0.04
    p_group_none: float = 0.03
    p_group_double: float = 0.03
    # pencil
    darkness: Range = (0.55, 0.95)
    darkness_jitter: float = 0.03
    darkness_limits: Range = (0.4, 0.98)
    p_partial: float = 0.12
    full_coverage: Range = (0.92, 1.0)
    partial_coverage: Range = (0.6, 0.9)
    mark_size: Range = (1.0, 1.08)
    mark_offset_sd: float = 0.04
    mark_offset_max: float = 0.1
    mark_wobble: float = 0.05
    mark_max_extent: float = 1.12
    grain: Range = (0.1, 0.3)
    softness_px: float = 1.5
    handwriting_height_mm: Range = (3.0, 3.8)
    handwriting_thickness_px: tuple[int, int] = (2, 3)
    signature_thickness_px: tuple[int, int] = (2, 3)
    # scanner
    dpi_choices: tuple[int, ...] = (150, 200, 240, 300)
    dpi_weights: tuple[float, ...] = (0.5, 0.3, 0.1, 0.1)
    rotation_sd_deg: float = 1.2
    rotation_max_deg: float = 3.0
    shift_max_mm: float = 4.0
    scale: Range = (0.98, 1.02)
    p_upside_down: float = 0.05
    p_colour: float = 0.4
    paper_white: Range = (238.0, 252.0)
    tint_green: Range = (0.96, 0.99)
    tint_blue: Range = (0.88, 0.95)
    blur_sigma: Range = (0.0, 1.0)
    noise_sigma: Range = (1.0, 6.0)
    jpeg_quality: tuple[int, int] = (45, 75)


PROFILES: dict[str, Profile] = {
    "standard": Profile(name="standard"),
    # The bundled demo: the standard students, scanned small enough to commit
    # (150 dpi, mostly grey, light noise, modest JPEG quality).
    "demo": Profile(
        name="demo",
        dpi_choices=(150,),
        dpi_weights=(1.0,),
        p_colour=0.15,
        noise_sigma=(0.3, 1.0),
        blur_sigma=(0.3, 0.8),
        jpeg_quality=(30, 45),
    ),
}
