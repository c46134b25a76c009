"""Whether each field's bubbles sit centred on their printed outlines under a proven fit.

The proof (:mod:`omr.detect.proof`) tells a fit from fits half a pitch and a
whole pitch off. A form can still be wrong by less than that: a hand-made
form whose one field sits a fraction of a pitch off the printed bubbles
passes the proof (on open-mcr's 300-dpi scans, a digit grid 0.8 mm off, 0.57
of its radius, passed on 16 of 18 sheets), and a filled bubble is then
sampled half on paper and read blank.

Here each unmarked bubble's printed outline is found where it is: along 24
rays from the centre the fit gives, the darkest point between ``0.6`` and
``1.35`` of the form's radius is where the ray crosses the outline. A bubble
off by ``o`` crosses each ray ``u`` farther by ``o · u``: a least-squares fit
over the rays gives the bubble's offset, whatever is printed inside it
(letters stay within the inner part) and whatever the printed size (a
uniformly larger outline moves every crossing alike). A field whose bubbles
agree on an offset larger than a share of their radius is not read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omr.detect.sampling import RECT_OUTLINE, ROUND_OUTLINE, apply_transform, sample_image
from omr.detect.stats import grouped_medians, median_last_axis
from omr.forms import Form

MAX_OFF = 0.4  # of the bubble radius (measured: reads right at 0.36 off, wrong at 0.47)
MIN_PX = 1.5  # and never less than this many pixels (what a small bubble's print can tell)
MIN_AGREE = 0.7  # share of a field's measured bubbles pointing the field's way, half as far
_RADII = np.linspace(0.6, 1.35, 16)  # along each ray, in shares of the outline's radius
_LINE = 0.1  # a ray's darkest point must be this much darker than its median (paper to ink = 1)
_MIN_RAYS = 12  # of 24: fewer crossings seen and the bubble says nothing
ROUNDS = 3  # measured, moved and measured again
FOLLOW = 0.1  # of the radius: a field whose bubbles moved less is measured well enough


@dataclass(frozen=True)
class FieldCentring:
    """One field's offset from its printed outlines (form mm) and the numbers behind it."""

    offset: tuple[float, float]
    off_radius: float  # the offset's length over the field's median bubble radius
    limit: float  # the largest off_radius accepted on this page (MAX_OFF, or MIN_PX)
    agree: float  # share of its measured bubbles that point the same way
    bubbles: int  # bubbles whose outline was seen

    @property
    def ok(self) -> bool:
        """False when the field is consistently off its outlines by more than the limit."""
        return self.off_radius <= self.limit or self.agree < MIN_AGREE

    def describe(self, name: str, px_per_mm: float) -> str:
        """One line for a person: how far off, how many agree, what is accepted."""
        mm = float(np.hypot(*self.offset))
        return (
            f"{name} sits {self.off_radius:.2f} of its bubble radius off the printed outlines "
            f"({mm:.2f} mm, {mm * px_per_mm:.1f} px; {self.agree:.0%} of {self.bubbles} bubbles "
            f"agree; at most {self.limit:.2f} is read)"
        )


def _rays(rect: np.ndarray, half_axes: np.ndarray) -> np.ndarray:
    """(K, 24, 2) mm: from each bubble's centre to its outline as the form draws it."""
    unit = np.where(rect[:, None, None], RECT_OUTLINE, ROUND_OUTLINE)
    return unit * half_axes[:, None, :]


def bubble_offsets(
    gray: np.ndarray,
    matrix: np.ndarray,
    centres_mm: np.ndarray,
    rays_mm: np.ndarray,
    *,
    paper: float,
    ink: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Each bubble's offset (K, 2) in mm from where its printed outline is, and whether seen (K,).

    ``rays_mm`` (K, 24, 2) runs from each centre to its outline (:func:`_rays`).
    """
    dark = paper - sample_image(gray, apply_transform(matrix, _ray_points(centres_mm, rays_mm)))
    dark /= max(paper - ink, 1.0)
    k = dark.argmax(axis=2)  # (K, 24): where each ray crosses the outline
    # Sub-step: the parabola through the darkest sample and its two neighbours.
    inner = np.clip(k, 1, len(_RADII) - 2)
    along = dark.reshape(-1, len(_RADII))  # one ray a row
    ray = np.arange(len(along)).reshape(k.shape)
    lo, mid, hi = (along[ray, inner + d] for d in (-1, 0, 1))
    curve = lo - 2 * mid + hi
    frac = np.where(curve < 0, 0.5 * (lo - hi) / np.where(curve < 0, curve, -1.0), 0.0)
    step = _RADII[1] - _RADII[0]
    t = np.where(k == inner, _RADII[inner] + np.clip(frac, -0.5, 0.5) * step, _RADII[k])
    seen = along[ray, k] - median_last_axis(dark) >= _LINE
    length = np.linalg.norm(rays_mm, axis=2)  # (K, 24)
    toward = rays_mm / np.maximum(length[..., None], 1e-9)
    farther = (t - 1.0) * length  # how much farther than drawn each ray meets the outline
    ok = seen.sum(axis=1) >= _MIN_RAYS
    # Least squares of e = o . u + c per bubble, over the rays that saw the
    # outline: the print sits ``o`` from the fit's centre (c: a print a little
    # larger or smaller than drawn). Normal equations, every bubble at once.
    a = np.concatenate([toward, np.ones(toward.shape[:2] + (1,))], axis=2)  # (K, 24, 3)
    w = (seen & ok[:, None]).astype(float)
    blind = np.where(ok, 0.0, 1.0)[:, None, None] * np.eye(3)  # solvable, and 0 where unseen
    normal = np.einsum("kr,kri,krj->kij", w, a, a) + blind
    rhs = np.einsum("kr,kri,kr->ki", w, a, farther)
    offsets = np.linalg.solve(normal, rhs[..., None])[..., 0][:, :2]
    return offsets, ok


_RADII_XY = np.repeat(_RADII, 2)  # each share twice: for x, then y


def _ray_points(centres_mm: np.ndarray, rays_mm: np.ndarray) -> np.ndarray:
    """(K, 24, 16, 2) mm: each centre plus each of ``_RADII`` times each of its rays.

    Laid out with x and y side by side in rows of 32, so numpy's loops run
    along the rows instead of over pairs (four times as fast, the same bits).
    """
    k, r = rays_mm.shape[:2]
    pts = np.tile(rays_mm, len(_RADII))  # (K, 24, 32): x, y, x, y, ...
    pts *= _RADII_XY
    pts += np.tile(centres_mm, len(_RADII))[:, None, :]
    return pts.reshape(k, r, len(_RADII), 2)


def _far_fields(fields: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """The fields (numbers) whose bubbles' median move (in radii; NaN unseen) exceeds FOLLOW."""
    sees = ~np.isnan(moved)
    median, count = grouped_medians(moved[sees], fields[sees], int(fields.max(initial=-1)) + 1)
    return np.flatnonzero((count > 0) & (median > FOLLOW))


def field_centring(
    gray: np.ndarray,
    matrix: np.ndarray,
    form: Form,
    *,
    paper: float,
    ink: float,
    px_per_mm: float,
    per_field: int = 24,
    min_bubbles: int = 8,
    filled: float = 0.3,
) -> dict[str, FieldCentring]:
    """Per grid field with ``min_bubbles`` unmarked bubbles or more whose outline shows: its offset.

    ``px_per_mm`` is the page's scale, which sets how small an offset the print can tell.
    """
    layout = form.layout
    xy, ax, rect = layout.centers_xy, layout.half_axes, layout.rectangular
    grids = {n: f.index.ravel() for n, f in layout.fields.items() if f.kind != "box"}
    grids = {n: b for n, b in grids.items() if len(b) >= min_bubbles}
    if not grids:
        return {}
    everyone = np.concatenate(list(grids.values()))
    dark = (paper - sample_image(gray, apply_transform(matrix, xy[everyone]))) / max(paper - ink, 1)
    unmarked = np.zeros(len(xy), dtype=bool)  # a fill hides the outline's inner edge
    unmarked[everyone[dark < filled]] = True
    chosen = {}
    for name, members in grids.items():
        members = members[unmarked[members]]
        if len(members) >= min_bubbles:
            spread = np.linspace(0, len(members) - 1, min(per_field, len(members)))
            chosen[name] = members[spread.astype(int)]
    if not chosen:
        return {}
    # Every field's bubbles measured together, a few rounds: a bubble far off
    # sees its outline cross the ends of the rays' span; moved by what it
    # measured, it measures the rest.
    members = np.concatenate(list(chosen.values()))
    field_of = np.repeat(np.arange(len(chosen)), [len(b) for b in chosen.values()])
    rays = _rays(rect[members], ax[members])
    offsets = np.zeros((len(members), 2))
    seen = np.zeros(len(members), dtype=bool)
    active = np.arange(len(members))
    for round_ in range(ROUNDS):
        at = members[active]
        more, sees = bubble_offsets(
            gray, matrix, xy[at] + offsets[active], rays[active], paper=paper, ink=ink
        )
        offsets[active] += np.where(sees[:, None], more, 0.0)
        seen[active] = sees if round_ == 0 else seen[active]
        # Only a field whose bubbles moved much has more to measure.
        moved = np.where(sees, np.hypot(*more.T) / layout.radius[at], np.nan)
        active = active[np.isin(field_of[active], _far_fields(field_of[active], moved))]
        if not len(active):
            break
    out: dict[str, FieldCentring] = {}
    ends = np.cumsum([len(b) for b in chosen.values()])
    # Each field's median offset (of its bubbles that saw their outline) and radius.
    mid_x, _ = grouped_medians(offsets[seen, 0], field_of[seen], len(chosen))
    mid_y, _ = grouped_medians(offsets[seen, 1], field_of[seen], len(chosen))
    radii, _ = grouped_medians(layout.radius[members], field_of, len(chosen))
    for f, (name, part, sees) in enumerate(
        zip(chosen, np.split(offsets, ends[:-1]), np.split(seen, ends[:-1]), strict=True)
    ):
        if sees.sum() < min_bubbles:
            continue
        part = part[sees]
        offset = np.array([mid_x[f], mid_y[f]])
        size = float(np.hypot(*offset))
        radius = float(radii[f])
        agree = float((part @ (offset / size) >= 0.5 * size).mean()) if size > 0 else 0.0
        out[name] = FieldCentring(
            offset=(round(float(offset[0]), 3), round(float(offset[1]), 3)),
            off_radius=size / radius,
            limit=max(MAX_OFF, MIN_PX / (px_per_mm * radius)),
            agree=agree,
            bubbles=int(sees.sum()),
        )
    return out


PRINT_SEEN = 0.8  # of a field's unmarked bubbles showing their outline: this page shows its print
BLANK_SEEN = 0.2  # at most this share showing it: the field lies where nothing is printed
OFF_SCAN = "lies partly or wholly off the scanned image"
NO_PRINT = "has no printed bubbles where the form puts it"


def fields_off_print(
    gray: np.ndarray,
    matrix: np.ndarray,
    form: Form,
    *,
    paper: float,
    ink: float,
    per_field: int = 8,
    filled: float = 0.3,
) -> dict[str, str]:
    """Fields a fit proven on the rest of the page cannot read, each with why: a bubble off
    the scanned image (cut off), or unmarked bubbles showing no printed outline where the
    form puts them on a page whose other fields show theirs (the form places the field on
    blank paper or other print). Either way its bubbles would read blank: a group field
    there would void every sheet.

    Fields of any size count, the booklet group's few bubbles too; proctor boxes only for
    the scan's edge (what is printed around a box varies). A page showing no outline
    anywhere (a drop-out ink) says nothing of print.
    """
    layout = form.layout
    xy, ax, rect = layout.centers_xy, layout.half_axes, layout.rectangular
    h, w = gray.shape[:2]
    out: dict[str, str] = {}
    # Every field's bubbles mapped, sampled and measured at once (each bubble's
    # figures are its own, whatever is measured with it).
    fields = list(layout.fields.items())
    if not fields:
        return out
    members = [f.index.ravel() for _, f in fields]
    px = apply_transform(matrix, xy[np.concatenate(members)])
    px = np.split(px, np.cumsum([len(m) for m in members])[:-1])
    read = []  # the fields whose print is looked for
    for i, ((name, field), at) in enumerate(zip(fields, px, strict=True)):
        if not ((at >= 0) & (at <= [w - 1, h - 1])).all():
            out[name] = OFF_SCAN
        elif field.kind != "box":
            read.append(i)
    dark = []
    if read:
        dark = (paper - sample_image(gray, np.concatenate([px[i] for i in read]))) / max(
            paper - ink, 1
        )
        dark = np.split(dark, np.cumsum([len(px[i]) for i in read])[:-1])
    chosen = {}
    for i, d in zip(read, dark, strict=True):
        blank = members[i][d < filled]
        if len(blank):  # else every bubble marked: its marks are there, so is its print
            spread = np.linspace(0, len(blank) - 1, min(per_field, len(blank))).astype(int)
            chosen[fields[i][0]] = blank[spread]
    seen: dict[str, float] = {}
    if chosen:
        both = np.concatenate(list(chosen.values()))
        _, sees = bubble_offsets(
            gray, matrix, xy[both], _rays(rect[both], ax[both]), paper=paper, ink=ink
        )
        sees = np.split(sees, np.cumsum([len(b) for b in chosen.values()])[:-1])
        seen = {name: float(s.mean()) for name, s in zip(chosen, sees, strict=True)}
    if seen and max(seen.values()) >= PRINT_SEEN:
        out.update({name: NO_PRINT for name, share in seen.items() if share <= BLANK_SEEN})
    return out
