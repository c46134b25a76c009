"""Answer-sheet form definitions: the data model, validation and bubble layout.

A form file (``forms/*.yaml``) gives, in millimetres on the printed page with the
origin at the top-left corner and y pointing down, where every registration mark
and every bubble sits. The same definition renders the printable sheet
(:mod:`omr.render`) and drives the reader (:mod:`omr.detect`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, PositiveFloat, PositiveInt, field_validator, model_validator

from omr.definitions import Strict, read_yaml, validate
from omr.errors import InputFileError, InvalidFormError
from omr.resources import data_dir

Point = tuple[float, float]
DIGITS = tuple("0123456789")


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


class Registration(Strict):
    """Solid square marks printed near the page edges.

    ``marks`` are placed symmetrically (a half turn maps the set onto itself);
    the single ``orientation_mark`` is not, so it tells an upside-down sheet.
    """

    kind: Literal["corner-squares"] = "corner-squares"
    mark_size: PositiveFloat = Field(5.0, description="side of each square mark, mm")
    marks: list[Point] = Field(min_length=4, description="centres of the square marks, mm")
    orientation_mark: Point = Field(description="centre of the orientation square, mm")
    orientation_size: PositiveFloat = Field(3.0, description="side of the orientation square")


class GroupField(Strict):
    """The booklet-group field: one row (or column) of lettered bubbles."""

    label: Label
    origin: Point = Field(description="centre of the first bubble, mm")
    options: list[str] = Field(min_length=2)
    option_step: Point = Field(description="offset from one bubble to the next, mm")


class DigitsField(Strict):
    """A digit grid: one column per digit position, bubbles 0–9 down each column."""

    label: Label
    origin: Point = Field(description="centre of bubble 0 of the first digit, mm")
    digits: PositiveInt = Field(le=20)
    digit_step: Point = Field(description="offset from one digit column to the next, mm")
    option_step: Point = Field(description="offset from bubble 0 to bubble 1, mm")


class AnswerBlock(Strict):
    """Questions × options; long blocks wrap into columns that continue the numbering."""

    label: Label
    origin: Point = Field(description="centre of option 1 of the first question, mm")
    questions: PositiveInt
    options: list[str] = Field(min_length=2)
    option_step: Point
    question_step: Point
    per_column: PositiveInt | None = Field(None, description="questions per column")
    column_step: Point | None = Field(None, description="offset between columns, mm")
    first_number: int = Field(1, description="printed number of the first question")

    @field_validator("column_step")
    @classmethod
    def _column_step_needs_per_column(cls, value: Point | None, info) -> Point | None:
        if value is None and info.data.get("per_column") is not None:
            raise ValueError("column_step is required when per_column is given")
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
    title: Label
    page: Page
    bubble_diameter: PositiveFloat = Field(4.0, description="bubble diameter, mm")
    registration: Registration
    group: GroupField
    identity: Identity = Identity()
    answer_blocks: dict[str, AnswerBlock] = Field(min_length=1)
    score_fields: dict[str, DigitsField] = Field(
        default_factory=dict,
        description="digit grids where a grader codes the points of open-ended questions",
    )
    boxes: Boxes = Boxes()
    signature: Rect | None = None
    texts: list[Text] = []

    @model_validator(mode="after")
    def _field_names_unique(self) -> Form:
        names = [*self.answer_blocks, *self.score_fields]
        reserved = {"group", "signature", *Identity.model_fields, *Boxes.model_fields}
        clash = sorted((set(names) & reserved) | {n for n in names if names.count(n) > 1})
        if clash:
            raise ValueError(f"field names must be unique and not reserved: {', '.join(clash)}")
        return self

    def digit_grid(self, name: str) -> DigitsField | None:
        """The identity or score digit grid called ``name``."""
        return getattr(self.identity, name, None) or self.score_fields.get(name)

    @cached_property
    def layout(self) -> BubbleLayout:
        """Every bubble of the form, indexed by field (see :func:`bubble_layout`)."""
        return bubble_layout(self)


@dataclass(frozen=True, eq=False)
class FieldLayout:
    """Where one field's bubbles sit in the flat bubble arrays.

    ``index[i, j]`` is the bubble of item ``i`` (question or digit position)
    and option ``j``.
    """

    name: str
    kind: Literal["group", "digits", "answers", "box"]
    option_labels: tuple[str, ...]
    index: np.ndarray
    item_numbers: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class BubbleLayout:
    """All bubbles of a form as flat arrays, plus the fields that index them.

    ``centers_xy`` is ``(N, 2)`` in (x, y) millimetres; ``radius`` is ``(N,)``;
    ``square`` marks the bubbles that are proctor boxes.
    """

    centers_xy: np.ndarray
    radius: np.ndarray
    square: np.ndarray
    fields: dict[str, FieldLayout]

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
    j = np.arange(len(block.options))[None, :, None]
    return base[:, None, :] + j * np.asarray(block.option_step)


def bubble_layout(form: Form) -> BubbleLayout:
    """Flatten every bubble-like field of ``form`` into arrays."""
    centers: list[np.ndarray] = []
    radii: list[np.ndarray] = []
    squares: list[np.ndarray] = []
    fields: dict[str, FieldLayout] = {}
    radius = form.bubble_diameter / 2

    def add(name, kind, labels, grid, numbers, r=radius, square=False):
        start = sum(len(c) for c in centers)
        n_items, n_options = grid.shape[:2]
        centers.append(grid.reshape(-1, 2))
        radii.append(np.full(n_items * n_options, r))
        squares.append(np.full(n_items * n_options, square))
        index = start + np.arange(n_items * n_options).reshape(n_items, n_options)
        fields[name] = FieldLayout(name, kind, tuple(labels), index, tuple(numbers))

    g = form.group
    add("group", "group", g.options, _grid(g.origin, 1, len(g.options), (0, 0), g.option_step), [1])
    for name, d in [*form.identity, *form.score_fields.items()]:
        if d is not None:
            grid = _grid(d.origin, d.digits, 10, d.digit_step, d.option_step)
            add(name, "digits", DIGITS, grid, range(1, d.digits + 1))
    for name, block in form.answer_blocks.items():
        numbers = range(block.first_number, block.first_number + block.questions)
        add(name, "answers", block.options, _answer_centers(block), numbers)
    for name, box in form.boxes:
        if box is not None:
            grid = np.asarray(box.center, dtype=float).reshape(1, 1, 2)
            add(name, "box", ("x",), grid, [1], r=box.size / 2, square=True)
    return BubbleLayout(
        centers_xy=np.concatenate(centers).astype(float),
        radius=np.concatenate(radii).astype(float),
        square=np.concatenate(squares),
        fields=fields,
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
    path_of = {
        "group": "group",
        **{n: f"identity.{n}" for n in Identity.model_fields},
        **{n: f"answer_blocks.{n}" for n in form.answer_blocks},
        **{n: f"score_fields.{n}" for n in form.score_fields},
        **{n: f"boxes.{n}" for n in Boxes.model_fields},
    }
    xy, r = layout.centers_xy, layout.radius
    outside = (xy[:, 0] - r < 0) | (xy[:, 1] - r < 0) | (xy[:, 0] + r > w) | (xy[:, 1] + r > h)
    for name in sorted({owner[int(i)] for i in np.flatnonzero(outside)}):
        problems.append((path_of[name], "bubbles fall outside the page"))
    dist = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=-1)
    np.fill_diagonal(dist, np.inf)
    clash = dist < (r[:, None] + r[None, :]) * 1.05
    seen = set()
    for a, b in zip(*np.nonzero(clash), strict=True):
        pair = tuple(sorted((owner[int(a)], owner[int(b)])))
        if pair not in seen:
            seen.add(pair)
            what = "bubbles overlap each other" if pair[0] == pair[1] else f"overlaps {pair[1]}"
            problems.append((path_of[pair[0]], what))
    reg = form.registration
    marks = np.asarray(reg.marks + [reg.orientation_mark], dtype=float)
    half = np.r_[np.full(len(reg.marks), reg.mark_size), reg.orientation_size] / 2
    near = np.abs(xy[:, None, :] - marks[None, :, :]).max(axis=-1) < (r[:, None] + half[None, :])
    for name in sorted({owner[int(i)] for i in np.nonzero(near)[0]}):
        problems.append((path_of[name], "overlaps a registration mark"))
    mirror = np.array([w, h]) - np.asarray(reg.orientation_mark)
    if np.abs(mirror - reg.orientation_mark).max() < reg.orientation_size * 2:
        problems.append(("registration.orientation_mark", "must not sit at the page centre"))
    return problems


def load_form(path: Path) -> Form:
    """Read and validate a form file; raise :class:`InvalidFormError` listing every problem."""
    data = read_yaml(path, InvalidFormError)
    form = validate(data, Form, str(path), InvalidFormError)
    problems = check_geometry(form)
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
