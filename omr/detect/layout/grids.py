"""Group found bubbles into regular rectangular grids, and the page's skew."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omr.detect.layout.bubbles import FoundBubbles


@dataclass(frozen=True)
class Grid:
    """A regular rectangular lattice of bubbles.

    The bubble at (row, col) sits at ``origin + col * col_step + row * row_step``.

    Attributes
    ----------
    origin : (2,) ndarray of float64
        Centre of row 0, column 0, (x, y) pixels; the top-left bubble.
    col_step : (2,) ndarray of float64
        (x, y) pixel vector from one column to the next; (0, 0) for one column.
    row_step : (2,) ndarray of float64
        (x, y) pixel vector from one row to the next; (0, 0) for one row.
    rows, cols : int
    missing : tuple of (int, int)
        (row, col) lattice positions where no bubble was found.
    residual_px : float
        RMS distance of the found bubbles from their lattice positions.
    """

    origin: np.ndarray
    col_step: np.ndarray
    row_step: np.ndarray
    rows: int
    cols: int
    missing: tuple[tuple[int, int], ...]
    residual_px: float

    def centres(self) -> np.ndarray:
        """Lattice positions, ``(rows, cols, 2)`` in (x, y) pixels."""
        r, c = np.mgrid[0 : self.rows, 0 : self.cols]
        return self.origin + c[..., None] * self.col_step + r[..., None] * self.row_step


def _rotation(theta: float) -> np.ndarray:
    """(2, 2) matrix taking (x, y) to (u, v): u along the rows' direction ``theta``."""
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, s], [-s, c]])


def _neighbour_angle(xy: np.ndarray, reach_px: float) -> float:
    """Rows' direction in radians, from neighbour vectors folded modulo 90°; 0 if unknown."""
    if len(xy) < 2:
        return 0.0
    d = xy[None, :, :] - xy[:, None, :]
    dist = np.hypot(d[..., 0], d[..., 1])
    np.fill_diagonal(dist, np.inf)
    k = min(4, len(xy) - 1)
    near = np.argsort(dist, axis=1)[:, :k]
    vec = d[np.arange(len(xy))[:, None], near].reshape(-1, 2)
    vec = vec[dist[np.arange(len(xy))[:, None], near].ravel() < reach_px]
    if len(vec) == 0:
        return 0.0
    ang = np.arctan2(vec[:, 1], vec[:, 0])
    ang = (ang + np.pi / 4) % (np.pi / 2) - np.pi / 4
    ang = ang[np.abs(ang) < np.radians(10)]
    return float(np.median(ang)) if len(ang) else 0.0


def _link(uv: np.ndarray, axis: int, along_min: float, along_max: float, across: float):
    """Mutual nearest neighbours along ``axis`` of ``uv`` (K, 2): (next, prev) index arrays.

    ``next[i]`` is the bubble after ``i`` along the axis on the same line, or -1.
    """
    k = len(uv)
    d_al = uv[None, :, axis] - uv[:, None, axis]  # [i, j]: j ahead of i
    d_ac = np.abs(uv[None, :, 1 - axis] - uv[:, None, 1 - axis])
    ok = (d_al > along_min) & (d_al < along_max) & (d_ac < across)
    ahead = np.where(ok, d_al, np.inf)
    nxt = np.where(np.isfinite(ahead.min(axis=1)), ahead.argmin(axis=1), -1)
    prv = np.where(np.isfinite(ahead.min(axis=0)), ahead.argmin(axis=0), -1)
    ids = np.arange(k)
    mutual = (nxt >= 0) & (prv[np.maximum(nxt, 0)] == ids)
    nxt = np.where(mutual, nxt, -1)
    prv = np.full(k, -1)
    prv[nxt[mutual]] = ids[mutual]
    return nxt, prv


def _cut_gaps(uv: np.ndarray, axis: int, nxt: np.ndarray, prv: np.ndarray, tol: float):
    """Drop links clearly longer than a neighbouring link on the same line."""
    length = np.where(nxt >= 0, uv[np.maximum(nxt, 0), axis] - uv[:, axis], np.nan)
    out = nxt.copy()
    for i in np.flatnonzero(nxt >= 0):
        j = nxt[i]
        around = []
        if prv[i] >= 0:
            around.append(length[prv[i]])
        if nxt[j] >= 0:
            around.append(length[j])
        if around and min(around) * (1 + tol) < length[i]:
            out[i] = -1
    return out


def _components(k: int, links: list[np.ndarray]) -> list[np.ndarray]:
    parent = np.arange(k)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for nxt in links:
        for i in np.flatnonzero(nxt >= 0):
            a, b = root(i), root(int(nxt[i]))
            if a != b:
                parent[max(a, b)] = min(a, b)
    roots = np.array([root(i) for i in range(k)])
    return [np.flatnonzero(roots == r) for r in np.unique(roots)]


def _fit_lattice(xy: np.ndarray, ij: np.ndarray, use: tuple[bool, bool]):
    """Least-squares origin, col step, row step for points ``xy`` at integer ``ij`` (col, row)."""
    cols = [np.ones(len(xy))] + [ij[:, a].astype(float) for a in (0, 1) if use[a]]
    a = np.column_stack(cols)
    coef, *_ = np.linalg.lstsq(a, xy, rcond=None)
    origin = coef[0]
    steps, q = [], 1
    for axis in (0, 1):
        if use[axis]:
            steps.append(coef[q])
            q += 1
        else:
            steps.append(np.zeros(2))
    return origin, steps[0], steps[1]


def _frame_ok(c: np.ndarray, r: np.ndarray, use: tuple[bool, bool]) -> bool:
    """Whether the used steps span a lattice: non-zero, and two steps far from parallel.

    A component linked along a diagonal (noise, a slanted row of text) gives a
    row step and a column step nearly alike; such a "lattice" has no integer
    positions to speak of and must not be solved for them.
    """
    norms = [float(np.hypot(*s)) for s, u in ((c, use[0]), (r, use[1])) if u]
    if not all(np.isfinite(norms)) or any(n < 1e-6 for n in norms):
        return False
    if use[0] and use[1]:
        cross = abs(float(c[0] * r[1] - c[1] * r[0]))
        return cross > 0.5 * norms[0] * norms[1]  # more than 30 degrees apart
    return True


def _singles(xy: np.ndarray) -> list[tuple[Grid, np.ndarray]]:
    """Every bubble a 1 x 1 grid of its own."""
    return [
        (Grid(p.copy(), np.zeros(2), np.zeros(2), 1, 1, (), 0.0), np.array([i]))
        for i, p in enumerate(xy)
    ]


def _index(xy, origin, c, r, use):
    """Integer (col, row) of each point on the lattice (origin, c, r)."""
    d = xy - origin
    if use[0] and use[1]:
        ij = np.linalg.solve(np.column_stack([c, r]), d.T).T
    else:
        ij = np.zeros((len(xy), 2))
        for axis, step in ((0, c), (1, r)):
            if use[axis]:
                ij[:, axis] = d @ step / (step @ step)
    return np.round(ij).astype(int)


def _grid_from(xy: np.ndarray, c0, r0) -> list[tuple[Grid, np.ndarray]]:
    """Fit one component's lattice; split it where a whole row or column is empty.

    Returns (grid, member indices into ``xy``) pairs.
    """
    use = (c0 is not None, r0 is not None)
    if len(xy) == 1 or not any(use):
        return _singles(xy)
    origin, c, r = xy[0], c0 if use[0] else np.zeros(2), r0 if use[1] else np.zeros(2)
    for _ in range(4):
        if not _frame_ok(c, r, use):
            return _singles(xy)
        ij = _index(xy, origin, c, r, use)
        ij -= ij.min(axis=0)
        origin, c, r = _fit_lattice(xy, ij, use)
    if not _frame_ok(c, r, use):
        return _singles(xy)
    ncol, nrow = ij.max(axis=0) + 1
    for axis, n in ((0, ncol), (1, nrow)):
        present = np.bincount(ij[:, axis], minlength=n) > 0
        if not present.all():  # never invent an empty row or column: split there
            gap = int(np.flatnonzero(~present)[0])
            out = []
            for part in (ij[:, axis] < gap, ij[:, axis] > gap):
                sub = np.flatnonzero(part)
                steps = [c0, r0]
                if len(np.unique(ij[sub, axis])) < 2:
                    steps[axis] = None
                for g, m in _grid_from(xy[sub], *steps):
                    out.append((g, sub[m]))
            return out
    lattice = origin + ij[:, :1] * c + ij[:, 1:] * r
    residual = float(np.sqrt(np.mean(np.sum((xy - lattice) ** 2, axis=1))))
    taken = set(map(tuple, ij[:, ::-1].tolist()))
    missing = tuple(
        (row, col) for row in range(nrow) for col in range(ncol) if (row, col) not in taken
    )
    g = Grid(origin, c, r, int(nrow), int(ncol), missing, residual)
    return [(g, np.arange(len(xy)))]


def _merge_aligned(xy: np.ndarray, found: list, max_missing: float) -> list:
    """Join pieces of one lattice that lost their links to missing bubbles.

    Pieces join when they sit on the lattice of a piece with both steps known
    (within a fifth of a step), their own steps agree, and they come within two
    lattice steps of it. A joined group is kept only when it makes one grid,
    without an empty row or column, two bubbles on one position, or more than
    ``max_missing`` of its positions empty; otherwise its pieces stay apart.
    """
    k = len(found)
    parent = list(range(k))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for a, (ga, ma) in enumerate(found):
        if ga.rows < 2 or ga.cols < 2 or not _frame_ok(ga.col_step, ga.row_step, (True, True)):
            continue  # the lattice must be known both ways
        frame = np.column_stack([ga.col_step, ga.row_step])
        own = np.round(np.linalg.solve(frame, (xy[ma] - ga.origin).T).T)
        for b, (gb, mb) in enumerate(found):
            if b == a or root(a) == root(b):
                continue
            ij = np.linalg.solve(frame, (xy[mb] - ga.origin).T).T
            if np.abs(ij - np.round(ij)).max() > 0.2:
                continue
            steps = ((ga.col_step, gb.col_step, gb.cols), (ga.row_step, gb.row_step, gb.rows))
            if any(
                np.linalg.norm(sb - sa) > 0.03 * np.linalg.norm(sa) for sa, sb, n in steps if n > 1
            ):
                continue
            gap = np.abs(own[:, None, :] - np.round(ij)[None, :, :]).max(axis=2).min()
            if gap <= 2:
                parent[root(b)] = root(a)
    groups: dict[int, list[int]] = {}
    for i in range(k):
        groups.setdefault(root(i), []).append(i)
    out = []
    for members in groups.values():
        if len(members) > 1:
            big = max(members, key=lambda i: len(found[i][1]))
            both = np.concatenate([found[i][1] for i in members])
            joined = _grid_from(xy[both], found[big][0].col_step, found[big][0].row_step)
            if len(joined) == 1:
                g, m = joined[0]
                positions = g.rows * g.cols
                if positions - len(g.missing) == len(both) and len(g.missing) <= (
                    max_missing * positions
                ):
                    out.append((g, both[m]))
                    continue
        out.extend(found[i] for i in members)
    return out


def find_grids(
    bubbles: FoundBubbles,
    px_per_mm: float,
    *,
    pitch_tol: float = 0.15,
    max_pitch: float = 2.5,
    line_tol: float = 0.35,
    max_missing: float = 0.35,
) -> list[Grid]:
    """Group bubbles into maximal regular rectangular lattices.

    Each bubble is linked to its nearest neighbour along its row and along its
    column (after a rough deskew). A link clearly longer than the link before
    or after it on the same line is a gap between two grids, not a step, and
    is cut; the bubbles still linked form one grid, whose origin and steps are
    fitted by least squares over all its bubbles. A lost bubble leaves a
    missing position, as long as its row and column hold other bubbles.

    Parameters
    ----------
    bubbles : FoundBubbles
    px_per_mm : float
        Scan resolution.
    pitch_tol : float
        A link longer than ``1 + pitch_tol`` times a neighbouring link is a gap.
    max_pitch : float
        Longest link, in bubble sizes (the larger side).
    line_tol : float
        Largest offset across a row (column) between neighbours, in bubble heights
        (widths).
    max_missing : float
        Largest share of empty positions when pieces of one lattice, cut apart
        by lost bubbles, are joined again.

    Returns
    -------
    list of Grid
        Ordered top to bottom, then left to right. Single bubbles are 1 × 1 grids.
    """
    if not px_per_mm > 0:
        raise ValueError("px_per_mm must be positive")
    xy = np.asarray(bubbles.xy, dtype=np.float64).reshape(-1, 2)
    if len(xy) == 0:
        return []
    size = np.median(np.asarray(bubbles.size_mm).reshape(-1, 2), axis=0) * px_per_mm
    bw, bh = float(size[0]), float(size[1])
    reach = max_pitch * max(bw, bh)
    theta = _neighbour_angle(xy, reach)
    uv = xy @ _rotation(theta).T
    links = []
    for axis, along, across in ((0, bw, bh), (1, bh, bw)):
        nxt, prv = _link(uv, axis, 0.5 * along, reach, line_tol * across)
        links.append((nxt, _cut_gaps(uv, axis, nxt, prv, pitch_tol)))
    found: list[tuple[Grid, np.ndarray]] = []
    for comp in _components(len(xy), [cut for _, cut in links]):
        steps = []
        for _, cut in links:
            inside = np.isin(np.arange(len(xy)), comp) & (cut >= 0)
            vec = xy[cut[inside]] - xy[inside]
            steps.append(np.median(vec, axis=0) if len(vec) else None)
        for g, m in _grid_from(xy[comp], *steps):
            found.append((g, comp[m]))
    grids = [g for g, _ in _merge_aligned(xy, found, max_missing)]
    # Top to bottom in bands of about one bubble height, then left to right.
    ouv = np.array([g.origin for g in grids]) @ _rotation(theta).T
    band = np.zeros(len(grids), dtype=int)
    order_v = np.argsort(ouv[:, 1], kind="stable")
    for prev, cur in zip(order_v[:-1], order_v[1:], strict=True):
        band[cur] = band[prev] + (ouv[cur, 1] - ouv[prev, 1] > 0.5 * bh)
    order = np.lexsort((ouv[:, 0], band))
    return [grids[i] for i in order]


def estimate_skew(bubbles: FoundBubbles, grids: list[Grid]) -> float:
    """Angle of the rows' direction, in degrees, image coordinates (y down).

    Positive means the page is turned clockwise as seen on screen; rotating
    the image by ``cv2.getRotationMatrix2D(centre, angle, 1)`` with this angle
    makes the rows horizontal. Each grid's fitted column step counts with the
    number of its steps, as does its row step (turned by 90°). Without a grid
    of two or more bubbles, neighbouring bubbles give the angle; NaN when there
    are fewer than two bubbles.

    Parameters
    ----------
    bubbles : FoundBubbles
    grids : list of Grid
        As from :func:`find_grids`.

    Returns
    -------
    float
    """
    angles, weights = [], []
    for g in grids:
        if g.cols > 1:
            angles.append(np.arctan2(g.col_step[1], g.col_step[0]))
            weights.append(g.rows * (g.cols - 1))
        if g.rows > 1:
            angles.append(np.arctan2(-g.row_step[0], g.row_step[1]))
            weights.append(g.cols * (g.rows - 1))
    if angles:
        return float(np.degrees(np.average(angles, weights=weights)))
    xy = np.asarray(bubbles.xy).reshape(-1, 2)
    if len(xy) < 2:
        return float("nan")
    return float(np.degrees(_neighbour_angle(xy, np.inf)))
