"""Sheets printed out of register: bubble fields shifted against the marks and the text.

A printing press that lays the bubble fields a little off, or a stack with a
page of another form in it, gives sheets whose registration marks and free
text sit where the form says while the bubbles do not. A reader that fits
the marks and reads the form's bubble positions then samples paper beside
every bubble: the worst case of a silent error. The stress mode of the
simulator (``Profile.p_misregister``) prints such pages on purpose:

- ``shift``: every bubble field (with its labels, numbers, write-in boxes and
  the signature box) shifted by 0.5, 1 or 1.5 bubble pitches along ``x``
  (along a row of options of the form's first answer block) or ``y`` (down
  its column of questions);
- ``lower-half``: the same, for the fields centred in the lower half of the
  page only (the four answer blocks of ``central-a4``; the lowest field when
  none is);
- ``sister-form``: a page of a sister form: the same marks, group and
  identity grids, but the answer blocks at another pitch (``pitch_scale``
  of the form's) and moved by the shift.

The candidate fills the printed bubbles, so the marks are drawn where the
shifted print is. A shift the page cannot take (bubbles off the page, on a
mark, over another field) is tried with the other sign, then along the other
axis; a page where none fits is printed in register.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from omr.forms import Form, check_geometry
from omr.simulate.profile import Profile

MISREGISTER_KINDS = ("shift", "lower-half", "sister-form")


@dataclass(frozen=True)
class Misprint:
    """How one page is printed out of register (its truth record, ``misregistered``).

    Attributes
    ----------
    kind : str
        One of :data:`MISREGISTER_KINDS`.
    axis : str
        ``x`` or ``y``: the direction of the shift on the page.
    pitches : float
        The shift in bubble pitches along ``axis`` (negative: left or up).
    shift_mm : (float, float)
        The shift in millimetres, (x, y).
    fields : tuple of str
        The fields printed shifted (``signature`` included when it moved).
    pitch_scale : float or None
        A sister form's answer-block pitch as a share of the form's.
    """

    kind: str
    axis: str
    pitches: float
    shift_mm: tuple[float, float]
    fields: tuple[str, ...]
    pitch_scale: float | None = None

    def to_truth(self) -> dict:
        """The record written to ``truth.json`` under ``misregistered``."""
        return {
            "kind": self.kind,
            "axis": self.axis,
            "pitches": self.pitches,
            "shift_mm": [round(self.shift_mm[0], 3), round(self.shift_mm[1], 3)],
            "fields": list(self.fields),
            "pitch_scale": self.pitch_scale,
        }


def bubble_pitch(form: Form) -> tuple[float, float]:
    """The bubble pitch along x and along y of the form's first answer block, mm.

    Of its option and question steps, the one running more along x gives the
    x pitch (its length), the other the y pitch.
    """
    block = next(iter(form.answer_blocks.values()))
    steps = np.array([block.option_step, block.question_step], dtype=float)
    along_x = int(np.argmax(np.abs(steps[:, 0])))
    return float(np.hypot(*steps[along_x])), float(np.hypot(*steps[1 - along_x]))


def _centroids(form: Form) -> dict[str, float]:
    """Mean y of each bubble field's bubbles, mm."""
    layout = form.layout
    return {
        name: float(layout.centers_xy[f.index.ravel(), 1].mean())
        for name, f in layout.fields.items()
    }


def lower_fields(form: Form) -> tuple[str, ...]:
    """The bubble fields centred in the lower half of the page (or the lowest one)."""
    ys = _centroids(form)
    low = [name for name, y in ys.items() if y > form.page.height / 2]
    return tuple(low) if low else (max(ys, key=ys.get),)


def _rebuilt(form: Form, data: dict) -> Form:
    new = Form.model_validate(data)
    new._source_dir = form._source_dir
    return new


def _dump(form: Form) -> dict:
    data = copy.deepcopy(form.model_dump())
    data["unit"], data["dpi"] = "mm", None  # positions are held in mm whatever the file said
    return data


def _add(point, shift) -> tuple[float, float]:
    return (float(point[0] + shift[0]), float(point[1] + shift[1]))


def shifted_form(form: Form, shift_mm: tuple[float, float], fields) -> Form:
    """``form`` with the bubble fields ``fields`` (and ``signature``) moved by ``shift_mm``.

    Registration marks and ``texts`` stay; a field's label, question numbers
    and write-in boxes move with it (they are drawn from the field).
    """
    data = _dump(form)
    fields = set(fields)
    if "group" in fields:
        data["group"]["origin"] = _add(data["group"]["origin"], shift_mm)
    for name, grid in data["identity"].items():
        if grid is not None and name in fields:
            grid["origin"] = _add(grid["origin"], shift_mm)
    for section in ("score_fields", "answer_blocks"):
        for name, grid in data[section].items():
            if name in fields:
                grid["origin"] = _add(grid["origin"], shift_mm)
    for name, box in data["boxes"].items():
        if box is not None and name in fields:
            box["center"] = _add(box["center"], shift_mm)
    if data["signature"] is not None and "signature" in fields:
        data["signature"]["origin"] = _add(data["signature"]["origin"], shift_mm)
    return _rebuilt(form, data)


def sister_form(form: Form, pitch_scale: float, shift_mm: tuple[float, float]) -> Form:
    """A sister form: the answer blocks at ``pitch_scale`` of the pitch, moved by ``shift_mm``."""
    data = _dump(form)
    for block in data["answer_blocks"].values():
        block["origin"] = _add(block["origin"], shift_mm)
        for key in ("option_step", "question_step", "column_step"):
            if block.get(key) is not None:
                block[key] = (block[key][0] * pitch_scale, block[key][1] * pitch_scale)
        if block.get("option_offsets") is not None:  # uneven spacing keeps its proportions
            block["option_offsets"] = [
                (x * pitch_scale, y * pitch_scale) for x, y in block["option_offsets"]
            ]
    return _rebuilt(form, data)


def _moved_fields(form: Form, kind: str) -> tuple[str, ...]:
    if kind == "sister-form":
        return tuple(form.answer_blocks)
    if kind == "lower-half":
        low = lower_fields(form)
        s = form.signature
        below = s is not None and s.origin[1] > form.page.height / 2
        return (*low, "signature") if below else low
    everything = tuple(form.layout.fields)
    return (*everything, "signature") if form.signature is not None else everything


def draw_misprint(
    form: Form, profile: Profile, rng: np.random.Generator
) -> tuple[Misprint, Form] | None:
    """Whether a page is printed out of register, how, and the form it is printed on.

    Draws six numbers from ``rng`` whenever the page is picked (share
    ``p_misregister``): the kind, the pitches, the axis, the sign and a
    sister form's pitch scale.

    Returns
    -------
    (Misprint, Form) or None
        None for a page printed in register (or one no shift fits on).
    """
    p = profile
    if p.p_misregister <= 0 or rng.random() >= p.p_misregister:
        return None
    w = np.asarray(p.misregister_weights, dtype=float)
    kind = str(p.misregister_kinds[int(rng.choice(len(w), p=w / w.sum()))])
    if kind not in MISREGISTER_KINDS:
        raise ValueError(f"unknown misregistration {kind!r}: choose from {MISREGISTER_KINDS}")
    pitches = float(p.misregister_pitches[int(rng.integers(len(p.misregister_pitches)))])
    axis = int(rng.integers(2))
    sign = 1.0 if rng.random() < 0.5 else -1.0
    scale = float(p.sister_pitch_scales[int(rng.integers(len(p.sister_pitch_scales)))])
    pitch = bubble_pitch(form)
    fields = _moved_fields(form, kind)
    for ax, sg in ((axis, sign), (axis, -sign), (1 - axis, sign), (1 - axis, -sign)):
        shift = [0.0, 0.0]
        shift[ax] = sg * pitches * pitch[ax]
        shift_mm = (shift[0], shift[1])
        if kind == "sister-form":
            printed = sister_form(form, scale, shift_mm)
        else:
            printed = shifted_form(form, shift_mm, fields)
        if check_geometry(printed):
            continue
        return (
            Misprint(
                kind=kind,
                axis="xy"[ax],
                pitches=sg * pitches,
                shift_mm=shift_mm,
                fields=fields,
                pitch_scale=scale if kind == "sister-form" else None,
            ),
            printed,
        )
    return None
