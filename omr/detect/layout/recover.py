"""Bubbles the finder missed, recovered where the grids' lattices say one should be.

A pale print breaks outlines into arcs, and a digit printed inside a bubble
that touches its outline splits its hole: neither is a ring to
:func:`~omr.detect.layout.bubbles.find_bubbles`, and the grids come out in
pieces. Then only (:func:`in_pieces`), stepping from every bubble of a grid
to its lattice neighbours, a neighbour is taken where the printed outline
shows there: the outline's line is mostly ink all round and the band just
outside it mostly paper (so a text line, a box or a rule is not), or the
bubble is filled solid inside.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from omr.detect.layout.bubbles import FoundBubbles, _outline_templates
from omr.detect.layout.grids import Grid
from omr.detect.layout.ink import _prepare

SECTORS = 8
MIN_LINE = 0.6  # least share of the outline's line that is ink, in each of its sectors
MAX_BAND = 0.2  # most share of the band just outside it that is ink
MIN_FILLED = 0.75  # a filled bubble: this share of its inside is ink
SEARCH = 0.12  # a neighbour may sit this share of a pitch off the lattice step
PIECES = (6, 20)  # grids in pieces: this many 2 x 2 grids or more, of fewer bubbles on average


def recover_on_lattices(
    gray: np.ndarray,
    bubbles: FoundBubbles,
    grids: list[Grid],
    px_per_mm: float,
    *,
    keep_off: np.ndarray | None = None,
    keep_off_px: float = 0.0,
    min_contrast: float = 25.0,
) -> tuple[FoundBubbles, int]:
    """``bubbles`` with the missed ones of their grids' lattices added; and how many were.

    Only grids of two rows and two columns or more are stepped from (a
    line of rings may be letters of a word printed large), along the
    sheet's grids' median steps; nothing is taken within ``keep_off_px``
    and a bubble's size of ``keep_off`` (K, 2), the registration marks and
    dashes.
    """
    big = [g for g in grids if g.rows > 1 and g.cols > 1]
    if len(bubbles) == 0 or not in_pieces(big) or bubbles.shape != "circle":
        return bubbles, 0
    ink = _prepare(gray, px_per_mm, min_contrast)
    if ink is None:
        return bubbles, 0
    size = np.median(bubbles.size_mm, axis=0) * px_per_mm
    col = np.median([g.col_step for g in big], axis=0)
    row = np.median([g.row_step for g in big], axis=0)
    steps = [s for s in (col, row, -col, -row) if np.hypot(*s) > 1.2 * size.max()]
    if not steps:
        return bubbles, 0
    line, inside, band = _maps(ink, size)
    known = list(map(tuple, bubbles.xy))
    marks = np.empty((0, 2)) if keep_off is None else np.asarray(keep_off, float).reshape(-1, 2)
    added: list[tuple[float, float]] = []
    filled: list[bool] = []
    queue = deque(np.vstack([bubbles.xy[_members(bubbles, g, size)] for g in big]))
    m, n = ink.shape
    reach = max(1, int(round(SEARCH * min(np.hypot(*s) for s in steps))))
    while queue:
        p = queue.popleft()
        for s in steps:
            q = p + s
            x, y = int(round(q[0])), int(round(q[1]))
            if not (reach <= x < n - reach and reach <= y < m - reach):
                continue
            if _near(known, q, 0.5 * size.min()) or _near(marks, q, keep_off_px + size.max()):
                continue
            win = np.s_[y - reach : y + reach + 1, x - reach : x + reach + 1]
            score = line[win] - band[win]
            r, c = np.unravel_index(int(np.argmax(score)), score.shape)
            yy, xx = y - reach + r, x - reach + c
            ring = line[yy, xx] >= MIN_LINE and band[yy, xx] <= MAX_BAND
            solid = inside[y, x] >= MIN_FILLED and band[y, x] <= 2.5 * MAX_BAND
            if not (ring or solid):
                continue
            found = (float(xx), float(yy)) if ring else (float(x), float(y))
            if _near(known, np.asarray(found), 0.5 * size.min()):
                continue
            known.append(found)
            added.append(found)
            filled.append(bool(inside[int(found[1]), int(found[0])] >= MIN_FILLED))
            queue.append(np.asarray(found))
    if not added:
        return bubbles, 0
    xy = np.vstack([bubbles.xy, added])
    order = np.lexsort((xy[:, 0], xy[:, 1]))
    more = FoundBubbles(
        xy=xy[order],
        size_mm=np.vstack([bubbles.size_mm, np.tile(size / px_per_mm, (len(added), 1))])[order],
        shape=bubbles.shape,
        filled=np.concatenate([bubbles.filled, filled])[order],
        other_sizes=bubbles.other_sizes,
    )
    return more, len(added)


def in_pieces(grids: list[Grid]) -> bool:
    """Whether a sheet's grids came out in pieces: many, each of few bubbles.

    Sandeep-1507's 200 questions came out as 22-24 grids of 11-12 bubbles
    on average (by the scale assumed); the sheets the finder reads whole
    give a few grids of 30 to 200 (UmarFarootAPS 5, averaging 168). Only then are bubbles recovered:
    on a sheet found whole, a recovered outline is more often print (a
    number, a legend) than a bubble missed.
    """
    sizes = [g.rows * g.cols for g in grids]
    return len(sizes) >= PIECES[0] and float(np.mean(sizes)) < PIECES[1]


def _maps(ink: np.ndarray, size: np.ndarray):
    """Per pixel: share of ink on an outline's line, inside it, and in the band outside it.

    The line's share is its second least over eight sectors: an outline
    goes all round (but for a break in one sector), where a rule, a box's
    edge, a dash or a word covers some sectors only.
    """
    stroke = np.full(2, max(1.0, 0.08 * float(size.mean())))
    ring, band = _outline_templates("circle", size, stroke, 0.785)
    inkd = cv2.dilate(ink, np.ones((3, 3), np.uint8)).astype(np.float32) / 255
    inkf = ink.astype(np.float32) / 255
    h, w = ring.shape
    yy, xx = np.mgrid[0:h, 0:w]
    sector = ((np.arctan2(yy - h // 2, xx - w // 2) + np.pi) / (2 * np.pi) * SECTORS).astype(int)
    low = np.full(ink.shape, np.inf, np.float32)
    line = low.copy()  # the second lowest: one sector may be broken (a pale print)
    for k in range(SECTORS):
        part = np.where(sector % SECTORS == k, ring, 0).astype(np.float32)
        cover = cv2.filter2D(inkd, -1, part / part.sum(), borderType=cv2.BORDER_CONSTANT)
        line = np.minimum(line, np.maximum(low, cover))
        low = np.minimum(low, cover)
    disc = np.zeros(ring.shape, np.float32)
    cv2.circle(disc, (w // 2, h // 2), max(1, int(0.3 * size.min())), 1.0, -1)
    disc /= disc.sum()
    inside = cv2.filter2D(inkf, -1, disc, borderType=cv2.BORDER_CONSTANT)
    out = cv2.filter2D(inkf, -1, band, borderType=cv2.BORDER_CONSTANT)
    return line, inside, out


def _members(bubbles: FoundBubbles, g: Grid, size: np.ndarray) -> np.ndarray:
    """Indices of the bubbles at grid ``g``'s lattice positions."""
    pos = g.centres().reshape(-1, 2)
    d = np.hypot(*(pos[:, None, :] - bubbles.xy[None, :, :]).transpose(2, 0, 1))
    near = d.min(axis=0) < 0.5 * size.min()
    return np.flatnonzero(near)


def _near(known: list, q: np.ndarray, tol: float) -> bool:
    """Whether a known bubble lies within ``tol`` of ``q``."""
    k = np.asarray(known)
    return bool(len(k)) and bool(np.min(np.hypot(k[:, 0] - q[0], k[:, 1] - q[1])) < tol)
