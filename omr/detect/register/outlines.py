"""The printed bubble outlines under a fit: how well they sit, and which way up they tell.

Used to choose between fits the landmarks cannot tell apart (a half turn,
timing-track dashes one off, the scale across a single track). Whether a fit
is right at all is :mod:`omr.detect.proof`'s job.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from omr.detect.sampling import RECT_OUTLINE, ROUND_OUTLINE, apply_transform, sample_image
from omr.forms import Form


def outline_contrasts(
    gray: np.ndarray, matrix: np.ndarray, form: Form, *, paper: float, ink: float
) -> np.ndarray:
    """Per bubble (N,): grey just inside the printed outline minus grey on it.

    In units of the page's paper-to-black contrast: clearly positive where the
    transform puts the bubble where it is printed, about zero where it does not.
    """
    layout = form.layout
    unit = np.where(layout.rectangular[:, None, None], RECT_OUTLINE, ROUND_OUTLINE)
    centres = layout.centers_xy[:, None, :]
    axes = layout.half_axes[:, None, :]
    on = sample_image(gray, apply_transform(matrix, centres + unit * axes)).mean(axis=1)
    inside = sample_image(gray, apply_transform(matrix, centres + unit * axes * 0.75)).mean(axis=1)
    return (inside - on) / max(paper - ink, 1.0)


def half_turn_tells(form: Form) -> np.ndarray:
    """Mask (N,) of the bubbles a half turn of the page puts clear of every other bubble.

    Only these tell the way up by their outlines: the others land on printed
    bubbles either way. (Printed bubbles the form leaves out, a name grid, can
    still sit there: :func:`way_up_by_outlines` asks for paper, not less print.)
    """
    xy = np.ascontiguousarray(form.layout.centers_xy, dtype=float)
    reach = 2 * float(form.layout.half_axes.max())  # a bubble's width: no overlap
    # A form's answer is the same on every page: worked out once per layout.
    return _half_turn_tells(form.page.width, form.page.height, reach, xy.shape, xy.tobytes())


@lru_cache(maxsize=16)
def _half_turn_tells(width, height, reach, shape, xy_bytes) -> np.ndarray:
    xy = np.frombuffer(xy_bytes, dtype=float).reshape(shape)
    turned = np.array([width, height]) - xy
    tells = np.ones(len(xy), dtype=bool)
    for start in range(0, len(xy), 512):  # chunks keep the distance table small
        block = turned[start : start + 512]
        d = np.linalg.norm(block[:, None, :] - xy[None, :, :], axis=-1)
        tells[start : start + 512] = d.min(axis=1) > reach
    tells.flags.writeable = False  # shared by every caller
    return tells


def way_up_by_outlines(
    gray: np.ndarray,
    matrices: tuple[np.ndarray, np.ndarray],
    form: Form,
    *,
    paper: float,
    ink: float,
    max_share: float = 0.3,
    visible: float = 0.12,
    min_bubbles: int = 8,
) -> int | None:
    """Which of two fits a half turn apart is the right way up (0 or 1), or None.

    Judged on the bubbles of :func:`half_turn_tells`: under the right fit their
    printed outlines show (median contrast at least ``visible``); under the
    other they fall on paper (at most ``max_share`` of that). A page whose
    print repeats where the half turn puts them (grids left out of the form)
    tells nothing, and the sheet goes to a person rather than being read
    upside down.
    """
    levels = _telling_levels(gray, matrices, form, paper=paper, ink=ink, min_bubbles=min_bubbles)
    if levels is None:
        return None
    best = int(np.argmax(levels))
    if levels[best] < visible or levels[1 - best] > max_share * levels[best]:
        return None
    return best


def _telling_levels(gray, matrices, form, *, paper, ink, min_bubbles=8) -> list[float] | None:
    """Median outline contrast of the :func:`half_turn_tells` bubbles under each matrix."""
    tells = half_turn_tells(form)
    if tells.sum() < min_bubbles:
        return None
    return [
        float(np.median(outline_contrasts(gray, m, form, paper=paper, ink=ink)[tells]))
        for m in matrices
    ]


def half_turn_share(
    gray: np.ndarray, matrix: np.ndarray, form: Form, *, paper: float, ink: float
) -> float | None:
    """How well the outlines fit ``matrix`` turned half round, as a share of how well they fit it.

    Near 0 where the bubbles that tell the way up land on paper when turned;
    near 1 where the page prints bubbles there too (then, without an
    orientation mark, the way up cannot be told). None when too few bubbles
    tell at all.
    """
    w, h = form.page.width, form.page.height
    turned = np.asarray(matrix, dtype=float) @ np.array([[-1.0, 0, w], [0, -1, h], [0, 0, 1]])
    levels = _telling_levels(gray, (matrix, turned), form, paper=paper, ink=ink)
    if levels is None or levels[0] <= 0:
        return None
    return max(levels[1], 0.0) / levels[0]


def rows_on_outlines(
    gray: np.ndarray,
    matrix: np.ndarray,
    form: Form,
    *,
    paper: float,
    ink: float,
    share: float = 0.4,
) -> int:
    """How many item rows (all fields) sit on printed outlines under ``matrix``.

    A row counts when its bubbles' mean outline contrast reaches ``share`` of
    the page's median (and 0.05 at least).
    """
    per_bubble = outline_contrasts(gray, matrix, form, paper=paper, ink=ink)
    level = max(0.05, share * float(np.median(per_bubble[~form.layout.square])))
    return int(
        sum((per_bubble[f.index].mean(axis=1) >= level).sum() for f in form.layout.fields.values())
    )


def outline_contrast(
    gray: np.ndarray, matrix: np.ndarray, form: Form, *, paper: float, ink: float
) -> float:
    """Median of :func:`outline_contrasts` over all bubbles."""
    return float(np.median(outline_contrasts(gray, matrix, form, paper=paper, ink=ink)))


def field_fits(
    gray: np.ndarray, matrix: np.ndarray, form: Form, *, paper: float, ink: float
) -> tuple[float, dict[str, float]]:
    """How well the printed outlines sit under ``matrix``: over the page, and per field.

    Medians of :func:`outline_contrasts` over the round bubbles, and over
    each field's bubbles. A transform right at the marks but wrong in between
    (a bent or photographed sheet) shows in one field before any bubble is read.
    """
    per_bubble = outline_contrasts(gray, matrix, form, paper=paper, ink=ink)
    overall = float(np.median(per_bubble[~form.layout.square]))
    fits = {
        name: float(np.median(per_bubble[f.index.ravel()]))
        for name, f in form.layout.fields.items()
    }
    return overall, fits
