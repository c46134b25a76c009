"""Answer-sheet form definitions: the data model, validation and bubble layout.

A form file (``forms/*.yaml``) gives, in millimetres on the printed page with the
origin at the top-left corner and y pointing down, where every registration mark
and every bubble sits. The same definition renders the printable sheet
(:mod:`omr.render`) and drives the reader (:mod:`omr.detect`).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from PIL import Image, UnidentifiedImageError
from pydantic import (
    Field,
    PositiveFloat,
    PositiveInt,
    PrivateAttr,
    field_validator,
    model_validator,
)

from omr.definitions import Strict, read_yaml, validate
from omr.errors import InputFileError, InvalidFormError
from omr.resources import data_dir

Point = tuple[float, float]
DEFAULT_ORDER = "0123456789"  # digit grids: the digits as printed, first bubble first


class Label(Strict):
    """A printed label in Turkish and English."""

    tr: str
    en: str

    def text(self) -> str:
        """Both languages, as printed: ``Turkish / English``."""
        return self.tr if self.tr == self.en else f"{self.tr} / {self.en}"


class Page(Strict):
    """Paper size in millimetres (A4 portrait is 210 × 297)."""

    width: PositiveFloat = Field(description="page width, mm")
    height: PositiveFloat = Field(description="page height, mm")


class CornerMarks(Strict):
    """Marks printed near the page edges: squares, circles, L-shapes, rings or bullseyes.

    ``marks`` are placed symmetrically (a half turn maps the set onto itself);
    the single ``orientation_mark``, when there is one, is not, so it tells an
    upside-down sheet. Without it, the printed bubbles tell (they sit where the
    form says under one half turn only). An L-shape's centre is the centre of
    its bounding box; its arms point into the page. A bullseye is rings round
    a solid centre dot: ``mark_size`` is the dot's diameter (the dot is what
    is found and measured), ``ring_size`` the outer ring's. A ring is a hollow
    circle: ``mark_size`` its outer diameter, ``ring_width`` its line's width.
    """

    kind: Literal["corner-squares", "corner-marks"] = "corner-squares"
    shape: Literal["square", "circle", "l-shape", "ring", "bullseye"] = "square"
    mark_size: PositiveFloat = Field(5.0, description="side (or diameter) of each mark, mm")
    ring_size: PositiveFloat | None = Field(
        None, description="a bullseye's outer diameter, mm (default 4.3 x mark_size)"
    )
    marks: list[Point] = Field(min_length=4, description="centres of the marks, mm")
    orientation_mark: Point | None = Field(None, description="centre of the orientation square")
    orientation_size: PositiveFloat = Field(3.0, description="side of the orientation square")
    l_thickness: PositiveFloat = Field(1.5, description="arm thickness of an L-shape, mm")
    ring_width: PositiveFloat = Field(1.0, description="line width of a ring, mm")

    def landmarks_mm(self) -> np.ndarray:
        """Centres (K, 2) of every printed registration mark, in mm."""
        extra = [self.orientation_mark] if self.orientation_mark is not None else []
        return np.asarray(self.marks + extra, dtype=float)


class Track(Strict):
    """One timing track: ``count`` identical dashes evenly spaced from ``first`` to ``last``."""

    first: Point = Field(description="centre of the first dash, mm")
    last: Point = Field(description="centre of the last dash, mm")
    count: int = Field(ge=2, description="number of dashes")

    def centres(self) -> np.ndarray:
        """Dash centres (count, 2), mm, in order from ``first`` to ``last``."""
        t = np.linspace(0.0, 1.0, self.count)[:, None]
        return np.asarray(self.first) + t * (np.asarray(self.last) - np.asarray(self.first))


class TimingTrack(Strict):
    """The dashes along a sheet's edge that hardware readers clock rows by.

    Every dash is a landmark; a track along one edge only (dashes in a line)
    fixes position, turn and scale, and the bubble outlines check the rest.
    """

    kind: Literal["timing-track"]
    dash: Point = Field(description="width and height of one dash, mm")
    tracks: list[Track] = Field(min_length=1)

    def landmarks_mm(self) -> np.ndarray:
        """Centres (K, 2) of every dash, track after track, in mm."""
        return np.concatenate([t.centres() for t in self.tracks])


class ReferenceImage(Strict):
    """No marks at all: the scan is aligned on a scan of the blank sheet by its features.

    Form millimetres are the reference image's pixels divided by ``dpi / 25.4``.
    """

    kind: Literal["reference-image"]
    image: str = Field(description="the blank sheet's image, relative to the form file")
    dpi: PositiveFloat = Field(description="resolution of the reference image")

    def landmarks_mm(self) -> np.ndarray:
        """No printed landmarks: an empty (0, 2) array."""
        return np.empty((0, 2))


class MarkerImage(Strict):
    """Copies of a picture the user supplies (``image``) printed as registration marks.

    ``mark_size`` is the picture's printed width and height, mm; ``marks`` the
    centres of its copies, or, instead, ``inset``: one copy in each corner, its
    centre that far (x, y) from the page's edges. Copies are found by template
    matching; a picture the same under a half turn (a bullseye) does not tell
    the way up, and the printed bubbles must.
    """

    kind: Literal["marker-image"]
    image: str = Field(description="the marker's image, relative to the form file")
    mark_size: Point = Field(description="the marker's printed width and height, mm")
    marks: list[Point] = Field(min_length=4, description="centres of the marker's copies, mm")

    @field_validator("mark_size", mode="before")
    @classmethod
    def _square(cls, value):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (value, value)
        return value

    @field_validator("mark_size")
    @classmethod
    def _positive(cls, value: Point) -> Point:
        if min(value) <= 0:
            raise ValueError("mark_size: the printed width and height must be above 0 mm")
        return value

    def landmarks_mm(self) -> np.ndarray:
        """Centres (K, 2) of every copy of the marker, in mm."""
        return np.asarray(self.marks, dtype=float)


Registration = Annotated[
    CornerMarks | TimingTrack | ReferenceImage | MarkerImage, Field(discriminator="kind")
]


class BubbleShape(Strict):
    """The printed outline of every bubble when it is not a plain circle."""

    shape: Literal["circle", "ellipse", "rounded-rect"] = "circle"
    size: Point = Field(description="width and height of the outline, mm")


@dataclass(frozen=True)
class Outline:
    """The printed outline of one field's bubbles: its shape and half width and height, mm."""

    shape: Literal["circle", "ellipse", "rounded-rect", "square"]
    half: tuple[float, float]

    @property
    def radius(self) -> float:
        """The smaller half axis: how far text and boxes keep from a bubble's centre."""
        return min(self.half)


class _Sized(Strict):
    """A field whose bubbles may be printed at a size of their own."""

    bubble_diameter: PositiveFloat | None = Field(
        None, description="this field's round bubbles' diameter, mm (default: the form's)"
    )
    bubble: BubbleShape | None = Field(
        None, description="this field's bubble outline (default: the form's)"
    )

    @model_validator(mode="after")
    def _one_size(self):
        if self.bubble_diameter is not None and self.bubble is not None:
            raise ValueError("give bubble_diameter (round bubbles) or bubble, not both")
        return self


def _steps_from_ends(first, last, n_a: int, n_b: int, a_across: bool):
    """Steps along the two directions of a grid from its first and last bubble centres.

    ``a`` runs across (x) when ``a_across``, else down; ``b`` the other way.
    """
    dx, dy = last[0] - first[0], last[1] - first[1]
    if a_across:
        return (dx / max(n_a - 1, 1), 0.0), (0.0, dy / max(n_b - 1, 1))
    return (0.0, dy / max(n_a - 1, 1)), (dx / max(n_b - 1, 1), 0.0)


def _from_ends(data, *, a: str, n_a, b: str | None, n_b, a_across: bool):
    """Fill ``origin`` and steps from ``first``/``last`` in raw data (a compact grid)."""
    if not isinstance(data, dict) or "first" not in data:
        return data
    data = dict(data)
    first, last = data.pop("first"), data.pop("last", None)
    if last is None:
        raise ValueError("'last' is required with 'first'")
    data["origin"] = first
    step_a, step_b = _steps_from_ends(first, last, n_a, n_b, a_across)
    data[a] = step_a
    if b is not None:
        data[b] = step_b
    return data


def _unit(v) -> tuple[float, float] | None:
    """``v`` scaled to length 1, or None when it is not a non-zero pair of numbers."""
    if not isinstance(v, list | tuple) or len(v) != 2:
        return None
    try:
        x, y = float(v[0]), float(v[1])
    except (TypeError, ValueError):
        return None
    n = float(np.hypot(x, y))
    return (x / n, y / n) if n > 0 else None


def _offset_points(data: dict, direction) -> dict:
    """``option_offsets`` given as numbers (mm along ``direction``) turned into points.

    The first option's offset must be 0; ``option_step`` defaults to the
    offset of the second option.
    """
    offsets = data.get("option_offsets")
    if not isinstance(offsets, list) or not offsets:
        return data
    data = dict(data)
    dx, dy = direction or (1.0, 0.0)
    points = []
    for value in offsets:
        if isinstance(value, int | float) and not isinstance(value, bool):
            points.append((value * dx, value * dy))
        else:
            points.append(value)
    data["option_offsets"] = points
    if "option_step" not in data and len(points) > 1:
        with suppress(TypeError, IndexError):  # bad points are refused with their key path
            data["option_step"] = (points[1][0] - points[0][0], points[1][1] - points[0][1])
    return data


class _Spaced(_Sized):
    """A field whose options may be printed at uneven distances (``option_offsets``)."""

    option_offsets: list[Point] | None = Field(
        None,
        description="offset of each option's bubble from the first, mm (first 0): for uneven "
        "spacing; numbers are distances along the row of options",
    )

    @model_validator(mode="after")
    def _offsets_fit(self):
        offsets = self.option_offsets
        if offsets is None:
            return self
        if len(offsets) != len(self.options):
            raise ValueError(
                f"option_offsets has {len(offsets)} entries for {len(self.options)} options"
            )
        if any(abs(v) > 1e-9 for v in offsets[0]):
            raise ValueError("option_offsets: the first option's offset is 0 (offsets are from it)")
        return self

    def option_positions(self) -> np.ndarray:
        """Offsets ``(K, 2)`` of the options' bubbles from the first, mm."""
        if self.option_offsets is not None:
            return np.asarray(self.option_offsets, dtype=float)
        return np.arange(len(self.options))[:, None] * np.asarray(self.option_step, dtype=float)


class GroupField(_Spaced):
    """The booklet-group field: one row (or column) of lettered bubbles."""

    label: Label
    origin: Point = Field(description="centre of the first bubble, mm")
    options: list[str] = Field(min_length=2)
    option_step: Point = Field(description="offset from one bubble to the next, mm")

    @model_validator(mode="before")
    @classmethod
    def _compact(cls, data):
        """``first`` and ``last`` bubble centres instead of ``origin`` and ``option_step``.

        With ``option_offsets``, ``first`` alone will do; offsets given as
        numbers run along ``option_step``, else from ``first`` to ``last``,
        else across.
        """
        if not isinstance(data, dict):
            return data
        data = dict(data)
        direction = _unit(data.get("option_step"))
        if "first" in data and ("last" in data or "option_offsets" in data):
            first, last = data.pop("first"), data.pop("last", None)
            data["origin"] = first
            if last is not None:
                n = max(len(data.get("options") or []) - 1, 1)
                try:
                    step = ((last[0] - first[0]) / n, (last[1] - first[1]) / n)
                except (TypeError, IndexError):
                    step = last  # refused with its key path
                direction = direction or _unit(step)
                if "option_offsets" not in data:
                    data["option_step"] = step
        return _offset_points(data, direction)


class DigitsField(_Sized):
    """A digit grid: one column per digit position, its bubbles down each column.

    ``order`` is the digits as printed, first bubble first: ``"0123456789"``
    (the default), ``"1234567890"`` for a grid printed 1–9 then 0, or fewer
    digits where a position cannot take them all.
    """

    label: Label
    origin: Point = Field(description="centre of the first printed bubble of the first digit, mm")
    digits: PositiveInt = Field(le=20)
    digit_step: Point = Field(description="offset from one digit column to the next, mm")
    option_step: Point = Field(description="offset from one printed bubble to the next, mm")
    order: str = Field(DEFAULT_ORDER, description="the digits as printed, first bubble first")

    @model_validator(mode="before")
    @classmethod
    def _compact(cls, data):
        """``first`` (first printed bubble of the first digit) and ``last`` (last printed
        bubble of the last digit).

        Digits run across and their bubbles down, unless ``digits_down: true``.
        """
        if isinstance(data, dict) and "first" in data:
            data = dict(data)
            across = not data.pop("digits_down", False)
            order = data.get("order", DEFAULT_ORDER)
            data = _from_ends(
                data,
                a="digit_step",
                n_a=data.get("digits", 1),
                b="option_step",
                n_b=len(order) if isinstance(order, str) and order else 10,
                a_across=across,
            )
        return data

    @field_validator("order", mode="before")
    @classmethod
    def _order_digits(cls, value):
        if isinstance(value, int) and not isinstance(value, bool):
            # YAML reads 1234567890 unquoted as a number, and drops a leading 0
            if len(str(value)) != 10:
                raise ValueError(f'order {value}: write the digits in quotes ("0123456789")')
            value = str(value)
        if not isinstance(value, str):
            return value
        if len(value) < 2 or not value.isdigit() or len(set(value)) != len(value):
            raise ValueError(
                f"order {value!r}: the digits as printed, each once, at least two "
                '(e.g. "0123456789" or "1234567890")'
            )
        return value


class AnswerBlock(_Spaced):
    """Questions × options; long blocks wrap into columns that continue the numbering."""

    label: Label
    origin: Point = Field(description="centre of option 1 of the first question, mm")
    questions: PositiveInt
    # One option: a questionnaire's one bubble per statement, marked or not.
    options: list[str] = Field(min_length=1)
    option_step: Point
    question_step: Point
    per_column: PositiveInt | None = Field(None, description="questions per column")
    column_step: Point | None = Field(None, description="offset between columns, mm")
    first_number: int = Field(1, description="printed number of the first question")
    numbering: Literal["continue", "restart"] = Field(
        "continue", description="whether each column's printed numbers restart at first_number"
    )

    @model_validator(mode="before")
    @classmethod
    def _compact(cls, data):
        """``first`` and ``last`` bubble centres of the first column instead of origin and steps.

        ``first`` is option 1 of the first question, ``last`` the last option of
        the column's last question; options run across and questions down,
        unless ``options_down: true``.
        """
        if not isinstance(data, dict):
            return data
        data = dict(data)
        across = not data.pop("options_down", False)
        direction = _unit(data.get("option_step")) or ((1.0, 0.0) if across else (0.0, 1.0))
        data = _offset_points(data, direction)
        if "first" in data:
            per = data.get("per_column") or data.get("questions") or 1
            ends = data.get("first"), data.get("last")
            data = _from_ends(
                data,
                a="option_step",
                n_a=len(data.get("options") or []) or 1,
                b="question_step",
                n_b=per,
                a_across=across,
            )
            offsets = data.get("option_offsets")
            if offsets:  # the last option of the column's last question sits at its offset
                try:
                    (fx, fy), (lx, ly), (ox, oy) = ends[0], ends[1], offsets[-1]
                    rows = max(per - 1, 1)
                    across_step = (0.0, (ly - oy - fy) / rows)
                    data["question_step"] = across_step if across else ((lx - ox - fx) / rows, 0.0)
                    data["option_step"] = (offsets[1][0], offsets[1][1])
                except (TypeError, ValueError, IndexError, KeyError):
                    pass  # refused with its key path
        return data

    def item_numbers(self) -> list[int]:
        """Printed number of every question, in block order."""
        q = np.arange(self.questions)
        if self.numbering == "restart" and self.per_column:
            q = q % self.per_column
        return [int(n) for n in q + self.first_number]

    @field_validator("column_step")
    @classmethod
    def _column_step_needs_per_column(cls, value: Point | None, info) -> Point | None:
        if value is None and info.data.get("per_column") is not None:
            raise ValueError("column_step is required when per_column is given")
        return value


TURKISH_ALPHABET = "ABCÇDEFGĞHIİJKLMNOÖPRSŞTUÜVYZ"


class LetterGrid(_Sized):
    """A grid where the candidate codes letters (a name): one column per letter position.

    Read and stored, never scored. Names are personal data (KVKK): they are
    exported only when the exam asks for it (``export_letters: true``) and
    never written to logs or review notes.
    """

    label: Label
    origin: Point = Field(description="centre of the first printed bubble of the first letter, mm")
    letters: PositiveInt = Field(le=60, description="letter positions")
    alphabet: str = Field(
        TURKISH_ALPHABET, min_length=2, description="the letters as printed, first bubble first"
    )
    letter_step: Point = Field(description="offset from one letter column to the next, mm")
    option_step: Point = Field(description="offset from one printed bubble to the next, mm")

    @model_validator(mode="before")
    @classmethod
    def _compact(cls, data):
        """``first`` (first bubble of the first letter) and ``last`` (last bubble of the last).

        Letters run across and their bubbles down, unless ``letters_down: true``.
        """
        if isinstance(data, dict) and "first" in data:
            data = dict(data)
            across = not data.pop("letters_down", False)
            alphabet = data.get("alphabet", TURKISH_ALPHABET)
            data = _from_ends(
                data,
                a="letter_step",
                n_a=data.get("letters", 1),
                b="option_step",
                n_b=len(alphabet) if isinstance(alphabet, str) and alphabet else 2,
                a_across=across,
            )
        return data

    @field_validator("alphabet")
    @classmethod
    def _letters_once(cls, value: str) -> str:
        if len(set(value)) != len(value) or any(c.isspace() for c in value):
            raise ValueError("alphabet: each letter once, no spaces")
        return value


class Box(Strict):
    """A square box a proctor marks (absent, cancelled by report)."""

    label: Label
    center: Point
    size: PositiveFloat = 4.0


class Rect(Strict):
    """A rectangle on the page, such as the signature box."""

    label: Label
    origin: Point = Field(description="top-left corner, mm")
    size: Point = Field(description="width and height, mm")


class Text(Strict):
    """Free text printed on the sheet (titles, instructions)."""

    text: str
    at: Point = Field(description="start of the baseline, mm")
    size: PositiveFloat = Field(8.0, description="font size, points")
    bold: bool = False


class Identity(Strict):
    """Digit grids that identify the candidate; each is optional."""

    national_id: DigitsField | None = None
    student_number: DigitsField | None = None
    hall: DigitsField | None = None
    seat: DigitsField | None = None


class Boxes(Strict):
    """Proctor-only boxes."""

    absent: Box | None = None
    cancelled: Box | None = None


class Form(Strict):
    """A complete answer-sheet design."""

    format: Literal[1] = Field(description="version of this file format")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    unit: Literal["mm", "px"] = Field(
        "mm", description="unit of the positions in the file; px needs dpi (held here in mm)"
    )
    dpi: PositiveFloat | None = Field(None, description="resolution of px positions")
    title: Label
    page: Page
    bubble_diameter: PositiveFloat = Field(4.0, description="bubble diameter, mm")
    bubble: BubbleShape | None = Field(None, description="outline of non-circular bubbles")
    registration: Registration
    group: GroupField | None = Field(
        None, description="booklet-group field; none when the exam has one booklet version"
    )
    identity: Identity = Identity()
    answer_blocks: dict[str, AnswerBlock] = Field(min_length=1)
    score_fields: dict[str, DigitsField] = Field(
        default_factory=dict,
        description="digit grids where a grader codes the points of open-ended questions",
    )
    letter_grids: dict[str, LetterGrid] = Field(
        default_factory=dict,
        description="grids where the candidate codes letters (names): read, stored, not scored",
    )
    boxes: Boxes = Boxes()
    signature: Rect | None = None
    texts: list[Text] = []
    _source_dir: Path | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data):
        """Default registration kind; positions given in pixels turned into millimetres."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        reg = data.get("registration")
        if isinstance(reg, dict) and "kind" not in reg:
            data["registration"] = {"kind": "corner-squares", **reg}
        if "registration" in data:
            data["registration"] = _marker_corners(data["registration"], data.get("page"))
        if data.get("unit") == "px":
            dpi = data.get("dpi")
            if not isinstance(dpi, int | float) or dpi <= 0:
                raise ValueError("unit: px needs dpi: the resolution the positions were taken at")
            data = {
                k: (v if k in {"unit", "dpi"} else _px_to_mm(v, dpi, k)) for k, v in data.items()
            }
        return data

    @model_validator(mode="after")
    def _field_names_unique(self) -> Form:
        names = [*self.answer_blocks, *self.score_fields, *self.letter_grids]
        reserved = {"group", "signature", *Identity.model_fields, *Boxes.model_fields}
        clash = sorted((set(names) & reserved) | {n for n in names if names.count(n) > 1})
        if clash:
            raise ValueError(f"field names must be unique and not reserved: {', '.join(clash)}")
        return self

    def field_definition(self, name: str):
        """The definition of the field called ``name`` (as in the layout), or None."""
        if name == "group":
            return self.group
        for section in (self.identity, self.boxes):
            value = getattr(section, name, None)
            if value is not None:
                return value
        return (
            self.score_fields.get(name)
            or self.answer_blocks.get(name)
            or self.letter_grids.get(name)
        )

    def outline(self, name: str) -> Outline:
        """How the bubbles of field ``name`` are printed: the field's own size, else the form's.

        Proctor boxes are squares of their ``size``.
        """
        field = self.field_definition(name)
        if isinstance(field, Box):
            return Outline("square", (field.size / 2, field.size / 2))
        if field is None:
            raise KeyError(f"the form has no field {name!r}")
        if field.bubble_diameter is not None:
            return Outline("circle", (field.bubble_diameter / 2,) * 2)
        shape = field.bubble or self.bubble
        if shape is not None:
            return Outline(shape.shape, (shape.size[0] / 2, shape.size[1] / 2))
        return Outline("circle", (self.bubble_diameter / 2,) * 2)

    def digit_grid(self, name: str) -> DigitsField | None:
        """The identity or score digit grid called ``name``."""
        return getattr(self.identity, name, None) or self.score_fields.get(name)

    def _beside(self, name: str) -> Path:
        """The file ``name`` given in the form, relative to the form file's folder."""
        path = Path(name)
        if not path.is_absolute() and self._source_dir is not None:
            path = self._source_dir / path
        return path

    def reference_path(self) -> Path | None:
        """The reference image file of a ``reference-image`` form, or None."""
        reg = self.registration
        return self._beside(reg.image) if isinstance(reg, ReferenceImage) else None

    def marker_path(self) -> Path | None:
        """The marker's image file of a ``marker-image`` form, or None."""
        reg = self.registration
        return self._beside(reg.image) if isinstance(reg, MarkerImage) else None

    @cached_property
    def reference_gray(self) -> np.ndarray | None:
        """The reference image in grey levels (M, N) uint8, or None when the form has none."""
        return _grey_image(self.reference_path(), "reference image")

    @cached_property
    def marker_gray(self) -> np.ndarray | None:
        """The marker's image in grey levels (M, N) uint8, or None when the form has none."""
        return _grey_image(self.marker_path(), "marker image")

    @cached_property
    def layout(self) -> BubbleLayout:
        """Every bubble of the form, indexed by field (see :func:`bubble_layout`)."""
        return bubble_layout(self)


def _marker_corners(reg, page):
    """A marker-image registration's ``inset`` turned into the four corner centres."""
    if not isinstance(reg, dict) or reg.get("kind") != "marker-image" or "inset" not in reg:
        return reg
    if "marks" in reg:
        return reg  # both given: ``inset`` is refused as an unknown key, with its key path
    reg = dict(reg)
    inset = reg.pop("inset")
    try:
        dx, dy = (inset, inset) if isinstance(inset, int | float) else (inset[0], inset[1])
        w, h = float(page["width"]), float(page["height"])
        reg["marks"] = [[dx, dy], [w - dx, dy], [w - dx, h - dy], [dx, h - dy]]
    except (TypeError, KeyError, IndexError, ValueError):
        reg["marks"] = inset  # refused with its key path
    return reg


def _grey_image(path: Path | None, what: str) -> np.ndarray | None:
    """The image at ``path`` in grey levels (M, N) uint8; None for no path."""
    if path is None:
        return None
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("L")).copy()
    except (OSError, UnidentifiedImageError) as exc:
        raise InvalidFormError(
            str(path), [("registration.image", f"cannot read the {what}: {exc}")]
        ) from exc


# Keys whose numbers are lengths on the page (converted with unit: px); font sizes
# of ``texts`` are points and stay as they are.
_LENGTH_KEYS = {
    "width",
    "height",
    "origin",
    "option_step",
    "question_step",
    "column_step",
    "digit_step",
    "letter_step",
    "center",
    "size",
    "at",
    "marks",
    "orientation_mark",
    "mark_size",
    "orientation_size",
    "l_thickness",
    "first",
    "last",
    "dash",
    "bubble_diameter",
    "option_offsets",
}


def _px_to_mm(value, dpi: float, key: str | None):
    """``value`` with every length under a length key divided by ``dpi / 25.4``."""
    if isinstance(value, dict):
        return {k: _px_to_mm(v, dpi, k) for k, v in value.items() if k != "dpi"} | (
            {"dpi": value["dpi"]} if "dpi" in value else {}
        )
    if isinstance(value, list):
        if key == "texts":
            return [
                {
                    **_px_to_mm({k: v for k, v in t.items() if k != "size"}, dpi, None),
                    **({"size": t["size"]} if "size" in t else {}),
                }
                if isinstance(t, dict)
                else t
                for t in value
            ]
        return [_px_to_mm(v, dpi, key) for v in value]
    if key in _LENGTH_KEYS and isinstance(value, int | float) and not isinstance(value, bool):
        return value * 25.4 / dpi
    return value


@dataclass(frozen=True, eq=False)
class FieldLayout:
    """Where one field's bubbles sit in the flat bubble arrays.

    ``index[i, j]`` is the bubble of item ``i`` (question or digit position)
    and option ``j``.
    """

    name: str
    kind: Literal["group", "digits", "answers", "letters", "box"]
    option_labels: tuple[str, ...]
    index: np.ndarray
    item_numbers: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class BubbleLayout:
    """All bubbles of a form as flat arrays, plus the fields that index them.

    ``centers_xy`` is ``(N, 2)`` in (x, y) millimetres; ``half_axes`` ``(N, 2)``
    the half width and half height of each outline; ``radius`` ``(N,)`` the
    radius of the circle of the same area; ``square`` marks the bubbles that
    are proctor boxes and ``rectangular`` every bubble sampled as a rectangle
    (proctor boxes and rounded-rectangle bubbles).
    """

    centers_xy: np.ndarray
    radius: np.ndarray
    square: np.ndarray
    fields: dict[str, FieldLayout]
    half_axes: np.ndarray
    rectangular: np.ndarray

    def __len__(self) -> int:
        return len(self.radius)


def _grid(origin: Point, n_items: int, n_options: int, item_step, option_step) -> np.ndarray:
    """Centres ``(n_items, n_options, 2)`` of a regular grid."""
    i = np.arange(n_items)[:, None, None]
    j = np.arange(n_options)[None, :, None]
    return np.asarray(origin) + i * np.asarray(item_step) + j * np.asarray(option_step)


def _answer_centers(block: AnswerBlock) -> np.ndarray:
    q = np.arange(block.questions)
    per = block.per_column or block.questions
    col, row = np.divmod(q, per)
    column_step = np.asarray(block.column_step or (0.0, 0.0))
    base = np.asarray(block.origin) + row[:, None] * block.question_step
    base = base + col[:, None] * column_step
    return base[:, None, :] + block.option_positions()[None, :, :]


def bubble_layout(form: Form) -> BubbleLayout:
    """Flatten every bubble-like field of ``form`` into arrays."""
    centers: list[np.ndarray] = []
    axes: list[np.ndarray] = []
    squares: list[np.ndarray] = []
    rects: list[np.ndarray] = []
    fields: dict[str, FieldLayout] = {}

    def add(name, kind, labels, grid, numbers):
        start = sum(len(c) for c in centers)
        n_items, n_options = grid.shape[:2]
        outline = form.outline(name)
        square = outline.shape == "square"
        centers.append(grid.reshape(-1, 2))
        axes.append(np.tile(np.asarray(outline.half, dtype=float), (n_items * n_options, 1)))
        squares.append(np.full(n_items * n_options, square))
        rects.append(np.full(n_items * n_options, outline.shape in {"square", "rounded-rect"}))
        index = start + np.arange(n_items * n_options).reshape(n_items, n_options)
        fields[name] = FieldLayout(name, kind, tuple(labels), index, tuple(numbers))

    g = form.group
    if g is not None:
        grid = (np.asarray(g.origin, dtype=float) + g.option_positions())[None]
        add("group", "group", g.options, grid, [1])
    for name, d in [*form.identity, *form.score_fields.items()]:
        if d is not None:
            grid = _grid(d.origin, d.digits, len(d.order), d.digit_step, d.option_step)
            add(name, "digits", tuple(d.order), grid, range(1, d.digits + 1))
    for name, block in form.answer_blocks.items():
        add(name, "answers", block.options, _answer_centers(block), block.item_numbers())
    for name, g in form.letter_grids.items():
        grid = _grid(g.origin, g.letters, len(g.alphabet), g.letter_step, g.option_step)
        add(name, "letters", tuple(g.alphabet), grid, range(1, g.letters + 1))
    for name, box in form.boxes:
        if box is not None:
            grid = np.asarray(box.center, dtype=float).reshape(1, 1, 2)
            add(name, "box", ("x",), grid, [1])
    half_axes = np.concatenate(axes).astype(float)
    return BubbleLayout(
        centers_xy=np.concatenate(centers).astype(float),
        radius=np.sqrt(half_axes[:, 0] * half_axes[:, 1]),
        square=np.concatenate(squares),
        fields=fields,
        half_axes=half_axes,
        rectangular=np.concatenate(rects),
    )


def check_geometry(form: Form) -> list[tuple[str, str]]:
    """Problems with where things sit: off the page, overlapping bubbles or marks."""
    problems: list[tuple[str, str]] = []
    layout = bubble_layout(form)
    w, h = form.page.width, form.page.height
    owner = {}
    for f in layout.fields.values():
        for i in f.index.ravel():
            owner[int(i)] = f.name
    xy, ax = layout.centers_xy, layout.half_axes
    outside = (
        (xy[:, 0] - ax[:, 0] < 0)
        | (xy[:, 1] - ax[:, 1] < 0)
        | (xy[:, 0] + ax[:, 0] > w)
        | (xy[:, 1] + ax[:, 1] > h)
    )
    for name in sorted({owner[int(i)] for i in np.flatnonzero(outside)}):
        problems.append((_path_of(form, name), "bubbles fall outside the page"))
    # Distance in units of the two outlines' summed half axes: below 1 they touch.
    reach = ax[:, None, :] + ax[None, :, :]
    dist = np.hypot(*((xy[:, None, :] - xy[None, :, :]) / reach).transpose(2, 0, 1))
    np.fill_diagonal(dist, np.inf)
    clash = dist < 1.05
    seen = set()
    for a, b in zip(*np.nonzero(clash), strict=True):
        pair = tuple(sorted((owner[int(a)], owner[int(b)])))
        if pair not in seen:
            seen.add(pair)
            what = "bubbles overlap each other" if pair[0] == pair[1] else f"overlaps {pair[1]}"
            problems.append((_path_of(form, pair[0]), what))
    problems += _registration_problems(form, xy, ax)
    return problems


def _registration_problems(form: Form, xy: np.ndarray, half_axes: np.ndarray) -> list:
    """Bubbles on a registration mark or dash; an orientation mark at the page centre."""
    reg = form.registration
    if isinstance(reg, ReferenceImage):
        return []
    marks = reg.landmarks_mm()
    if isinstance(reg, TimingTrack):
        half = np.tile(np.asarray(reg.dash) / 2, (len(marks), 1))
    elif isinstance(reg, MarkerImage):
        half = np.tile(np.asarray(reg.mark_size) / 2, (len(marks), 1))
    else:
        sizes = np.full(len(reg.marks), reg.mark_size)
        if reg.orientation_mark is not None:
            sizes = np.r_[sizes, reg.orientation_size]
        half = np.repeat(sizes[:, None] / 2, 2, axis=1)
    gap = np.abs(xy[:, None, :] - marks[None, :, :]) - half_axes[:, None, :] - half[None, :, :]
    near = (gap < 0).all(axis=-1)
    owner = {int(i): f.name for f in form.layout.fields.values() for i in f.index.ravel()}
    out = [
        (_path_of(form, name), "overlaps a registration mark")
        for name in sorted({owner[int(i)] for i in np.nonzero(near)[0]})
    ]
    if isinstance(reg, CornerMarks) and reg.orientation_mark is not None:
        w, h = form.page.width, form.page.height
        mirror = np.array([w, h]) - np.asarray(reg.orientation_mark)
        if np.abs(mirror - reg.orientation_mark).max() < reg.orientation_size * 2:
            out.append(("registration.orientation_mark", "must not sit at the page centre"))
    return out


def _path_of(form: Form, name: str) -> str:
    """Key path of field ``name`` in the form file."""
    if name in Identity.model_fields:
        return f"identity.{name}"
    if name in Boxes.model_fields:
        return f"boxes.{name}"
    if name in form.answer_blocks:
        return f"answer_blocks.{name}"
    if name in form.score_fields:
        return f"score_fields.{name}"
    if name in form.letter_grids:
        return f"letter_grids.{name}"
    return name


def form_problems(data: object, source: str = "form") -> list[tuple[str, str]]:
    """Every problem of a form given as plain data, each with its key path; [] when valid.

    Format errors (``answer_blocks.block-1.options: List should have at least 2
    items``) first; when the format holds, the geometry's (bubbles off the
    page, overlapping, on a mark).
    """
    try:
        form = validate(data, Form, source, InvalidFormError)
    except InvalidFormError as exc:
        return list(exc.problems)
    return check_geometry(form)


def load_form(path: Path) -> Form:
    """Read and validate a form file; raise :class:`InvalidFormError` listing every problem."""
    data = read_yaml(path, InvalidFormError)
    form = validate(data, Form, str(path), InvalidFormError)
    form._source_dir = Path(path).resolve().parent
    problems = check_geometry(form)
    for image in (form.reference_path(), form.marker_path()):
        if image is not None and not image.is_file():
            problems.append(("registration.image", f"no such file: {image}"))
    if problems:
        raise InvalidFormError(str(path), problems)
    return form


def builtin_forms() -> dict[str, Path]:
    """Names and files of the forms shipped with omr."""
    return {p.stem: p for p in sorted(data_dir("forms").glob("*.yaml"))}


def find_form(name_or_path: str | Path) -> Form:
    """Load a form by built-in name (``central-a4``) or by file path."""
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"} and path.is_file():
        return load_form(path)
    known = builtin_forms()
    if str(name_or_path) in known:
        return load_form(known[str(name_or_path)])
    raise InputFileError(
        f"no form named {str(name_or_path)!r}: built-in forms are {', '.join(known) or 'none'}; "
        "or give the path of a form .yaml file"
    )
