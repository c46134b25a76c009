"""Fit a scanner calibration profile from scans of the calibration sheet.

The calibration sheet (``calibration/calibration-sheet.yaml``) has one answer
block per writing medium, filled with that medium: pencils of several
hardnesses, black, blue and red pens, and an empty block. Read on one
scanner, it shows where that scanner puts blank paper, light pencil, dark
pencil and each ink, and the thresholds are placed between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from omr.calibration import Calibration, InkModel, MarkModel, find_calibration
from omr.detect.measure import bubble_points, measure_bubbles
from omr.detect.medium import is_colour, mark_colour, paper_colour
from omr.detect.register import register_page
from omr.errors import InputFileError
from omr.forms import Form, load_form
from omr.pages import PageLoadError, find_pages, load_page
from omr.resources import data_dir

PENCIL_BLOCKS = ("hb", "b2", "pencil")
BLACK_PEN_WORDS = ("black", "gel", "felt")
COLOUR_WORDS = ("blue", "red", "green")
CHROMA_FLOOR = 0.06  # never a lower chroma threshold than this, however clean the calibration


def calibration_sheet() -> Form:
    """The shipped calibration-sheet form."""
    return load_form(data_dir("calibration") / "calibration-sheet.yaml")


def block_medium(name: str) -> str:
    """``empty``, ``pencil``, ``black-pen`` or ``colour-ink``, from a block's name."""
    if name == "empty":
        return "empty"
    if name.startswith(PENCIL_BLOCKS):
        return "pencil"
    if name.startswith(COLOUR_WORDS):
        return "colour-ink"  # blue gel is a coloured ink, not a black pen
    if any(word in name for word in BLACK_PEN_WORDS):
        return "black-pen"
    return "colour-ink"


@dataclass
class Samples:
    """Measurements gathered per medium over all calibration scans."""

    darkness: dict[str, list[float]] = field(default_factory=dict)
    saturation: dict[str, list[float]] = field(default_factory=dict)
    hue: dict[str, list[float]] = field(default_factory=dict)
    density: dict[str, list[float]] = field(default_factory=dict)
    texture: dict[str, list[float]] = field(default_factory=dict)
    pages: int = 0
    colour_pages: int = 0

    def add(self, what: str, medium: str, values) -> None:
        getattr(self, what).setdefault(medium, []).extend(float(v) for v in values)

    def get(self, what: str, medium: str) -> np.ndarray:
        return np.asarray(getattr(self, what).get(medium, []), dtype=float)


def measure_calibration_pages(scans: list[Path], form: Form) -> Samples:
    """Register every page of ``scans`` on the calibration sheet and measure each block."""
    refs, problems = find_pages(scans)
    if problems:
        raise InputFileError(f"{problems[0].name}: {problems[0].message}")
    samples = Samples()
    points = bubble_points(form.layout)
    for ref in refs:
        try:
            page = load_page(ref)
        except PageLoadError as exc:
            raise InputFileError(str(exc)) from exc
        reg = register_page(page.gray, form)
        if not reg:
            raise InputFileError(f"{ref.sheet_id}: not a calibration sheet ({reg.message})")
        measures = measure_bubbles(page.gray, reg.matrix, points, ink=reg.ink)
        blank = float(np.median(measures.darkness[form.layout.fields["empty"].index.ravel()]))
        colour = page.pixels if is_colour(page.pixels if page.pixels.ndim == 3 else None) else None
        samples.pages += 1
        samples.colour_pages += colour is not None
        for name, f in form.layout.fields.items():
            if f.kind != "answers":
                continue
            medium = block_medium(name)
            idx = f.index.ravel()
            samples.add("darkness", medium, measures.darkness[idx] - blank)
            if colour is not None and medium != "empty":
                ev = mark_colour(colour, reg.matrix, points[idx], paper_rgb=paper_colour(colour))
                samples.add("saturation", medium, ev.saturation)
                samples.add("hue", medium, ev.hue)
                samples.add("density", medium, ev.density)
                samples.add("texture", medium, ev.texture)
    if not samples.pages:
        raise InputFileError("no pages in the calibration scans")
    return samples


def fit_marks(samples: Samples, base: MarkModel) -> MarkModel:
    """Empty and marked floors between this scanner's blank bubbles and its lightest pencil."""
    empty = samples.get("darkness", "empty")
    pencil = samples.get("darkness", "pencil")
    if empty.size == 0 or pencil.size == 0:
        return base
    blank_top = float(np.percentile(empty, 99.9))
    light = float(np.percentile(pencil, 1))
    empty_floor = float(np.clip(blank_top + 0.04, 0.05, 0.15))
    mark_floor = float(np.clip(0.6 * light, empty_floor + 0.05, 0.25))
    return base.model_copy(
        update={"empty_floor": round(empty_floor, 3), "mark_floor": round(mark_floor, 3)}
    )


def _neutralised(samples: Samples, medium: str, cast: dict) -> np.ndarray:
    """Saturation of a medium's samples with the fitted cast (at their density) taken away."""
    sat, hue = samples.get("saturation", medium), np.radians(samples.get("hue", medium))
    shift = samples.get("density", medium) - cast["neutral_density"]
    a = sat * np.cos(hue) - (cast["neutral_a"] + cast["neutral_da"] * shift)
    b = sat * np.sin(hue) - (cast["neutral_b"] + cast["neutral_db"] * shift)
    return np.hypot(a, b)


def fit_cast(samples: Samples) -> dict:
    """The scanner's colour cast on its pencil: a line in density through the median pencil."""
    sat, hue = samples.get("saturation", "pencil"), np.radians(samples.get("hue", "pencil"))
    density = samples.get("density", "pencil")
    if sat.size < 3:
        return {"neutral_a": 0.0, "neutral_b": 0.0, "neutral_da": 0.0, "neutral_db": 0.0}
    d0 = float(np.median(density))
    design = np.stack([np.ones_like(density), density - d0], axis=1)
    vectors = np.stack([sat * np.cos(hue), sat * np.sin(hue)], axis=1)
    (a0, b0), (da, db) = np.linalg.lstsq(design, vectors, rcond=None)[0]
    return {
        "neutral_a": round(float(a0), 4),
        "neutral_b": round(float(b0), 4),
        "neutral_density": round(d0, 3),
        "neutral_da": round(float(da), 4),
        "neutral_db": round(float(db), 4),
    }


def fit_ink(samples: Samples, base: InkModel) -> tuple[InkModel, list[str]]:
    """Ink thresholds between this scanner's pencil and its pens, and notes on what failed.

    The pencil's colour vector is the scanner's cast (a line in density: a
    lifted black level tints dark marks more); it is taken away from every
    mark before saturations are compared.
    """
    notes = []
    update = {"neutral_density": base.neutral_density, **fit_cast(samples)}
    pencil_sat = _neutralised(samples, "pencil", update)
    colour_sat = _neutralised(samples, "colour-ink", update)
    black_sat = _neutralised(samples, "black-pen", update)
    if pencil_sat.size and black_sat.size:
        spread = float(np.percentile(pencil_sat, 99.5))
        pen = float(np.median(black_sat))
        if pen > 2 * spread:
            update["sheet_saturation"] = round(max((spread + pen) / 2, 0.03), 3)
        else:
            update["sheet_saturation"] = round(max(2 * spread, base.sheet_saturation), 3)
            notes.append("black pens show no colour of their own on this scanner")
    if pencil_sat.size and colour_sat.size:
        hi, lo = float(np.percentile(pencil_sat, 99.5)), float(np.percentile(colour_sat, 0.5))
        update["saturation_max"] = round(max(hi * 1.1, (hi + lo) / 2) if lo > hi else hi * 1.2, 3)
        if lo <= hi:
            notes.append("some coloured ink is as grey as pencil on this scanner")
    pencil_den, black_den = samples.get("density", "pencil"), samples.get("density", "black-pen")
    if pencil_sat.size and black_sat.size:
        # colour in absorbance (saturation × density), after the cast is taken away
        hi = float(np.percentile(pencil_sat * pencil_den, 99.5))
        lo = float(np.percentile(black_sat * black_den, 10))
        # a session's marks are noisier than the calibration sheet's full fills,
        # and its pencil may be denser: the test is on only with a clear gap
        if lo > 4 * hi:
            update["chroma_min"] = round(max(4 * hi, (hi + lo) / 2, CHROMA_FLOOR), 3)
        else:
            notes.append("black pens show too little colour to tell them by it alone")
        update["outlier_chroma"] = round(max(4 * hi, base.outlier_chroma), 3)
    if pencil_den.size:
        # the densest pencil this scanner shows: a smooth mark well above it and
        # above the sheet's own pencil is a pen
        update["outlier_density_min"] = round(1.05 * float(np.percentile(pencil_den, 99.5)), 3)
    pencil_tex, black_tex = samples.get("texture", "pencil"), samples.get("texture", "black-pen")
    if pencil_den.size and black_den.size:
        den_hi, den_lo = float(np.percentile(pencil_den, 99.5)), float(np.percentile(black_den, 10))
        tex_hi = float(np.percentile(black_tex, 90))
        if den_lo > den_hi:
            update["black_density_min"] = round((den_hi + den_lo) / 2, 3)
            update["black_texture_max"] = round(max(tex_hi, float(np.percentile(pencil_tex, 5))), 3)
        else:
            update["black_density_min"] = 9.0  # off: black pens are no denser than pencil here
            notes.append("black pens are no denser than pencil on this scanner: not checked")
    return base.model_copy(update=update), notes


def fit_calibration(scans: list[Path], name: str, *, base: str = "default") -> Calibration:
    """A profile for the scanner that produced ``scans`` of the calibration sheet."""
    form = calibration_sheet()
    samples = measure_calibration_pages(scans, form)
    start = find_calibration(base)
    marks = fit_marks(samples, start.marks)
    if samples.colour_pages:
        ink, notes = fit_ink(samples, start.ink)
    else:
        ink, notes = start.ink, ["grey scans: ink thresholds kept from the base profile"]
    description = (
        f"Fitted by omr calibrate from {samples.pages} scan page(s) of the calibration sheet"
        + (f"; {'; '.join(notes)}" if notes else "")
    )
    return Calibration(name=name, description=description, marks=marks, ink=ink)


def write_calibration(calibration: Calibration, path: Path) -> None:
    """Write a profile as YAML."""
    data = calibration.model_dump(mode="json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
