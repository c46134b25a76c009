"""Scanner calibration profiles (``calibration/*.yaml``): the reader's thresholds."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from omr.definitions import Strict, read_yaml, validate
from omr.errors import InputFileError, InvalidCalibrationError
from omr.resources import data_dir


class MarkModel(Strict):
    """How a bubble's darkness is split into empty, unsure and marked on each sheet.

    All levels are in darkness units (0 = the sheet's paper, 1 = its printed
    black) above the sheet's own blank-bubble level. A bubble is empty below
    ``max(empty_noise_k * noise, min(empty_floor, empty_share * mark))`` and
    marked above the same expression with the ``mark_*`` values, where
    ``noise`` is the spread of the sheet's blank bubbles and ``mark`` its
    typical filled bubble. In between it is unsure and goes to a person.
    """

    empty_floor: float = Field(0.10, gt=0, lt=1)
    mark_floor: float = Field(0.20, gt=0, lt=1)
    empty_share: float = Field(0.25, gt=0, lt=1)
    mark_share: float = Field(0.45, gt=0, lt=1)
    empty_noise_k: float = Field(6.0, ge=0)
    mark_noise_k: float = Field(10.0, ge=0)
    bilevel_empty_floor: float = Field(
        0.02, gt=0, lt=1, description="empty_floor on 1-bit scans, where blank is pure white"
    )
    empty_cap: float = Field(
        0.2, gt=0, lt=1, description="however noisy the sheet, nothing darker is called empty"
    )
    mark_cap: float = Field(
        0.35, gt=0, lt=1, description="however noisy the sheet, this dark is always marked"
    )
    second_share: float = Field(
        0.5, gt=0, lt=1, description="a second mark below this share of the first is doubted"
    )
    double_smear_ring: float = Field(
        0.02, ge=0, description="ring darkness above blank that makes a second mark a smear"
    )
    double_smear_share: float = Field(
        0.12, ge=0, description="and at least this share of its darkness inside"
    )
    double_clean_ring: float = Field(
        0.01, ge=0, description="at most this ring darkness: a second mark drawn inside its bubble"
    )
    double_clean_share: float = Field(
        0.15,
        ge=0,
        description="strokes with a ring at most this share of their darkness: a second answer"
        " (0: off)",
    )
    double_stroke_cover: float = Field(
        0.1, gt=0, description="dark share inside that makes a second mark pencil strokes"
    )
    double_dark: float = Field(
        0.22, gt=0, description="darkness above blank that makes a clean second mark a fill"
    )
    double_fill_share: float = Field(
        0.08,
        ge=0,
        description="a second fill that dark whose ring is at most this share of its darkness:"
        " a second answer (a lone eraser's smudge shows 0.15 and more; 0: off)",
    )
    residue_share: float = Field(
        0.35,
        gt=0,
        lt=1,
        description="an unsure bubble below this share of its question's clear mark is residue",
    )
    residue_max: float = Field(
        0.15, gt=0, lt=1, description="and below this darkness above blank (else: a person)"
    )
    residue_halo_share: float = Field(
        0.09,
        ge=0,
        description="and with a halo at least this share of its darkness (a light tick beside"
        " an answer has less; 0: lightness alone decides)",
    )
    circle_sectors: int = Field(
        4, ge=1, le=8, description="dark ring sectors (of 8) that make a circled option"
    )
    read_circle_sectors: int = Field(
        6, ge=1, le=8, description="dark sectors a circled option needs to be read as meant"
    )
    read_circle_ring: float = Field(
        0.08, gt=0, lt=1, description="and ring darkness above the blank ring"
    )
    sector_floor: float = Field(
        0.06, gt=0, lt=1, description="ring-sector darkness above blank that counts as dark"
    )
    stroke_cover: float = Field(
        0.15, gt=0, lt=1, description="dark share of the inside that makes pencil strokes"
    )
    spill_floor: float = Field(
        0.02, gt=0, lt=1, description="ring darkness above blank that makes a spilling smudge"
    )
    spill_share: float = Field(
        0.18, gt=0, description="a smudge's ring darkness relative to its inside darkness"
    )
    smear_sectors: int = Field(
        5,
        ge=1,
        le=8,
        description="ring sectors (of 8) holding half the mean halo or more that make a lone"
        " smudge residue (an eraser smears all round; a fill overshoots on one side)",
    )
    residue_light: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="a lone smudge lighter than this is residue by its halo alone; a darker"
        " one needs smear_sectors",
    )
    doubt_share: float = Field(
        0.1,
        gt=0,
        description="a weak mark whose ring is this share of its inside darkness: a person decides",
    )
    smear_share: float = Field(
        0.3,
        gt=0,
        description="a weak mark whose ring is this share of its inside darkness is a smear",
    )
    clean_share: float = Field(
        0.15, gt=0, description="at most this ring darkness relative to the inside: a clean fill"
    )
    faint_clean_share: float = Field(
        0.08,
        gt=0,
        description="a light even fill is accepted as an answer only with a halo at most this"
        " share of its darkness (lone faint fills showed 0.07 at most, erasures 0.09 and up)",
    )
    faint_accept: float = Field(
        0.15, gt=0, lt=1, description="a clean, even fill this dark above blank is an answer"
    )
    faint_cover: float = Field(
        0.0, ge=0, lt=1, description="dark share of the inside a clean faint fill needs as well"
    )
    bilevel_faint_accept: float = Field(
        1.0,
        gt=0,
        le=1,
        description="faint_accept on 1-bit scans (1: never accepted: a threshold keeps an"
        " erasure's darkened letter and ring but drops its halo, so a clean faint fill there"
        " may be residue, and a person decides)",
    )
    bilevel_faint_cover: float = Field(
        0.09, ge=0, lt=1, description="faint_cover on 1-bit scans: black in strokes, not dots"
    )
    bilevel_double_cover: float = Field(
        0.15,
        gt=0,
        lt=1,
        description="on 1-bit scans, a second mark this share solidly black inside, its halo"
        " no more than a clean stroke's, is a second answer (residue left 0.09 at most)",
    )
    trace_floor: float = Field(
        0.07,
        gt=0,
        lt=1,
        description="an empty bubble this dark above blank, with no halo, is doubted",
    )
    trace_peak_k: float = Field(
        2.0,
        ge=0,
        description="an empty bubble whose 90th-percentile sample, above its option's blanks,"
        " is this many times the sheet's 99th percentile of that, with no halo, is doubted"
        " (a thin tick; only in a question with no clear answer); 0: off",
    )
    bilevel_trace_floor: float = Field(
        0.01, gt=0, lt=1, description="trace_floor on 1-bit scans, where blanks are pure white"
    )
    trace_noise_k: float = Field(
        8.0, ge=0, description="and this many noise deviations above blank"
    )
    circle_inside: float = Field(
        0.03, gt=0, lt=1, description="a circled bubble's inside stays this close to blank"
    )
    ring_floor: float = Field(
        0.04, gt=0, lt=1, description="ring darkness above the field's blank ring to count"
    )
    dot_cover: float = Field(
        0.03, gt=0, lt=1, description="dark share of a bubble's inside above blank: a dot"
    )
    dot_tail_k: float = Field(
        2.0,
        ge=0,
        description="a dot covers this many times the 99th percentile of the sheet's blanks",
    )
    lone_median: float = Field(
        0.1,
        description="a dot or a light tick, alone in its question, is read as its answer when"
        " its median interior sample is at most this above blank (the inside mostly clean:"
        " not a smear); negative: never",
    )
    hollow_edge: float = Field(
        0.15,
        gt=0,
        lt=1,
        description="darkness above its option's blanks that makes an eighth of a bubble's"
        " outer inside dark (a ring drawn inside the outline)",
    )
    hollow_sectors: int = Field(
        6, ge=1, le=8, description="dark eighths of the outer inside that make a ring inside"
    )
    hollow_mean: float = Field(
        0.3,
        gt=0,
        lt=1,
        description="and the outer inside this dark on average: a drawn line, not a light fill",
    )
    hollow_centre_share: float = Field(
        0.25,
        ge=0,
        description="a ring inside leaves the middle at most this share of the edge's darkness"
        " (a fill, a tick or a cross darkens it; 0: off)",
    )
    line_dark: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="ring-sample darkness above its option's blank rings that is a pencil line",
    )
    line_tail_k: float = Field(
        2.0,
        ge=0,
        description="and this many times the 99th percentile of that over the sheet's blanks",
    )
    line_sectors: int = Field(
        3,
        ge=1,
        le=8,
        description="ring sectors crossed by a pencil line that make a bubble drawn round"
        " (never an eraser's residue, never surely blank: a person looks)",
    )
    min_marks_for_share: int = Field(
        3, ge=1, description="confident marks a sheet needs before its own mark level is used"
    )

    @model_validator(mode="after")
    def _ordered(self) -> MarkModel:
        if self.mark_floor <= self.empty_floor or self.mark_share <= self.empty_share:
            raise ValueError("mark levels must lie above the empty levels")
        return self


class InkModel(Strict):
    """What tells ink from pencil on this scanner's colour scans (see :mod:`omr.detect.medium`)."""

    neutral_a: float = Field(0.0, description="the scanner's cast on pencil, red–cyan axis")
    neutral_b: float = Field(0.0, description="the scanner's cast on pencil, yellow–blue axis")
    neutral_density: float = Field(
        0.5, gt=0, description="the pencil density (absorbance) at which the cast is measured"
    )
    neutral_da: float = Field(0.0, description="change of the red–cyan cast per unit density")
    neutral_db: float = Field(0.0, description="change of the yellow–blue cast per unit density")
    saturation_max: float = Field(
        0.25, gt=0, description="colour saturation above which a mark is coloured ink"
    )
    mark_mad_k: float = Field(
        8.0, ge=0, description="a mark's saturation must also clear the sheet's median + k MAD"
    )
    chroma_min: float = Field(
        9.0,
        gt=0,
        description="colour in absorbance (saturation × density) that makes a pen (off unless "
        "a calibration enables it: dense pencil on warm paper shows a cast too)",
    )
    outlier_min_marks: int = Field(
        8, ge=2, description="marks a sheet needs before its marks are compared with each other"
    )
    outlier_chroma: float = Field(
        0.075, gt=0, description="colour difference (absorbance) from the sheet's typical mark"
    )
    outlier_mad_k: float = Field(
        8.0, ge=0, description="and at least the sheet's median + k MAD of those differences"
    )
    outlier_tail_k: float = Field(
        6.0,
        ge=0,
        description="and at least k times their 90th percentile (a JPEG's colour noise on dark "
        "marks has a long tail that a MAD does not see)",
    )
    outlier_grain_ratio: float = Field(
        1.5, gt=0, description="a colour outlier is at most this many times the sheet's grain"
    )
    outlier_density_ratio: float = Field(
        1.6, gt=1, description="a smooth mark this many times the sheet's median density is a pen"
    )
    outlier_light_share: float = Field(
        0.2,
        gt=0,
        le=1,
        description="the least dense share of a sheet's marks a dense pen is compared with"
        " (its pencil, however many marks are in pen; 0.5: the median mark)",
    )
    outlier_smooth_ratio: float = Field(
        0.5,
        gt=0,
        description="and at most this many times their grain (graphite keeps its grain)",
    )
    outlier_density_min: float = Field(
        0.95, gt=0, description="and at least this dense (absorbance)"
    )
    sheet_saturation: float = Field(
        0.10, gt=0, description="mean colour vector of a sheet's marks that makes it a pen sheet"
    )
    sheet_min_marks: int = Field(8, ge=1, description="marks needed for the sheet-level test")
    black_density_min: float = Field(
        2.0, gt=0, description="absorbance above which a smooth dark mark is a black pen"
    )
    black_texture_max: float = Field(
        0.12, gt=0, description="below this grain a dense mark is a pen, not graphite"
    )
    min_jpeg_quality: int = Field(
        45, ge=1, le=100, description="below this JPEG quality, colour is not trusted for ink"
    )
    min_density: float = Field(
        0.1, gt=0, description="marks lighter than this inside the bubble: medium unknown"
    )
    grey_density_min: float = Field(
        1.1,
        gt=0,
        description="on a grey scan, a mark at least this dense (absorbance) and smooth is a pen",
    )
    grey_texture_max: float = Field(
        0.12, gt=0, description="and its grain below this (graphite keeps its grain)"
    )
    grey_sheet_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="when at least this share of a grey sheet's marks are (a sheet in marker)",
    )


class Calibration(Strict):
    """One scanner's profile."""

    format: int = 1
    name: str
    description: str = ""
    marks: MarkModel = MarkModel()
    ink: InkModel = InkModel()


def load_calibration(path: Path) -> Calibration:
    """Read and validate a profile; raise :class:`InvalidCalibrationError` on any problem."""
    data = read_yaml(path, InvalidCalibrationError)
    return validate(data, Calibration, str(path), InvalidCalibrationError)


def find_calibration(name_or_path: str | Path = "default") -> Calibration:
    """Load a profile by path, by name in ``./calibration/``, or by built-in name."""
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"} and path.is_file():
        return load_calibration(path)
    for folder in (Path("calibration"), data_dir("calibration")):  # the user's, then shipped
        candidate = folder / f"{name_or_path}.yaml"
        if candidate.is_file():
            return load_calibration(candidate)
    known = sorted(
        p.stem for p in data_dir("calibration").glob("*.yaml") if p.stem != "calibration-sheet"
    )
    raise InputFileError(
        f"no calibration profile {str(name_or_path)!r}: known profiles are {', '.join(known)}"
    )
