"""Decide every field of a sheet from its bubble darkness, with a per-sheet adaptive rule.

Each sheet sets its own levels: its blank bubbles give the blank level and
the noise, its confidently filled bubbles give its typical mark. A bubble is
empty, marked, or unsure (between the two levels); an unsure bubble makes its
item unsure, which sends it to a person. Nothing in between is guessed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from omr.calibration import MarkModel
from omr.detect.fieldgrid import field_grid
from omr.detect.measure import BubbleMeasures
from omr.detect.rounding import rounded
from omr.detect.stats import group_medians, median, quantile
from omr.forms import BubbleLayout
from omr.records import FieldRead, ItemRead, ItemState

EMPTY, UNSURE, MARKED, RESIDUE, ODD = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class SheetLevels:
    """The sheet's own darkness levels (darkness units, see :mod:`omr.detect.measure`)."""

    blank: float
    noise: float
    mark: float
    empty_below: float
    marked_above: float

    def as_dict(self) -> dict[str, float]:
        """Rounded, for the read record."""
        return {k: round(v, 4) for k, v in asdict(self).items()}


def sheet_levels(darkness: np.ndarray, model: MarkModel) -> SheetLevels:
    """Blank level, noise and the two thresholds of one sheet.

    Parameters
    ----------
    darkness : (N,) ndarray
        Darkness of the sheet's answer, group and identity bubbles (most are blank).
    model : MarkModel
        Floors, shares and noise factors from the calibration profile.
    """
    v = np.asarray(darkness, dtype=float)
    if v.size == 0:
        raise ValueError("no bubbles to set levels from")
    blank = median(v)
    below = blank - v[v <= blank]
    noise = float(1.4826 * median(below)) if below.size else 0.0
    confident = v[v > blank + model.mark_floor] - blank
    mark = median(confident) if confident.size >= model.min_marks_for_share else np.inf
    empty_above = max(model.empty_noise_k * noise, min(model.empty_floor, model.empty_share * mark))
    marked_above = max(model.mark_noise_k * noise, min(model.mark_floor, model.mark_share * mark))
    # However noisy the sheet, nothing this dark is called empty, and nothing
    # needs to be darker than this to be called marked: between, a person looks.
    empty_above = min(empty_above, model.empty_cap)
    marked_above = max(min(marked_above, model.mark_cap), empty_above + 0.02)
    return SheetLevels(
        blank=blank,
        noise=noise,
        mark=mark if np.isfinite(mark) else float("nan"),
        empty_below=blank + empty_above,
        marked_above=blank + marked_above,
    )


def bubble_states(darkness: np.ndarray, levels: SheetLevels) -> tuple[np.ndarray, np.ndarray]:
    """State (EMPTY, UNSURE, MARKED) and confidence in [0, 1] of every bubble.

    Confidence is how far a bubble sits past its threshold, relative to the
    distance from the blank level to that threshold; unsure bubbles get 0.
    """
    v = np.asarray(darkness, dtype=float)
    states = np.full(v.shape, UNSURE, dtype=np.int8)
    states[v < levels.empty_below] = EMPTY
    states[v >= levels.marked_above] = MARKED
    span_empty = max(levels.empty_below - levels.blank, 1e-6)
    span_mark = max(levels.marked_above - levels.blank, 1e-6)
    conf = np.zeros(v.shape)
    conf = np.where(states == EMPTY, (levels.empty_below - v) / span_empty, conf)
    conf = np.where(states == MARKED, (v - levels.marked_above) / span_mark, conf)
    return states, np.clip(conf, 0.0, 1.0)


def mark_residue(
    states: np.ndarray,
    darkness: np.ndarray,
    levels: SheetLevels,
    model: MarkModel,
    patch: np.ndarray | None = None,
    spill: np.ndarray | None = None,
    halo: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Set aside erasure residue beside a clear mark; doubt a much lighter second mark.

    Parameters
    ----------
    states, darkness : (..., I, K) ndarray
        Bubble states and darkness of one field, items × options (or of
        every field, on a padded grid).
    patch, spill : (..., I, K) ndarray of bool, optional
        A dark patch inside (never residue); a smudge spilling outside.
    halo : (..., I, K) ndarray, optional
        Ring darkness above the blank ring: a light mark is residue only when
        it is at least ``residue_halo_share`` of its darkness (what an eraser
        leaves; a light tick or a faint stroke has none).

    Returns
    -------
    states : (..., I, K) ndarray of int8, with RESIDUE where an unsure bubble sits in
        an item that has a clear mark and its darkness above blank is below
        both ``residue_share`` of that mark's and ``residue_max``; and UNSURE
        where a marked bubble is below ``second_share`` of its item's strongest.
    confidence : (..., I, K) ndarray, how far below that limit each residue is.
    """
    above = darkness - levels.blank
    strong = np.where(states == MARKED, above, -np.inf).max(axis=-1, keepdims=True)
    limit = np.minimum(model.residue_share * strong, model.residue_max)
    residue = (states == UNSURE) & np.isfinite(strong) & (above < limit)
    if halo is not None and model.residue_halo_share > 0:
        residue &= halo >= model.residue_halo_share * above
    if spill is not None:
        # A smudge that spills outside its bubble and is far lighter than the
        # question's clear mark: two signs of an eraser, so residue.
        residue |= (states == UNSURE) & spill & (above < model.second_share * strong)
    if patch is not None:  # a dark patch (a dot, a stroke) is not what an eraser leaves
        residue &= ~patch
    # A second "mark" far lighter than the first is as likely an erasure as an
    # answer: never read it as a second answer (that would make a right answer wrong).
    weak_second = (states == MARKED) & (above < model.second_share * strong)
    out = np.where(residue, RESIDUE, np.where(weak_second, UNSURE, states)).astype(np.int8)
    conf = np.where(residue, np.clip((limit - above) / np.maximum(limit, 1e-6), 0.1, 1), 1.0)
    return out, conf


def judge_seconds(states: np.ndarray, smear: np.ndarray, deliberate: np.ndarray) -> np.ndarray:
    """Decide a doubtful second mark beside a clear answer by its shape, where it is plain.

    A light mark that smears outside its bubble with no strokes inside is what
    an eraser leaves: RESIDUE. One that stays clean inside its outline and is
    either drawn in strokes (a tick, a cross, a half fill) or as dark as a
    faint pencil fill was meant: a second answer, MARKED (article 7.18 makes
    the question wrong). Anything between stays UNSURE for a person.

    Parameters
    ----------
    states : (..., I, K) ndarray of int8
    smear, deliberate : (..., I, K) ndarray of bool
    """
    has_answer = (states == MARKED).any(axis=-1, keepdims=True)
    doubtful = (states == UNSURE) & has_answer
    out = np.where(doubtful & smear, RESIDUE, states)
    out = np.where(doubtful & ~smear & deliberate, MARKED, out)
    return out.astype(np.int8)


def _rows(values: np.ndarray) -> tuple[tuple[float, ...], ...]:
    # tolist: the same floats as float() of each element, without a numpy scalar each
    return tuple(tuple(row) for row in values.tolist())


def _unsure_reason(marked: str, unsure: str, odd: str = "") -> str:
    if odd and not unsure:
        return "odd-mark"  # a ring or a dot, alone or beside an answer: a person decides
    if marked:
        return "erasure-or-answer"
    return "ambiguous-multiple" if len(unsure) > 1 else "faint"


def decide_items(
    states: np.ndarray,
    confidence: np.ndarray,
    labels: tuple[str, ...],
    readable: np.ndarray | None = None,
) -> tuple[ItemRead, ...]:
    """One decision per row of ``states`` (items × options), with a reason when unsure.

    An ODD or UNSURE mark that is ``readable`` (items × options; a circled
    option, a dot, a light tick) and the only mark of its item is read as its
    answer, with reason ``odd:<option>`` so that the sheet can be flagged; any
    other ODD mark makes its item unsure.
    """
    if readable is None:
        readable = np.zeros(states.shape, dtype=bool)
    plain = ((states == EMPTY) | (states == MARKED)).all(axis=1).tolist()
    lowest = rounded(confidence.min(axis=1), 3).tolist() if states.shape[1] else None
    return _decide_rows(states, labels, readable, plain, lowest)


def _decide_rows(
    states: np.ndarray, labels: tuple[str, ...], readable: np.ndarray, plain: list, lowest: list
) -> tuple[ItemRead, ...]:
    """:func:`decide_items`, given which rows are ``plain`` (only empty and marked
    bubbles) and each row's ``lowest`` confidence, rounded."""
    # Plain rows, most of them, are read without a numpy call each.
    by_count = (ItemState.blank, ItemState.one)
    out = []
    for r, row in enumerate(states.tolist()):
        if plain[r]:
            marked = "".join(lab for lab, x in zip(labels, row, strict=True) if x == MARKED)
            state = by_count[len(marked)] if len(marked) < 2 else ItemState.multiple
            out.append(ItemRead(marked, state, lowest[r], "", ""))
            continue
        row_state, row_readable = states[r], readable[r]
        pick = {
            s: "".join(lab for lab, x in zip(labels, row_state, strict=True) if x == s)
            for s in (MARKED, UNSURE, RESIDUE, ODD)
        }
        marked, unsure, residue, odd = pick[MARKED], pick[UNSURE], pick[RESIDUE], pick[ODD]
        reason = f"residue:{residue}" if residue else ""
        doubtful = (row_state == ODD) | (row_state == UNSURE)
        if not marked and doubtful.sum() == 1 and row_readable[doubtful].all():
            meant = odd + unsure
            out.append(ItemRead(meant, ItemState.one, 0.5, "", f"odd:{meant}"))
            continue
        if unsure or odd:
            state, reason = ItemState.unsure, _unsure_reason(marked, unsure, odd)
            unsure += odd
        elif not marked:
            state = ItemState.blank
        elif len(marked) == 1:
            state = ItemState.one
        else:
            state = ItemState.multiple
        out.append(ItemRead(marked, state, lowest[r], unsure, reason))
    return tuple(out)


def _robust(values: np.ndarray) -> tuple[float, float]:
    """Median and robust spread (1.4826 × MAD) of ``values``."""
    if values.size == 0:
        return 0.0, 0.0
    centre = median(values)
    return centre, float(1.4826 * median(np.abs(values - centre)))


def column_lift(
    darkness: np.ndarray, quiet: np.ndarray, layout: BubbleLayout, blank: float
) -> np.ndarray:
    """Per bubble: how far the unmarked bubbles of its field's option column sit from blank.

    A crease or a lid shadow running down one column of a field darkens the
    paper and every bubble in it alike; taken off, a blank bubble there reads
    blank again. So does the letter printed inside a bubble: a heavy ``B``
    reads darker than a light ``C`` (by 0.1 of the way to black on real
    sheets), and a light pencil shading was lost in that spread. Taken off both
    ways, every bubble is measured against what a blank of its own option
    reads on this sheet, and the sheet's noise is what is left. Zero where the
    column's median unmarked bubble is at blank, or the column is too short.
    """
    lift = np.zeros(darkness.shape)
    grid = field_grid(layout)
    if not grid.cells.size:
        return lift
    (column,), n = group_medians(darkness[None], quiet, grid.options)
    full = n[grid.options.of] >= 3  # (V,): in a column of 3 or more unmarked
    lift[grid.cells[full]] = (column - blank)[grid.options.of[full]]
    # A field of one row (the booklet group) has no column of its own: its
    # bubbles are measured against the sheet's blanks printed with the same
    # letter elsewhere (the answer grid's B for the group's B), where there are.
    for g in np.flatnonzero(n < 3):
        idx, same = grid.same_option(*grid.option_at[g])
        same = same[quiet[same]]
        if same.size >= 3:
            lift[idx] = median(darkness[same]) - blank
    return lift


def _in_open_question(marked: np.ndarray, layout: BubbleLayout) -> np.ndarray:
    """Per bubble: whether it is in a question (of an answer block) with nothing marked.

    The booklet group and identity grids are left out: their printed letters
    and digits differ from bubble to bubble, and a void sheet's empty group
    must stay void.
    """
    out = np.zeros(marked.shape, dtype=bool)
    grid = field_grid(layout)
    items = grid.items
    open_ = ~(marked[items.index] & items.valid).any(axis=1)  # (G,)
    sel = items.valid & grid.answers[:, None]
    out[items.index[sel]] = np.broadcast_to(open_[:, None], sel.shape)[sel]
    return out


def _field_baseline(values: np.ndarray, empty: np.ndarray, layout: BubbleLayout) -> np.ndarray:
    """Per bubble: the median of ``values`` over the empty bubbles of its field and option,
    or of its own item when that is higher.

    What surrounds a blank bubble depends on where it sits: fields differ in
    spacing, and within a field each option has its own neighbours (the top
    digit of a grid sits under the write-in boxes, option A beside the
    question numbers).
    """
    return field_baselines([values], empty, layout)[0]


def field_baselines(
    arrays: list[np.ndarray], empty: np.ndarray, layout: BubbleLayout
) -> list[np.ndarray]:
    """:func:`_field_baseline` of each of ``arrays`` (N,) or (N, C), over one ``empty`` mask.

    The arrays are stacked side by side and their medians taken in one sort
    for all fields (:mod:`omr.detect.fieldgrid`): each column's median is its
    own, so every baseline is the one a call per array and field gives.
    """
    rows = [a.reshape(len(a), -1).T for a in arrays]
    values = np.concatenate(rows)  # (C, N) in all, a row per column
    fallback = np.concatenate(
        [np.full(len(r), median(r[:, empty]) if empty.any() else 0.0) for r in rows]
    )[:, None]
    base = np.broadcast_to(fallback, values.shape).copy()
    grid = field_grid(layout)
    if grid.cells.size:
        whole, n_whole = group_medians(values, empty, grid.wholes)  # (C, G), (G,) each
        by_option, n_option = group_medians(values, empty, grid.options)
        by_item, n_item = group_medians(values, empty, grid.items)
        w, o, i = grid.wholes.of, grid.options.of, grid.items.of  # each bubble's groups
        cell = np.where(n_whole[w] >= 3, whole[:, w], fallback)  # (C, V)
        cell = np.where(n_option[o] >= 3, by_option[:, o], cell)
        # A fold or a shadow along one question (or one digit position) lifts
        # every ring of it alike: never less than its own blank bubbles show.
        lifted = np.maximum(cell, by_item[:, i])
        base[:, grid.cells] = np.where(n_item[i] >= 3, lifted, cell)
    ends = np.cumsum([len(r) for r in rows])[:-1]
    return [part.T.reshape(a.shape) for part, a in zip(np.split(base, ends), arrays, strict=True)]


_BASELINED = ("ring", "ring_by_sector", "peak", "edge_by_sector", "centre")


def measure_baselines(
    measures: BubbleMeasures, empty: np.ndarray, layout: BubbleLayout
) -> dict[str, np.ndarray]:
    """:func:`field_baselines` of the measures :func:`classify_marks` and
    :func:`drawn_strokes` take against blank bubbles (the ring's, its sectors', the
    darkest samples', the inside's middle and edge, the dark share), in one pass."""
    names = [n for n in (*_BASELINED, "coverage") if getattr(measures, n) is not None]
    arrays = [getattr(measures, n) for n in names]
    return dict(zip(names, field_baselines(arrays, empty, layout), strict=True))


def classify_marks(
    measures: BubbleMeasures,
    states: np.ndarray,
    confidence: np.ndarray,
    levels: SheetLevels,
    model: MarkModel,
    layout: BubbleLayout,
    bases: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Refine darkness-only states with the shape of what is in and around each bubble.

    Unsure bubbles (between the sheet's empty and marked levels):

    - pencil strokes inside (a tick, a cross, a half fill: a large share of
      the inside is dark) → MARKED;
    - a smudge that spills outside the bubble (a halo of at least
      ``spill_share`` of its darkness inside: what an eraser leaves; no
      pencil fill reaches that far out) → RESIDUE, never an answer;
    - an even, light fill that stays inside the bubble (a faint pencil) and
      reaches ``faint_accept`` → MARKED;
    - anything else stays UNSURE: a person decides.

    A weakly marked bubble (below ``mark_cap``, no strokes) with a halo of at
    least ``doubt_share`` of its darkness becomes UNSURE, and RESIDUE when its ring is at least
    ``smear_share`` of its inside darkness (a smear no fill makes). A clean
    faint fill needs ``faint_cover`` of its inside dark as well (on 1-bit
    scans: black clustered into strokes, not an even scatter of dots). Empty
    bubbles with a ring drawn around them, or a small dark patch inside
    (standing out from the specks of the sheet's own blanks), become ODD: not
    a valid answer, not surely nothing. An empty bubble at least
    ``trace_floor`` and ``trace_noise_k`` noise deviations above blank, and
    twice the 99th percentile of the sheet's blanks, with no halo, becomes
    UNSURE (a light tick reads that low). A ring drawn inside the outline (the
    edge of the inside dark all round, its middle clean: no fill, tick or
    cross leaves that) becomes ODD, read when alone in its question. A bubble
    whose ring a pencil line crosses in ``line_sectors`` sectors (a loose
    circle, however far off-centre) becomes ODD unless it holds strokes or a
    fill: never residue, never surely blank. Every level is measured against the
    empty bubbles of the same sheet (and field, option and item, for the ring).

    Returns the new states (N,), confidences (N,), the ``patch`` (a dark
    patch inside) and ``spill`` (smudged outside) masks (N,), the ring
    and dark-share excesses over blank (N,), and ``readable`` (N,): the ODD
    or UNSURE bubbles plainly meant (a ring round them; or a dot or a light
    tick: a patch of dark samples, the inside otherwise clean, its median
    sample at most ``lone_median`` above blank, no smudge around it), which
    :func:`decide_items` reads as the answer when alone in their question.
    """
    if measures.ring is None:
        none = np.zeros(states.shape, dtype=bool)
        zero = np.zeros(states.shape)
        return states, confidence, none, none, zero, zero, none
    empty = states == EMPTY
    if bases is None:
        bases = measure_baselines(measures, empty, layout)
    ring_base, sector_base = bases["ring"], bases["ring_by_sector"]
    ring = measures.ring - ring_base
    _, ring_noise = _robust(ring[empty])
    cover_blank, cover_noise = _robust(measures.coverage[empty])
    dark = measures.darkness - levels.blank
    cover = measures.coverage - cover_blank
    stroke = cover >= max(model.stroke_cover, 6 * cover_noise)
    # Most blank bubbles have no dark sample at all, so the spread above says
    # nothing of a grainy sheet (a dithered 1-bit scan) where a few blanks in a
    # hundred catch a speck: a dot must stand out from the tail of the blanks.
    tail = quantile(cover[empty], 0.99) if empty.sum() >= 100 else 0.0
    patch = cover >= max(model.dot_cover, 6 * cover_noise, model.dot_tail_k * tail)
    ringed = ring >= max(model.spill_floor, 4 * ring_noise)
    spill = ringed & (ring >= model.spill_share * dark)
    smear = ringed & (ring >= model.smear_share * dark)
    haloed = ringed & (ring >= model.doubt_share * dark)
    clean = (
        (ring <= model.faint_clean_share * dark)
        & (dark >= model.faint_accept)
        & (cover >= model.faint_cover)
    )
    unsure = states == UNSURE
    weak = (states == MARKED) & (dark < model.mark_cap) & ~stroke
    out = states.copy()
    out[unsure & stroke] = MARKED
    # An eraser smears all round; a fill that overshoots its outline on one
    # side (real students do) is pencil: a lone smudge as dark as a faint fill
    # is residue only with a halo most of the way round, else a person looks.
    halo_sectors = measures.ring_by_sector - sector_base
    around = (halo_sectors >= 0.5 * np.maximum(ring, 1e-6)[:, None]).sum(axis=1)
    smudge = (around >= model.smear_sectors) | (dark < model.residue_light)
    out[unsure & ~stroke & ~patch & spill & smudge] = RESIDUE
    out[unsure & ~stroke & ~spill & clean] = MARKED
    # A weak "mark" whose halo outside the bubble is a large share of its
    # darkness inside is a smear (no pencil fill reaches that far out): an
    # eraser's residue. With a smaller halo, but more than a pencil mark
    # shows, it may be either: a person decides.
    out[weak & haloed] = UNSURE
    out[weak & smear & ~patch] = RESIDUE
    # Below the empty level but far above the sheet's blank noise, drawn
    # inside the bubble with no halo: a light tick or a faint stroke, not
    # surely nothing (an eraser's trace has a halo; beside a clear answer it
    # is set aside as residue below).
    # It must also stand out from the sheet's own blanks: on a 1-bit page they
    # are pure white, save the specks a dither leaves in a few of them.
    speck = 2.0 * quantile(dark[empty], 0.99) if empty.sum() >= 100 else 0.0
    trace_floor = max(model.trace_floor, model.trace_noise_k * levels.noise, speck)
    trace = (dark >= trace_floor) & (ring <= model.clean_share * dark)
    if measures.peak is not None and model.trace_peak_k > 0 and empty.sum() >= 100:
        # A thin tick covers too little of the inside to lift its mean, but its
        # darkest samples stand out from every blank bubble of the sheet. Only
        # in a question with no clear answer: beside a fill, its blur darkens
        # the near edge of the neighbours.
        # Measured against the same option's blanks: the printed letter inside
        # a bubble has darkest samples of its own.
        peak = measures.peak - bases["peak"]
        top = quantile(peak[empty], 0.99)
        thin = (peak >= model.trace_peak_k * max(top, 0.05)) & (ring <= model.clean_share * dark)
        trace |= thin & _in_open_question(states == MARKED, layout)
    out[empty & trace] = UNSURE
    dark_sectors = ((measures.ring_by_sector - sector_base) > model.sector_floor).sum(axis=1)
    circled = (
        (ring >= model.ring_floor)
        & (dark_sectors >= model.circle_sectors)
        & (dark < model.circle_inside)  # a ring drawn round it; an eraser would smear inside too
    )
    out[empty & ~trace & (circled | patch) & (dark < model.empty_floor)] = ODD
    hollow = _hollow(measures, bases, model)
    # Against every bubble of the same option and question with no clear mark:
    # what surrounds a bubble (a header printed over the first row) is the same
    # whether its inside is blank or doubtful.
    lined = _drawn_round(measures, states != MARKED, layout, model)
    # A line drawn round the bubble (a loose circle, crossing its outline or
    # not): an eraser leaves no such line, so it is never residue nor surely
    # blank. A fill or strokes inside stay what they are.
    out[lined & ~hollow & ((out == EMPTY) | (out == RESIDUE) | (out == UNSURE) & ~stroke)] = ODD
    # A ring drawn inside the outline, the middle clean: not a fill, not nothing.
    out[hollow] = ODD
    # A dot or a light tick: a patch of pencil-dark samples in an otherwise clean
    # inside (its median sample near blank), no smudge around it, lighter than a
    # fill. Not a valid mark, but plainly meant: read when alone in its question.
    small = patch & ~stroke & ~spill & (dark < model.mark_cap)
    if measures.median is not None and model.lone_median >= 0:
        small &= measures.median - levels.blank <= model.lone_median
    else:
        small[:] = False
    # Read only a plain ring: dark most of the way round and well above the
    # field's blank rings (a speck beside the outline tips a few sectors).
    ringed_round = (
        circled & (dark_sectors >= model.read_circle_sectors) & (ring >= model.read_circle_ring)
    )
    readable = ((out == ODD) & (ringed_round | small | hollow)) | ((out == UNSURE) & small)
    conf = np.where((out != states) & (out != ODD), 0.5, confidence)
    conf = np.where(out == ODD, 0.0, conf)
    return out.astype(np.int8), conf, patch, spill, ring, cover, readable


def _hollow(measures: BubbleMeasures, bases: dict[str, np.ndarray], model: MarkModel):
    """Per bubble: a ring drawn inside its outline (the edge of the inside dark all round,
    the middle clean), each part measured against the same option's blank bubbles
    (``bases``: :func:`field_baselines` over the empty bubbles)."""
    if measures.centre is None or measures.edge_by_sector is None or model.hollow_centre_share <= 0:
        return np.zeros(measures.darkness.shape, dtype=bool)
    edge = measures.edge_by_sector - bases["edge_by_sector"]
    middle = measures.centre - bases["centre"]
    mean = edge.mean(axis=1)
    round_inside = ((edge >= model.hollow_edge).sum(axis=1) >= model.hollow_sectors) & (
        mean >= model.hollow_mean
    )
    return round_inside & (middle <= model.hollow_centre_share * mean)


def _drawn_round(
    measures: BubbleMeasures, quiet: np.ndarray, layout: BubbleLayout, model: MarkModel
):
    """Per bubble: a pencil line crosses the ring round it in at least ``line_sectors``.

    A line is a ring sample as much darker than its sector's mean as a pencil
    stroke is (more than the same option's blank rings show), and far above what
    the sheet's blanks show there (a 1-bit page's specks, a printed rule beside
    the grid).
    """
    if measures.ring_peak_by_sector is None:
        return np.zeros(quiet.shape, dtype=bool)
    # A line is thin: its darkest sample stands far out of its sector's mean (an
    # eraser's smudge lifts the whole sector, its darkest sample with it).
    peak = measures.ring_peak_by_sector - measures.ring_by_sector
    peak = peak - _field_baseline(peak, quiet, layout)
    tail = quantile(peak[quiet].ravel(), 0.99) if quiet.sum() >= 100 else 0.0
    level = max(model.line_dark, model.line_tail_k * tail)
    return (peak >= level).sum(axis=1) >= model.line_sectors


def drawn_strokes(
    coverage: np.ndarray,
    empty: np.ndarray,
    layout: BubbleLayout,
    model: MarkModel,
    base: np.ndarray | None = None,
) -> np.ndarray:
    """Per bubble: pencil strokes inside that stand out from this sheet's own blank bubbles.

    The dark share inside is measured against the blank bubbles of the same
    field and option (a heavy printed ``B`` or ``D`` inside a bubble has a dark
    share of its own: 0.31–0.36 on open-mcr's grey scans, against 0.25 for
    ``A``), and it must reach ``double_stroke_cover`` and stand out from how
    those excesses scatter on this sheet: six robust spreads, and
    ``dot_tail_k`` times their 99th percentile (as a dot must). On a clean
    sheet both are 0 and the floor alone decides; a handwritten letter traced
    over a printed one stays a doubt for a person. ``base`` is the coverage's
    baseline when already worked out (:func:`measure_baselines`).
    """
    if base is None:
        base = _field_baseline(coverage, empty, layout)
    excess = coverage - base
    quiet = excess[empty]
    _, spread = _robust(quiet)
    tail = quantile(quiet, 0.99) if quiet.size >= 100 else 0.0
    return excess >= max(model.double_stroke_cover, 6 * spread, model.dot_tail_k * tail)


def decide_fields(
    measures: BubbleMeasures, layout: BubbleLayout, model: MarkModel
) -> tuple[dict[str, FieldRead], SheetLevels]:
    """Read every field of the form from the bubbles' measures.

    Levels come from the round bubbles (group, identity, answers); proctor
    boxes are judged against the same levels.
    """
    darkness = measures.darkness
    levels = sheet_levels(darkness[~layout.square], model)
    states, confidence = bubble_states(darkness, levels)
    lift = column_lift(darkness, states != MARKED, layout, levels.blank)
    if lift.any():
        darkness = darkness - lift
        measures = replace(measures, darkness=darkness)
        # The sheet's levels again, on what is left once each option's print
        # is taken off: its noise is then the scatter of blank bubbles about
        # their own blank level, not the spread of the printed letters.
        levels = sheet_levels(darkness[~layout.square], model)
        states, confidence = bubble_states(darkness, levels)
    round_ = ~layout.square
    empty = states == EMPTY
    bases = measure_baselines(measures, empty, layout) if measures.ring is not None else {}
    refined, refined_conf, patch, spill, ring_ex, cover_ex, readable = classify_marks(
        measures, states, confidence, levels, model, layout, bases or None
    )
    dark_ex = darkness - levels.blank
    smear = (
        (ring_ex >= model.double_smear_ring)
        & (ring_ex >= model.double_smear_share * dark_ex)
        & (cover_ex < model.double_stroke_cover)
    )
    drawn = drawn_strokes(measures.coverage, empty, layout, model, bases.get("coverage"))
    deliberate = (ring_ex <= model.double_clean_ring) & (drawn | (dark_ex >= model.double_dark))
    if model.double_fill_share > 0:
        # A fill as dark as a faint answer whose halo is a small share of it:
        # pencil kept inside the bubble. An eraser's smudge spreads out.
        deliberate |= (dark_ex >= model.double_dark) & (
            ring_ex <= model.double_fill_share * dark_ex
        )
    if model.double_clean_share > 0:
        # Strokes (a half fill, a cross) whose halo is no more than a clean
        # fill's, relative to their own darkness: a neighbouring answer's blur
        # may lift the ring a little, an eraser leaves no strokes.
        deliberate |= drawn & (ring_ex <= model.double_clean_share * dark_ex)
    states = np.where(round_, refined, states).astype(np.int8)
    confidence = np.where(round_, refined_conf, confidence)
    # Every field's items at once, a row each, padded with empty bubbles.
    items = field_grid(layout).items
    at, valid = items.index, items.valid
    padded = np.where(valid, states[at], EMPTY).astype(np.int8)
    rows, residue_conf = mark_residue(
        padded, darkness[at], levels, model, patch[at], spill[at], ring_ex[at]
    )
    rows = judge_seconds(rows, smear[at], deliberate[at])
    states = states.copy()
    states[at[valid]] = rows[valid]
    residue = np.ones(states.shape)
    residue[at[valid]] = residue_conf[valid]
    confidence = np.where(states == RESIDUE, residue, confidence)
    readable = readable & round_
    # What decide_items works out per row, for every row at once (padding: no lower).
    plain = ((rows == EMPTY) | (rows == MARKED)).all(axis=1).tolist()
    lowest = rounded(np.where(valid, confidence[at], np.inf).min(axis=1), 3).tolist()
    dark3, cover3 = rounded(darkness, 3), rounded(measures.coverage, 3)
    ring3 = rounded(measures.ring, 3) if measures.ring is not None else None
    fields = {}
    start = 0  # the items grouping holds each field's rows in turn
    for name, f in layout.fields.items():
        at, end = f.index, start + len(f.index)
        fields[name] = FieldRead(
            kind=f.kind,
            items=_decide_rows(
                states[at], f.option_labels, readable[at], plain[start:end], lowest[start:end]
            ),
            darkness=_rows(dark3[at]),
            ring=_rows(ring3[at]) if ring3 is not None else (),
            cover=_rows(cover3[at]),
        )
        start = end
    return fields, levels
