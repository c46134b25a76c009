"""Whether every line of a field's bubbles sits on printed outlines under a proven fit.

The proof (:mod:`omr.detect.proof`) tests a fit a whole pitch off on the
bubbles whose moved place holds neither a bubble nor other print. Where a
grid has print beside both its ends (a digit grid with write-in boxes above
it and a label below), no bubble of that field tells such a shift, and a
form whose digit grid alone was defined a row off passed: every digit read
one lower, with confidence. Its outline contrast tells it at once: the line
of bubbles at the far end sits on paper (or on the label), with no printed
outline under it, while every other line shows its outlines as strongly as
the field does.

So each field's end lines (its first and last option across its items, its
first and last item's options: a whole pitch off puts one of them off the
print, every other line on a neighbour's) must each show outlines of at
least half the field's own contrast, on their unmarked bubbles (a fill hides
the outline's inner edge). The yardstick is the field's own print, so no
scale carries over from other scans. A line is judged on five unmarked
bubbles or more: on real photos of faint print (OMRChecker's samples) a
question's three or four blank options measured as low as a quarter of
their field's contrast in register, while end lines of five bubbles or more
measured 0.67 of it or more (1,249 lines judged over the real-sheet tests'
pages: open-mcr, seven OMRChecker layouts, simulated central-a4); a digit
grid a row off puts its end line on paper: 0.0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omr.detect.once import once_per
from omr.detect.stats import grouped_medians
from omr.forms import Form

MIN_SHARE = 0.5  # of the field's median outline contrast, on every line
VISIBLE = 0.12  # a field whose outlines show less than this (paper to ink = 1) is not judged
MIN_UNMARKED = 5  # unmarked bubbles a line needs to be judged


@dataclass(frozen=True)
class MissingLine:
    """A line of a field's bubbles with no printed outline under it."""

    field: str
    along: str  # "option" (the same option across items) or "item"
    label: str  # the option's label or the item's number
    contrast: float  # the line's median outline contrast (paper to ink = 1)
    field_contrast: float  # the field's median

    def describe(self) -> str:
        """One line for a person."""
        where = f"option {self.label}" if self.along == "option" else f"item {self.label}"
        return (
            f"{self.field}'s {where} shows no printed outline (contrast {self.contrast:.2f}, "
            f"the rest of the field {self.field_contrast:.2f}): the field sits a whole "
            f"pitch off its print"
        )


def missing_lines(
    form: Form,
    contrast: np.ndarray,
    darkness: np.ndarray,
    *,
    filled: float = 0.3,
) -> list[MissingLine]:
    """The end lines of each grid field whose outlines do not show, weakest first.

    ``contrast`` and ``darkness`` (N,) are each bubble's outline contrast and
    inside darkness under the fit, as :func:`omr.detect.proof.outline_levels`
    gives them.
    """
    lines = _lines(form)
    kept = (darkness < filled)[lines.member]
    level, count = grouped_medians(
        contrast[lines.member[kept]], lines.group[kept], len(lines.names)
    )
    out = []
    whole = None
    for g, (field, along, label) in enumerate(lines.names):
        if along == "field":  # the field's own yardstick, then its four end lines
            whole = float(level[g]) if count[g] >= 2 * MIN_UNMARKED else None
            whole = None if whole is None or whole < VISIBLE else whole
        elif whole is not None and count[g] >= MIN_UNMARKED:
            line = float(level[g])  # compared as a Python float, not in float32
            if line < MIN_SHARE * whole:
                out.append(MissingLine(field, along, label, line, whole))
    return sorted(out, key=lambda m: m.contrast / m.field_contrast)


@dataclass(frozen=True, eq=False)
class _Lines:
    """Each grid field's bubbles, then its four end lines, as groups of bubble indices."""

    names: tuple[tuple[str, str, str], ...]  # (field, "field" | "option" | "item", label)
    member: np.ndarray  # (M,) bubble
    group: np.ndarray  # (M,) of which group


def _lines(form: Form) -> _Lines:
    """The groups :func:`missing_lines` takes medians of, worked out once per layout."""
    return once_per(form.layout, _LINES, lambda: _make_lines(form))


def _make_lines(form: Form) -> _Lines:
    names, member, group = [], [], []
    for name, f in form.layout.fields.items():
        if f.kind == "box" or f.index.size < 2 * MIN_UNMARKED:
            continue
        last_option, last_item = len(f.option_labels) - 1, len(f.item_numbers) - 1
        for along, label, line in (
            ("field", "", f.index.ravel()),
            ("option", f.option_labels[0], f.index[:, 0]),
            ("option", f.option_labels[last_option], f.index[:, last_option]),
            ("item", str(f.item_numbers[0]), f.index[0]),
            ("item", str(f.item_numbers[last_item]), f.index[last_item]),
        ):
            member.append(line)
            group.append(np.full(len(line), len(names)))
            names.append((name, along, label))
    return _Lines(
        tuple(names),
        np.concatenate(member) if member else np.zeros(0, dtype=int),
        np.concatenate(group) if group else np.zeros(0, dtype=int),
    )


_LINES: dict = {}
