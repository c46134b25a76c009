"""Prove a page's fit before anything on it is read.

Corner marks, tracks and reference images each fix a transform; none of them
can say that the bubbles sit under it. The printed bubble outlines can, but
only by comparison: a fit a whole pitch off still puts most bubbles on
printed outlines (their neighbours'), so how well the outlines fit says
little on its own. The proof asks instead whether the fit beats every fit
near it that a misregistration could give: the form's bubbles shifted by
half a pitch and by a whole pitch, either way, along each field's options and
along its items.

For a shift ``s``, the bubbles that tell are those whose shifted place holds
no bubble of the form and no other print it knows of (labels, numbers, write-in
boxes: :mod:`omr.detect.printmap`) (the outer options for a whole pitch; every bubble for
half a pitch). Under the right fit their outlines show at their place and
not at the shifted one; under a fit off by ``s`` both places show the same
(print, or paper). Each telling bubble gives a paired difference, in the
page's own paper-to-ink contrast: outline contrast at its place minus that at
its shifted place. The fit wins a shift where the median difference is a
clear share of the page's own outline contrast and most bubbles agree, in
every region of the page (top, bottom, left, right) and every field with
enough telling bubbles. Comparisons within one page need no scale carried
over from other scans: the page's own outlines are the yardstick, whatever
its resolution, paper or scanner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache, reduce

import numpy as np

from omr.detect.once import once_per
from omr.detect.printmap import on_other_print
from omr.detect.sampling import RECT_OUTLINE, ROUND_OUTLINE, apply_transform, sample_image
from omr.detect.stats import grouped_medians
from omr.forms import Form

_REGIONS = ("top", "bottom", "left", "right")
SHIFTS = (0.5, 1.0)  # in pitches, either way, along options and along items
MAX_TELLING = 48  # bubbles a shift is tested on, spread over its field (plenty for a median)
# The printed outline's radius is the form's within a few tenths of a mm: its
# darkest point along each ray, over this band, is taken as "on the outline".
_BAND = (0.85, 1.0, 1.15)
_INSIDE = 0.55  # the ring well inside the outline, clear of a slightly small print


@dataclass(frozen=True)
class Proof:
    """Whether a fit beats its near misses, and the numbers that say so.

    ``margin`` is the smallest win (median difference over the page's outline
    contrast) over every unit tested; ``weakest`` names that unit and shift;
    ``contrast`` is the page's median outline contrast under the fit (paper to
    ink = 1); ``tested`` how many (unit, shift) pairs had enough bubbles.
    """

    ok: bool
    margin: float
    weakest: str
    contrast: float
    tested: int
    reason: str = ""
    units: dict = field(default_factory=dict, compare=False, repr=False)
    # Per bubble of the form, under the fit: outline contrast and inside darkness.
    levels: tuple[np.ndarray, np.ndarray] | None = field(default=None, compare=False, repr=False)

    def field_margins(self) -> dict[str, float]:
        """Per field, its smallest win over the shifts tested on it alone."""
        out: dict[str, float] = {}
        for unit, (margin, _, _) in self.units.items():
            name = unit.rsplit(" ", 2)[0]
            if name not in _REGIONS:
                out[name] = min(out.get(name, np.inf), margin)
        return out

    def summary(self) -> dict:
        """The figures a person checks."""
        return {
            "proven": self.ok,
            "proof_margin": round(self.margin, 3),
            "proof_weakest": self.weakest,
            "outline_contrast": round(self.contrast, 3),
            "proof_tests": self.tested,
        }


@dataclass(frozen=True, eq=False)
class _Shifts:
    """Every shift tested on a form: per shift, its vectors per bubble and which bubbles tell."""

    names: tuple[str, ...]  # "answers +1 option", ...
    vectors: tuple[np.ndarray, ...]  # (K, 2) mm: the shift, per telling bubble
    bubbles: tuple[np.ndarray, ...]  # (K,) indices of the telling bubbles
    pitches: tuple[float, ...]  # the shift in pitches: 0.5 or 1
    backed: tuple[np.ndarray, ...]  # (K,) whether a bubble sits the other way, one shift back


def _steps(centres: np.ndarray, index: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """A field's option step and item step, in mm (the shortest of its item steps)."""
    steps = []
    if index.shape[1] >= 2:
        steps.append(("option", np.median(centres[index[:, 1]] - centres[index[:, 0]], axis=0)))
    if index.shape[0] >= 2:
        d = centres[index[1:, 0]] - centres[index[:-1, 0]]
        n = np.linalg.norm(d, axis=1)
        steps.append(("item", np.median(d[n <= 1.5 * n.min()], axis=0)))
    if len(steps) == 1:  # one row or one column: across it, the same pitch
        name, v = steps[0]
        steps.append(("across", np.array([-v[1], v[0]])))
    return steps


def form_pitches(form: Form) -> dict[str, float]:
    """Per field of a grid, its smallest pitch in mm (options or items)."""
    xy = form.layout.centers_xy
    return {
        name: min(float(np.linalg.norm(v)) for _, v in _steps(xy, f.index))
        for name, f in form.layout.fields.items()
        if f.kind != "box" and f.index.size >= 2
    }


def form_shifts(form: Form) -> _Shifts:
    """The shifts the proof tries on ``form``, worked out once per layout."""
    layout = form.layout
    key = (id(layout), len(layout))
    cached = _SHIFT_CACHE.get(key)
    if cached is not None and cached[0] is layout:
        return cached[1]
    xy = layout.centers_xy
    r = layout.radius
    names, vectors, bubbles, pitches, backed = [], [], [], [], []
    for fname, f in layout.fields.items():
        if f.kind == "box":
            continue
        members = f.index.ravel()
        for step_name, step in _steps(xy, f.index):
            for k in SHIFTS:
                for sign in (1, -1):
                    s = sign * k * step
                    moved = xy[members] + s
                    nearest = _nearest_distance(moved, xy)
                    tells = nearest > 0.5 * r[members]
                    tells &= ~on_other_print(form, moved, layout.half_axes[members])
                    tells = _spread_subset(tells, MAX_TELLING)
                    if not tells.any():
                        continue
                    label = f"{'+' if sign > 0 else '-'}{k:g} {step_name}"
                    names.append(f"{fname} {label}")
                    vectors.append(np.broadcast_to(s, (int(tells.sum()), 2)))
                    bubbles.append(members[tells])
                    pitches.append(k)
                    back = _nearest_distance(xy[members[tells]] - s, xy)
                    backed.append(back < 0.5 * r[members[tells]])
    shifts = _Shifts(tuple(names), tuple(vectors), tuple(bubbles), tuple(pitches), tuple(backed))
    _SHIFT_CACHE[key] = (layout, shifts)
    return shifts


_SHIFT_CACHE: dict = {}


def _spread_subset(mask: np.ndarray, most: int) -> np.ndarray:
    """``mask`` with at most ``most`` of its True entries kept, evenly spread."""
    where = np.flatnonzero(mask)
    if len(where) <= most:
        return mask
    kept = np.zeros_like(mask)
    kept[where[np.linspace(0, len(where) - 1, most).round().astype(int)]] = True
    return kept


def _nearest_distance(points: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Distance from each of ``points`` (K, 2) to the nearest of ``xy`` (N, 2)."""
    out = np.empty(len(points))
    for start in range(0, len(points), 256):
        d = np.linalg.norm(points[start : start + 256, None, :] - xy[None, :, :], axis=-1)
        out[start : start + 256] = d.min(axis=1)
    return out


@lru_cache(maxsize=4)
def _patterns(rect: bool) -> tuple[np.ndarray, np.ndarray]:
    unit = RECT_OUTLINE if rect else ROUND_OUTLINE
    band = np.stack([unit * b for b in _BAND], axis=1)  # (A, B, 2)
    return band, unit * _INSIDE


def outline_levels(
    gray: np.ndarray,
    matrix: np.ndarray,
    centres_mm: np.ndarray,
    half_axes_mm: np.ndarray,
    rectangular: np.ndarray,
    *,
    paper: float,
    ink: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Outline contrast and inside darkness (K,) of outlines centred at ``centres_mm``.

    Contrast: grey well inside minus grey on the outline (its darkest point
    along each ray over a band of radii), averaged round it;
    darkness: paper minus grey inside. Both in units of the page's paper-to-ink contrast.
    """
    scale = max(paper - ink, 1.0)
    if _is_affine(matrix):
        ring_mm, inside_mm = outline_points(centres_mm, half_axes_mm, rectangular)
        return _levels_at(gray, matrix, ring_mm, inside_mm, paper=paper, scale=scale)
    on = np.empty((len(centres_mm), len(ROUND_OUTLINE)), dtype=np.float32)  # per ray round it
    inside = np.empty(len(centres_mm), dtype=np.float32)
    centres_px = apply_transform(matrix, centres_mm)
    linear = _local_linear(matrix, centres_mm)  # mm offsets to px offsets
    for rect in (False, True):
        sel = rectangular == rect
        if not sel.any():
            continue
        band, inner = _patterns(rect)
        lin = linear if linear.ndim == 2 else linear[sel]
        ax, c = half_axes_mm[sel], centres_px[sel]
        ring = _apply_linear(lin, band[None] * ax[:, None, None, :])
        on[sel] = sample_image(gray, c[:, None, None, :] + ring).min(axis=2)
        pts = _apply_linear(lin, inner[None] * ax[:, None, :])
        inside[sel] = sample_image(gray, c[:, None, :] + pts).mean(axis=1)
    # The mean round the outline: a 1-bit scan keeps only part of a light
    # print's rays, and a ring half a pitch off still crosses its neighbours'
    # outlines on many (so no quantile over rays tells a ring from a crossing).
    contrast = (inside[:, None] - on).mean(axis=1)
    return contrast / scale, (paper - inside) / scale


def _is_affine(matrix: np.ndarray) -> bool:
    return bool(matrix[2, 0] == 0 and matrix[2, 1] == 0)


def outline_points(
    centres_mm: np.ndarray, half_axes_mm: np.ndarray, rectangular: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The points :func:`outline_levels` samples, in form mm: the band across each
    outline (K, 24, 3, 2) and the ring well inside it (K, 24, 2)."""
    ring = np.empty((len(centres_mm), len(ROUND_OUTLINE), len(_BAND), 2))
    inside = np.empty((len(centres_mm), len(ROUND_OUTLINE), 2))
    for rect in (False, True):
        sel = rectangular == rect
        if not sel.any():
            continue
        band, inner = _patterns(rect)
        ax, c = half_axes_mm[sel], centres_mm[sel]
        ring[sel] = _scaled_about(c, ax, band).reshape(-1, *band.shape)
        inside[sel] = _scaled_about(c, ax, inner).reshape(-1, *inner.shape)
    return ring, inside


def _scaled_about(centres: np.ndarray, scale: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """(K, P * 2): each centre plus ``pattern`` (..., 2) scaled by its (x, y) ``scale``.

    In rows of x, y, x, y, ..., so numpy's loops run along the rows instead of
    over pairs (four times as fast, the same bits).
    """
    reps = pattern.size // 2
    out = np.tile(scale, reps)
    out *= pattern.reshape(-1)
    out += np.tile(centres, reps)
    return out


def _levels_at(
    gray: np.ndarray,
    matrix: np.ndarray,
    ring_mm: np.ndarray,
    inside_mm: np.ndarray,
    *,
    paper: float,
    scale: float,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`outline_levels` from its points in mm, under an affine ``matrix``.

    An affine map takes a centre plus an offset to the mapped centre plus the
    mapped offset: the same samples, in one transform of every point.
    """
    band = sample_image(gray, apply_transform(matrix, ring_mm))  # (K, 24, 3)
    on = reduce(np.minimum, (band[..., b] for b in range(band.shape[-1])))  # a band's darkest
    inside = sample_image(gray, apply_transform(matrix, inside_mm)).mean(axis=1)
    contrast = (inside[:, None] - on).mean(axis=1)
    return contrast / scale, (paper - inside) / scale


def _proof_points(form: Form, shifts: _Shifts) -> tuple:
    """The outline points of the form's bubbles and of the proof's moved places, once per form."""
    layout = form.layout

    def make() -> tuple:
        xy, ax, rect = layout.centers_xy, layout.half_axes, layout.rectangular
        idx = np.concatenate(shifts.bubbles)
        moved = xy[idx] + np.concatenate(shifts.vectors)
        here = outline_points(xy, ax, rect)
        there = outline_points(moved, ax[idx], rect[idx])
        return here, there, idx, moved

    return once_per(layout, _POINT_CACHE, make)


_POINT_CACHE: dict = {}


def _local_linear(matrix: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """The map's Jacobian at each of ``xy``: (2, 2) for an affine map, else (K, 2, 2) local ones."""
    m = np.asarray(matrix, dtype=float)
    if m[2, 0] == 0 and m[2, 1] == 0:
        return np.ascontiguousarray(m[:2, :2] / m[2, 2])
    w = xy @ m[2, :2] + m[2, 2]
    mapped = (xy @ m[:2, :2].T + m[:2, 2]) / w[:, None]
    # d(p/w)/dx = (A - p ⊗ g) / w, with g the gradient of w.
    return (m[None, :2, :2] - mapped[:, :, None] * m[None, None, 2, :2]) / w[:, None, None]


def _apply_linear(linear: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Offsets (K, ..., 2) in mm through one Jacobian (2, 2) or one per row (K, 2, 2)."""
    if linear.ndim == 2:
        return offsets @ np.ascontiguousarray(linear.T)
    shape = offsets.shape
    flat = offsets.reshape(shape[0], -1, 2)
    return np.matmul(flat, np.swapaxes(linear, 1, 2)).reshape(shape)


def prove_fit(
    gray: np.ndarray,
    matrix: np.ndarray,
    form: Form,
    *,
    paper: float,
    ink: float,
    min_margin: float = 0.25,
    min_wins: float = 0.7,
    min_region: int = 10,
    min_field: int = 5,
    filled: float = 0.3,
    contaminated: float = 0.5,
) -> Proof:
    """Whether ``matrix`` puts the form's bubbles on their printed outlines, and no near miss does.

    Parameters
    ----------
    gray : (M, N) uint8 page; matrix : (3, 3) form mm → page pixels.
    paper, ink : the page's grey levels of paper and of solid print.
    min_margin : float
        Least median win, as a share of the page's outline contrast, on
        every (unit, shift) tested.
    min_wins : float
        Least share of telling bubbles whose own difference is positive.
    min_region, min_field : int
        Fewest telling bubbles for a region of the page, or a field, to be tested.
    filled : float
        Inside darkness above which a bubble is taken as marked and left out
        (a filled bubble hides its outline).
    contaminated : float
        On whole-pitch tests, a bubble whose moved place beats its own place
        by this share of the page contrast is left out (other print there).
    """
    layout = form.layout
    xy, ax, rect = layout.centers_xy, layout.half_axes, layout.rectangular
    shifts = form_shifts(form)
    affine = _is_affine(matrix) and bool(shifts.names)
    if affine:
        here_mm, there_mm, idx, moved = _proof_points(form, shifts)
        scale = max(paper - ink, 1.0)
        here, dark = _levels_at(gray, matrix, *here_mm, paper=paper, scale=scale)
    else:
        here, dark = outline_levels(gray, matrix, xy, ax, rect, paper=paper, ink=ink)
    unmarked = (dark < filled) & ~layout.square
    contrast = float(np.median(here[unmarked])) if unmarked.any() else 0.0
    if not shifts.names:
        return Proof(False, 0.0, "", contrast, 0, "the form has no grid to prove a fit on")
    if affine:
        there, there_dark = _levels_at(gray, matrix, *there_mm, paper=paper, scale=scale)
    else:
        idx = np.concatenate(shifts.bubbles)
        moved = xy[idx] + np.concatenate(shifts.vectors)
        there, there_dark = outline_levels(
            gray, matrix, moved, ax[idx], rect[idx], paper=paper, ink=ink
        )
    tally = _tallies(form, shifts)
    diff = here[idx] - there
    keep = (dark[idx] < filled) & (there_dark < filled)
    # Off by a whole pitch, the fit would put such a bubble on its neighbour's
    # outline and the moved place on its own: a tie, never a clear loss. A
    # clear loss says the moved place holds other print (a write-in box, a
    # rule): it tells nothing either way.
    keep &= ~(tally.whole_backed & (diff < -contaminated * max(contrast, 1e-3)))
    units = tally.wins(diff, keep, contrast, min_field=min_field, min_region=min_region)
    if not units:
        return Proof(False, 0.0, "", contrast, 0, "too few bubbles tell a near miss apart")
    if contrast <= 0.02:
        return Proof(
            False,
            0.0,
            "",
            contrast,
            len(units),
            f"the printed bubble outlines do not show under the fit (contrast {contrast:.2f})",
            units,
        )
    margins = {u: m for u, (m, _, _) in units.items()}
    weakest = min(margins, key=margins.get)
    failing = [u for u, (m, wins, _) in units.items() if m < min_margin or wins < min_wins]
    margin = margins[weakest]
    if failing:
        worst = min(failing, key=margins.get)
        m, wins, n = units[worst]
        reason = (
            f"the printed bubbles fit as well {worst.split(' ', 1)[1]} off as where the "
            f"marks put them ({worst}: margin {m:.2f}, {wins:.0%} of {n} bubbles agree; "
            f"{len(failing)} of {len(units)} tests fail)"
        )
        return Proof(False, margin, worst, contrast, len(units), reason, units, (here, dark))
    return Proof(True, margin, weakest, contrast, len(units), "", units, (here, dark))


@dataclass(frozen=True, eq=False)
class _Tallies:
    """Which paired differences each unit pools: per shift (a field's unit) and per
    region of the page and direction, every telling bubble of every field there."""

    names: tuple[str, ...]  # the units, field units first, in the shifts' order
    regional: np.ndarray  # (U,) whether a unit is a region's
    member: np.ndarray  # (M,) the difference (index into the shifts' telling bubbles)
    unit: np.ndarray  # (M,) of which unit
    whole_backed: np.ndarray  # (T,) a whole-pitch shift's bubble with a bubble one shift back

    def wins(self, diff, keep, contrast, *, min_field, min_region) -> dict:
        """Per unit with enough kept differences: (median difference over the page
        contrast, share of positive differences, count)."""
        kept = keep[self.member]
        unit, values = self.unit[kept], diff[self.member[kept]]
        median, count = grouped_medians(values, unit, len(self.names))
        positive = np.bincount(unit, weights=values > 0, minlength=len(self.names))
        enough = count >= np.where(self.regional, min_region, min_field)
        scale = max(contrast, 1e-3)
        return {
            self.names[u]: (
                float(median[u]) / scale,
                float(positive[u]) / int(count[u]),
                int(count[u]),
            )
            for u in np.flatnonzero(enough)
        }


def _tallies(form: Form, shifts: _Shifts) -> _Tallies:
    """The proof's units on ``form``, worked out once per layout."""
    return once_per(form.layout, _TALLY_CACHE, lambda: _make_tallies(form, shifts))


def _make_tallies(form: Form, shifts: _Shifts) -> _Tallies:
    xy = form.layout.centers_xy
    w, h = form.page.width, form.page.height
    regions: dict[str, int] = {}
    members, units, backed = [], [], []
    start = 0
    for k, (name, bubbles) in enumerate(zip(shifts.names, shifts.bubbles, strict=True)):
        at = np.arange(start, start + len(bubbles))
        start += len(bubbles)
        members.append(at)
        units.append(np.full(len(at), k))
        backed.append(shifts.backed[k] & (shifts.pitches[k] == 1))
        pos = xy[bubbles]
        direction = name.split(" ", 1)[1]
        for region, sel in (
            ("top", pos[:, 1] < h / 2),
            ("bottom", pos[:, 1] >= h / 2),
            ("left", pos[:, 0] < w / 2),
            ("right", pos[:, 0] >= w / 2),
        ):
            u = regions.setdefault(f"{region} {direction}", len(shifts.names) + len(regions))
            members.append(at[sel])
            units.append(np.full(int(sel.sum()), u))
    return _Tallies(
        names=shifts.names + tuple(regions),
        regional=np.arange(len(shifts.names) + len(regions)) >= len(shifts.names),
        member=np.concatenate(members),
        unit=np.concatenate(units),
        whole_backed=np.concatenate(backed),
    )


_TALLY_CACHE: dict = {}


def print_visible(
    gray: np.ndarray,
    matrix: np.ndarray,
    form: Form,
    *,
    paper: float,
    ink: float,
    visible: float = 0.12,
    min_bubbles: int = 8,
) -> bool:
    """Whether the printed outlines show anywhere, under the fit or half a pitch from it.

    Judged field by field: a sheet whose lower half was printed off its marks
    shows the upper fields' outlines under the fit and the lower ones' half a
    pitch away, though the page's median shows neither. A 1-bit scan can drop
    light print altogether: then no field shows any.
    """
    layout = form.layout
    xy, ax, rect = layout.centers_xy, layout.half_axes, layout.rectangular
    shifts = form_shifts(form)
    halves = [v[0] for v, k in zip(shifts.vectors, shifts.pitches, strict=True) if k == 0.5]
    offsets = np.unique(np.round([np.zeros(2), *halves], 1), axis=0)
    fields = [f.index.ravel() for f in layout.fields.values() if f.kind != "box"]
    fields = [b for b in fields if len(b) >= min_bubbles]
    for off in offsets:
        c, _ = outline_levels(gray, matrix, xy + off, ax, rect, paper=paper, ink=ink)
        if any(float(np.median(c[b])) >= visible for b in fields):
            return True
    return False


def marks_off_grid(
    gray: np.ndarray,
    matrix: np.ndarray,
    form: Form,
    *,
    paper: float,
    ink: float,
    marked: float = 0.5,
) -> tuple[int, int]:
    """How many marks sit on the form's bubbles, and how many where no bubble is.

    The moved places of the proof's tests hold no bubble; under the right fit
    no student marks one. Under a fit half a pitch off, the marks sit between
    bubbles; a pitch off, the marks of the outer options sit beyond the grid.
    A mark darkens the core of its place by ``marked`` (paper 0, solid ink 1) or more.
    """
    layout = form.layout
    xy, ax = layout.centers_xy, layout.half_axes
    r = float(np.median(ax, axis=0).min())
    # The core of a place only: two marks either side of a moved place half a
    # pitch between them (the same digit in two columns) reach its ring, not
    # its core; a mark centred there darkens it whole.
    core = np.vstack([[0.0, 0.0], 0.3 * r * ROUND_OUTLINE[::3]])
    scale = max(paper - ink, 1.0)

    def darkness(places: np.ndarray) -> np.ndarray:
        pts = apply_transform(matrix, places[:, None, :] + core[None])
        return (paper - sample_image(gray, pts).mean(axis=1)) / scale

    on = int((darkness(xy[~layout.square]) >= marked).sum())
    shifts = form_shifts(form)
    idx = np.concatenate(shifts.bubbles)
    moved = np.unique(np.round(xy[idx] + np.concatenate(shifts.vectors), 1), axis=0)
    return on, int((darkness(moved) >= marked).sum())


def unproven(
    gray: np.ndarray,
    matrix: np.ndarray,
    form: Form,
    proof: Proof,
    landmarks: int,
    *,
    paper: float,
    ink: float,
    blind_ok: bool,
    blind_landmarks: int = 5,
    min_marks: int = 10,
    max_off: float = 0.03,
) -> str:
    """Why a fit the proof did not pass cannot be read, or ``""`` when it still can.

    Where the outlines show, a failed proof is final. Where the page shows no
    printed outline at all (light print lost by a 1-bit scan), the students'
    marks are the only evidence left: a fit on ``blind_landmarks`` printed
    marks or more is read when at least ``min_marks`` marks sit on bubbles and
    at most ``max_off`` of that many where none is (:func:`marks_off_grid`);
    a reference-image fit (``blind_ok`` False), fewer landmarks or marks off
    the grid go to a person.
    """
    if print_visible(gray, matrix, form, paper=paper, ink=ink):
        return proof.reason or "the printed bubbles do not prove the fit"
    if not blind_ok or landmarks < blind_landmarks:
        return (
            f"the printed bubbles are too faint to prove the fit ({landmarks} landmarks found; "
            f"outline contrast {proof.contrast:.2f})"
        )
    on, off = marks_off_grid(gray, matrix, form, paper=paper, ink=ink)
    if on >= min_marks and off <= max_off * on:
        return ""
    return (
        f"the printed bubbles are too faint to prove the fit, and the marks do not: "
        f"{on} marks on bubbles, {off} where no bubble is"
    )
