"""Simulation profiles: every distribution the simulator draws from, in one frozen record.

A profile describes a population of candidates (how they answer, how they
hold a pencil) and a scanning room (how sheets go through the scanner). The
simulator's code holds no tuning value of its own: a new scenario (clean
scans, stress, phone photos) is a new :class:`Profile`, not a code change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from omr.simulate.pens import PENS, Pen

Range = tuple[float, float]
INK_PENS = (
    "blue-ballpoint",
    "black-ballpoint",
    "red-ballpoint",
    "green-ballpoint",
    "black-gel",
    "blue-gel",
    "felt-tip",
)


@dataclass(frozen=True)
class Profile:
    """Every knob of a simulated session; ranges are ``(low, high)`` of a uniform draw.

    The harder students and scanners (from ``p_erasure_sheet`` on) are off, a
    probability of 0, in ``standard`` and ``demo``, whose output stays
    byte-identical: they draw from random streams of their own, only when on.
    "Share of sheets" probabilities pick the sheets that carry a feature;
    ``*_per_sheet`` ranges are inclusive counts on such a sheet. Habits (faint,
    half, tick, cross, circle, dot) apply to answer-block marks only: identity
    and group marks stay fills. The pen models (``pen_model``, ``p_ink_sheet``)
    and the scanner's colour response (``response_*``) are off in those
    profiles too, and draw from streams of their own.

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
    p_group_miscoded : float
        Probability that a candidate who codes one group codes another booklet's
        letter than the one handed out (answers follow the real booklet).
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
    p_erasure_sheet : float
        Share of sheets with erasure residue: light smudges where an answer
        was rubbed out. The residue is not an answer (truth kind ``erasure``).
    erasures_per_sheet : (int, int)
        Residues on such a sheet.
    p_erasure_on_blank : float
        Share of residues on a question now left blank; the others sit on
        another option of a question answered with one option.
    erasure_strength : (float, float)
        Residue darkness as a share of the candidate's full-mark darkness.
    erasure_size : (float, float)
        Smear radius in bubble radii (clipped so it never enters a
        neighbouring bubble's interior).
    erasure_streaks : (float, float)
        Contrast of the eraser's streaks across the smear (0 is a flat smear).
    p_faint_sheet, faint_per_sheet, faint_darkness
        Share of sheets with very light pencil marks (kind ``faint``, still
        answers), how many marks, and their darkness.
    p_half_sheet, half_per_sheet, half_coverage
        Share of sheets with half-filled bubbles (kind ``half``, answers), how
        many, and the share of the bubble they cover.
    p_tick_sheet, ticks_per_sheet, p_cross
        Share of sheets where answers are ticked or crossed instead of filled
        (kinds ``tick``/``cross``, answers), how many, and the share of crosses.
    p_circle_sheet, circles_per_sheet, p_dot
        Share of sheets with a circled option or a small dot instead of a
        fill (kinds ``circle``/``dot``: the intended answer, marked
        ``ambiguous`` in the truth), how many, and the share of dots.
    circle_radius : (float, float)
        Radius of a drawn circle, bubble radii.
    dot_radius : (float, float)
        Radius of a dot, bubble radii.
    stroke_width_mm : (float, float)
        Pencil line width of ticks, crosses, circles and stray strokes.
    p_stray_sheet, strays_per_sheet, stray_length_mm
        Share of sheets with stray pencil strokes between bubbles (kind
        ``stray``, touching no bubble interior), how many, and their length.
    p_fold : float
        Share of sheets folded: a crease line across the page with a shading
        gradient on one side.
    folds_per_sheet : (int, int)
        Creases on a folded sheet.
    fold_depth, fold_highlight : (float, float)
        Darkening at the crease and brightening of the ridge beside it.
    fold_width_mm : (float, float)
        Width of the crease line.
    fold_shade, fold_shade_mm : (float, float)
        Darkening of the shading gradient on one side of the crease, and how
        far it reaches.
    fold_tilt_deg : float
        Largest angle of a crease against the page's axes.
    p_shadow : float
        Share of scans with a shadow along one edge (the scanner lid).
    shadow_strength, shadow_width_mm : (float, float)
        Darkening at the edge and the shadow's decay length.
    p_bilevel : float
        Share of scans stored 1-bit (thresholded; PDF Flate, TIFF group 4).
    p_dither : float
        Share of bilevel scans dithered (Floyd–Steinberg) rather than thresholded.
    bilevel_threshold : (float, float)
        Grey level below which a pixel turns black.
    p_photo : float
        Share of sheets photographed with a phone rather than scanned; each
        photo is its own JPEG file ``scans/photo-NNNN.jpg``.
    photo_long_px : (int, int)
        Long side of the photo frame, pixels (3:4 frame).
    photo_fill : (float, float)
        Height of the upright page as a share of the frame's.
    photo_corner_jitter : float
        Largest move of each page corner (perspective), as a share of the page size.
    photo_rotation_max_deg : float
        Largest in-plane rotation of the page in the frame.
    p_photo_exif_rotated : float
        Share of photos stored turned a quarter (EXIF orientation 6 or 8).
    photo_brightness, photo_gradient, photo_vignette : (float, float)
        Light on the page: mean level, strength of a linear gradient across
        the frame, and darkening of the corners.
    photo_desks : tuple of (int, int, int)
        Desk colours (RGB) behind the sheet; one is drawn and textured.
    photo_defocus_sigma, photo_motion_px : (float, float)
        Defocus blur (Gaussian sigma) and motion-blur length, pixels.
    photo_noise_sigma : (float, float)
        Sensor noise of the photo, grey levels.
    photo_jpeg_quality : (int, int)
        JPEG quality of the photo (inclusive).
    pen_model : bool
        Draw with the pen models of ``pens`` (graphite hardness and hand,
        sheen, ink colour and texture, on an RGB canvas when a sheet carries
        ink). Off in the older profiles, which draw their generic pencil as
        they always did; their truth labels it ``HB`` below a candidate
        darkness of 0.7 and ``2B`` from there. With the pen models, a
        candidate's pencil darkness comes from the pen and the ``hand``, not
        from ``darkness`` (``darkness_jitter`` still applies per mark).
    pens : tuple of omr.simulate.pens.Pen
        The pen catalogue: colour, density and texture of each pen (see
        :data:`omr.simulate.pens.PENS`).
    pencil_pens, pencil_weights : tuple
        The graphite a candidate writes with, and how often each is chosen.
    hand : (float, float)
        A candidate's pressure: where their marks fall in the pen's density
        range (0 the lightest, 1 the heaviest hand).
    hand_light, hand_normal, hand_heavy : (float, float)
        The light, normal and heavy hands of the calibration sheet's blocks.
    p_ink_sheet : float
        Share of sheets carrying marks in a pen other than pencil (article 7.7).
    ink_pens, ink_weights : tuple
        The pens those candidates use, and how often each is chosen.
    p_ink_corrections : float
        Share of ink sheets where only a few answers are corrections in ink
        (the rest pencil); on the others every answer mark is ink.
    ink_corrections_per_sheet : (int, int)
        Answer marks in ink on a corrections sheet (inclusive).
    p_ink_identity : float
        Share of all-answers ink sheets whose group and identity marks,
        handwritten digits and signature are in that pen too.
    ink_darkness_jitter : float
        Per-mark standard deviation of an ink's darkness around the sheet's.
    response_gain, response_gamma, response_black : (float, float, float)
        The scanner's colour response per channel (R, G, B): on a level ``v``
        of 0..1, ``black + (1 - black) * gain * v ** gamma`` (identity
        ``(1, 1, 1)``, ``(1, 1, 1)``, ``(0, 0, 0)``). A warm cast lifts and
        keeps red, cuts blue. Grey scans get the luminance-weighted mean.
    response_saturation : float
        Colour saturation kept after that (1 keeps it, 0 turns the scan grey).
    response_jitter : float
        Per-scan standard deviation of each channel's gain around
        ``response_gain`` (lamp and sensor drift).
    p_ring_sheet, rings_per_sheet : float, (int, int)
        Share of sheets where the candidate drew a ring inside another
        bubble of a question answered with one fill (kind ``ring``: no
        answer, marked ``ambiguous``), in a pen or a marker, and how many.
    ring_radius : (float, float)
        Radius of such a ring, bubble radii (inside the printed outline).
    ring_pens, ring_weights : tuple
        The pens rings are drawn with (ballpoints, a felt-tip marker), and
        how often each is chosen.
    ring_width_mm : (float, float)
        Line width of a ring, mm.
    p_light_sheet, light_darkness : float, (float, float)
        Share of sheets whose candidate shades every answer lightly but
        fully (kind ``light``, an answer), and the darkness of those fills.
    print_darkness : (float, float)
        Factor on the darkness of the printed ink (outlines, letters, text)
        of each sheet; above 1 prints them darker than the renderer's
        (a vendor's black outlines and letters), so that a light fill is
        lighter than the printed outlines. Recorded as ``print_darkness``.
    p_misregister : float
        Share of pages printed out of register (the misregistration stress
        mode, :mod:`omr.simulate.misprint`): bubble fields shifted against the
        registration marks and the printed text, or a page of a sister form.
        The truth records each as ``misregistered``; no reader should score it.
    misregister_kinds, misregister_weights : tuple
        ``shift`` (every field), ``lower-half`` (the fields in the lower half
        of the page) and ``sister-form``, and how often each is drawn.
    misregister_pitches : tuple of float
        Shifts in bubble pitches, one drawn per page (its sign too).
    sister_pitch_scales : tuple of float
        A sister form's answer-block pitch as a share of the form's.
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
    p_group_miscoded: float = 0.0
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
    # harder students (all off unless a profile sets the share of sheets)
    p_erasure_sheet: float = 0.0
    erasures_per_sheet: tuple[int, int] = (1, 3)
    p_erasure_on_blank: float = 0.35
    erasure_strength: Range = (0.08, 0.25)
    erasure_size: Range = (1.05, 1.6)
    erasure_streaks: Range = (0.3, 0.8)
    p_faint_sheet: float = 0.0
    faint_per_sheet: tuple[int, int] = (1, 12)
    faint_darkness: Range = (0.25, 0.4)
    p_half_sheet: float = 0.0
    half_per_sheet: tuple[int, int] = (1, 4)
    half_coverage: Range = (0.35, 0.6)
    p_tick_sheet: float = 0.0
    ticks_per_sheet: tuple[int, int] = (1, 6)
    p_cross: float = 0.5
    p_circle_sheet: float = 0.0
    circles_per_sheet: tuple[int, int] = (1, 3)
    p_dot: float = 0.5
    circle_radius: Range = (1.2, 1.45)
    dot_radius: Range = (0.2, 0.4)
    stroke_width_mm: Range = (0.3, 0.5)
    p_stray_sheet: float = 0.0
    strays_per_sheet: tuple[int, int] = (1, 4)
    stray_length_mm: Range = (2.0, 7.0)
    # harder scanners (all off unless a profile sets them)
    p_fold: float = 0.0
    folds_per_sheet: tuple[int, int] = (1, 2)
    fold_depth: Range = (0.05, 0.25)
    fold_highlight: Range = (0.0, 0.06)
    fold_width_mm: Range = (0.2, 0.6)
    fold_shade: Range = (0.02, 0.08)
    fold_shade_mm: Range = (8.0, 40.0)
    fold_tilt_deg: float = 2.0
    p_shadow: float = 0.0
    shadow_strength: Range = (0.15, 0.5)
    shadow_width_mm: Range = (4.0, 20.0)
    p_bilevel: float = 0.0
    p_dither: float = 0.3
    bilevel_threshold: Range = (110.0, 160.0)
    # phone photos (off unless a profile sets p_photo)
    p_photo: float = 0.0
    photo_long_px: tuple[int, int] = (1800, 2600)
    photo_fill: Range = (0.7, 0.88)
    photo_corner_jitter: float = 0.08
    photo_rotation_max_deg: float = 6.0
    p_photo_exif_rotated: float = 0.3
    photo_brightness: Range = (0.78, 1.02)
    photo_gradient: Range = (0.0, 0.25)
    photo_vignette: Range = (0.0, 0.3)
    photo_desks: tuple[tuple[int, int, int], ...] = (
        (150, 108, 72),
        (96, 64, 42),
        (128, 128, 132),
        (58, 60, 66),
        (196, 178, 150),
    )
    photo_defocus_sigma: Range = (0.3, 1.4)
    photo_motion_px: Range = (0.0, 4.0)
    photo_noise_sigma: Range = (2.0, 6.0)
    photo_jpeg_quality: tuple[int, int] = (70, 92)
    # pens (the pen models are off unless a profile sets pen_model)
    pen_model: bool = False
    pens: tuple[Pen, ...] = PENS
    pencil_pens: tuple[str, ...] = ("HB", "2B")
    pencil_weights: tuple[float, ...] = (0.6, 0.4)
    hand: Range = (0.0, 1.0)
    hand_light: Range = (0.0, 0.12)
    hand_normal: Range = (0.35, 0.65)
    hand_heavy: Range = (0.88, 1.0)
    p_ink_sheet: float = 0.0
    ink_pens: tuple[str, ...] = INK_PENS
    ink_weights: tuple[float, ...] = (0.3, 0.22, 0.08, 0.05, 0.12, 0.1, 0.13)
    p_ink_corrections: float = 0.3
    ink_corrections_per_sheet: tuple[int, int] = (1, 3)
    p_ink_identity: float = 0.6
    ink_darkness_jitter: float = 0.01
    # the scanner's colour response (identity unless a profile sets it)
    response_gain: tuple[float, float, float] = (1.0, 1.0, 1.0)
    response_gamma: tuple[float, float, float] = (1.0, 1.0, 1.0)
    response_black: tuple[float, float, float] = (0.0, 0.0, 0.0)
    response_saturation: float = 1.0
    response_jitter: float = 0.0
    # rings drawn inside a bubble in pen or marker (off unless a profile sets p_ring_sheet)
    p_ring_sheet: float = 0.0
    rings_per_sheet: tuple[int, int] = (1, 2)
    ring_radius: Range = (0.45, 0.8)
    ring_pens: tuple[str, ...] = ("blue-ballpoint", "black-ballpoint", "felt-tip")
    ring_weights: tuple[float, ...] = (0.4, 0.3, 0.3)
    ring_width_mm: Range = (0.3, 0.7)
    # light fills and dark print (off unless a profile sets them)
    p_light_sheet: float = 0.0
    light_darkness: Range = (0.15, 0.3)
    print_darkness: Range = (1.0, 1.0)
    # misregistered prints (off unless a profile sets p_misregister)
    p_misregister: float = 0.0
    misregister_kinds: tuple[str, ...] = ("shift", "lower-half", "sister-form")
    misregister_weights: tuple[float, ...] = (0.6, 0.25, 0.15)
    misregister_pitches: tuple[float, ...] = (0.5, 1.0, 1.5)
    sister_pitch_scales: tuple[float, ...] = (0.9, 1.1)

    @property
    def colour_response(self) -> bool:
        """Whether the scanner's colour response differs from the identity."""
        return (
            self.response_gain != (1.0, 1.0, 1.0)
            or self.response_gamma != (1.0, 1.0, 1.0)
            or self.response_black != (0.0, 0.0, 0.0)
            or self.response_saturation != 1.0
            or self.response_jitter > 0
        )


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
    # The standard students on a well-kept scanner: 200–300 dpi, little noise,
    # high JPEG quality, square on the glass, never upside down.
    "clean": Profile(
        name="clean",
        dpi_choices=(200, 240, 300),
        dpi_weights=(0.4, 0.2, 0.4),
        rotation_sd_deg=0.35,
        rotation_max_deg=1.0,
        shift_max_mm=2.0,
        p_upside_down=0.0,
        blur_sigma=(0.0, 0.5),
        noise_sigma=(0.3, 1.5),
        jpeg_quality=(85, 95),
    ),
    # Every hard case at a realistic rate: erasures, faint and half marks,
    # ticks, crosses, circles and dots, stray strokes, folds, lid shadows,
    # 1-bit scans, 100–600 dpi, JPEG down to quality 20, a few phone photos.
    "stress": Profile(
        name="stress",
        p_group_miscoded=0.02,
        p_erasure_sheet=0.15,
        p_faint_sheet=0.05,
        p_half_sheet=0.03,
        p_tick_sheet=0.02,
        p_circle_sheet=0.01,
        p_stray_sheet=0.10,
        p_fold=0.05,
        p_shadow=0.05,
        p_bilevel=0.10,
        p_photo=0.02,
        dpi_choices=(100, 150, 200, 300, 600),
        dpi_weights=(0.1, 0.35, 0.3, 0.2, 0.05),
        noise_sigma=(1.0, 8.0),
        blur_sigma=(0.0, 1.2),
        jpeg_quality=(20, 90),
    ),
    # Every sheet photographed with a phone; the standard students, some of
    # whom rubbed an answer out.
    "photo": Profile(
        name="photo",
        p_erasure_sheet=0.15,
        p_photo=1.0,
    ),
    # The standard students, 30 % of whom wrote with a pen other than pencil
    # (article 7.7), on an office scanner in colour: 200–300 dpi, JPEG 80–95.
    "ink": Profile(
        name="ink",
        pen_model=True,
        p_ink_sheet=0.3,
        p_colour=1.0,
        dpi_choices=(200, 240, 300),
        dpi_weights=(0.4, 0.2, 0.4),
        jpeg_quality=(80, 95),
    ),
    # The ink students photographed with a phone instead of scanned: every
    # sheet a photo (perspective, uneven light, blur, sensor noise, JPEG 70–92).
    "ink-photo": Profile(
        name="ink-photo",
        pen_model=True,
        p_ink_sheet=0.3,
        p_colour=1.0,
        p_photo=1.0,
    ),
    # The marks strangers' real sheets showed (issue 12): rings in pen or a
    # marker drawn inside a bubble beside the answer, sheets shaded lightly
    # throughout, printed outlines and letters darker than the fills, erasures;
    # the pen models, colour scans from 150 dpi.
    "real-marks": Profile(
        name="real-marks",
        pen_model=True,
        p_colour=1.0,
        dpi_choices=(150, 200, 300),
        dpi_weights=(0.5, 0.3, 0.2),
        jpeg_quality=(60, 90),
        p_erasure_sheet=0.1,
        p_ring_sheet=0.1,
        p_light_sheet=0.05,
        print_darkness=(1.0, 1.6),
    ),
    # The same students and pens through another scanner: a warm colour cast
    # (black level lifted in red, blue gain cut), its own gamma per channel and
    # washed-out colour; the case a scanner's own calibration is for.
    "ink-scanner-b": Profile(
        name="ink-scanner-b",
        pen_model=True,
        p_ink_sheet=0.3,
        p_colour=1.0,
        dpi_choices=(200, 240, 300),
        dpi_weights=(0.4, 0.2, 0.4),
        jpeg_quality=(80, 95),
        response_gain=(1.0, 0.95, 0.84),
        response_gamma=(0.9, 1.0, 1.15),
        response_black=(0.07, 0.05, 0.02),
        response_saturation=0.7,
        response_jitter=0.01,
    ),
}
