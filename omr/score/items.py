"""Classical test theory statistics of the items and of the whole test, for one course.

The input is the response matrix of the scored candidates on *master* item numbers
(each booklet group's printed order already mapped back): one row per student, one
column per item, holding the option read (``"A"``, ``"B"``...), ``""`` for a blank
and ``"*"`` for multiple marks. ``keys[j]`` is the frozenset of accepted options of
item ``j + 1``; an empty frozenset marks a cancelled item, which is left out of the
total scores and of every statistic (its option counts are still reported).

Definitions used throughout (n students, k counted items, x the 0/1 item score,
T the total score over the counted items):

- difficulty ``p = mean(x)``, the proportion correct; blanks and multiple marks are
  wrong;
- upper and lower groups: students are ranked by T, highest first, with a *stable*
  sort, so students with equal totals keep their row order. The upper group is the
  first ``round(tail * n)`` students of that ranking and the lower group the last
  ``round(tail * n)``, rounding half up (``floor(tail * n + 0.5)``) and capped at
  ``n // 2`` so the groups never overlap. Both groups always have exactly that size;
  ties at a cut are broken by row order (earlier rows rank higher), so give the rows
  in a deterministic order such as sheet id;
- discrimination ``D = p_upper - p_lower``; nan when the groups are empty (n = 1 at
  the default tail);
- point-biserial item-rest correlation: Pearson's r between x and ``T - x``, nan
  when either has zero variance;
- variances are population variances (``ddof=0``), and KR-20 uses the same variance:
  ``KR20 = k / (k - 1) * (1 - sum(p * q) / var(T))``, ``SEM = sd * sqrt(1 - KR20)``.

Sums are done in exact integer arithmetic before the single final division, so a
zero variance is detected exactly and nothing depends on summation order.

Everything is vectorised: 100,000 students x 20 items take about 0.2 s, most of it
converting an object array to fixed-width strings; a ``<U1`` array skips that step.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np
import pandas as pd

#: Key of the blank count in the option-count mappings.
BLANK = "blank"
#: Key of the multiple-marks count in the option-count mappings.
MULTIPLE = "multiple"
#: Cell values of the response matrix for a blank and for multiple marks.
BLANK_MARK = ""
MULTIPLE_MARK = "*"

FLAG_KEY_SUSPECT = "key-suspect"
FLAG_TOO_EASY = "too-easy"
FLAG_TOO_HARD = "too-hard"
FLAG_LOW_DISCRIMINATION = "low-discrimination"


@dataclass(frozen=True)
class ItemStats:
    """Classical statistics of one master item.

    Attributes
    ----------
    item : int
        Master item number, 1-based.
    n : int
        Number of students the statistics are computed over.
    key : frozenset of str
        Accepted options; empty for a cancelled item.
    cancelled : bool
        True when the item is cancelled: ``p``, ``p_upper``, ``p_lower``,
        ``discrimination`` and ``point_biserial`` are nan, ``nonfunctional`` and
        ``flags`` are empty, the option counts are still filled.
    p : float
        Difficulty, the proportion of students answering correctly; nan if n = 0.
    p_upper, p_lower : float
        Proportion correct in the upper and lower groups; nan if they are empty.
    discrimination : float
        ``D = p_upper - p_lower``; nan if the groups are empty.
    point_biserial : float
        Item-rest correlation; nan when the item or the rest score is constant.
    tail_size : int
        Number of students in each of the upper and lower groups.
    option_counts : Mapping[str, int]
        Students choosing each option, in option order, then ``"blank"`` and
        ``"multiple"``; the values sum to ``n``.
    upper_counts, lower_counts : Mapping[str, int]
        The same counts within the upper and the lower group (sum ``tail_size``).
    nonfunctional : tuple of str
        Distractors (options not in the key) chosen by a share of the students
        below ``nonfunctional_below``; empty if n = 0.
    flags : tuple of str
        Among ``"key-suspect"``, ``"too-easy"``, ``"too-hard"``,
        ``"low-discrimination"``, in that order. A nan statistic raises no flag.
    suspect_groups : tuple
        Booklet groups in which the item is ``key-suspect`` when analysed within the
        group alone; filled by :func:`item_statistics` when ``groups`` is given.
    """

    item: int
    n: int
    key: frozenset[str]
    cancelled: bool
    p: float
    p_upper: float
    p_lower: float
    discrimination: float
    point_biserial: float
    tail_size: int
    option_counts: Mapping[str, int]
    upper_counts: Mapping[str, int]
    lower_counts: Mapping[str, int]
    nonfunctional: tuple[str, ...]
    flags: tuple[str, ...]
    suspect_groups: tuple[Hashable, ...] = ()


@dataclass(frozen=True)
class TestStats:
    """Classical statistics of the total scores of one course.

    Attributes
    ----------
    n : int
        Number of students.
    k : int
        Number of items counted (cancelled items excluded).
    mean : float
        Mean total score; nan if n = 0.
    sd : float
        Population standard deviation (``ddof=0``) of the totals; nan if n = 0.
    variance : float
        ``sd ** 2``, the variance KR-20 divides by.
    sum_pq : float
        Sum over the counted items of ``p * (1 - p)``; nan if n = 0.
    kr20 : float
        Kuder-Richardson 20 reliability; nan when k < 2, n = 0 or the variance is
        zero (every student has the same total, which includes n = 1). Not clipped:
        it can be negative.
    sem : float
        Standard error of measurement ``sd * sqrt(1 - kr20)``; nan when kr20 is.
    distribution : tuple of int
        Number of students per total score ``0..k`` (length ``k + 1``).
    """

    __test__ = False  # not a pytest test class despite its name

    n: int
    k: int
    mean: float
    sd: float
    variance: float
    sum_pq: float
    kr20: float
    sem: float
    distribution: tuple[int, ...]


# --------------------------------------------------------------------------- checks


def _check_keys(keys: Sequence[frozenset[str]]) -> tuple[frozenset[str], ...]:
    keys = tuple(frozenset(key) for key in keys)
    for j, key in enumerate(keys, start=1):
        if BLANK_MARK in key or MULTIPLE_MARK in key:
            raise ValueError(f"item {j}: a key cannot accept a blank or multiple marks")
    return keys


def _check_options(options: Sequence[str], keys: tuple[frozenset[str], ...]) -> tuple[str, ...]:
    options = tuple(options)
    if not options or not all(isinstance(opt, str) for opt in options):
        raise ValueError("options must be a non-empty sequence of labels such as 'A'")
    if len(set(options)) != len(options):
        raise ValueError(f"options must be distinct, got {options}")
    reserved = {BLANK_MARK, MULTIPLE_MARK, BLANK, MULTIPLE} & set(options)
    if reserved:
        raise ValueError(f"options cannot be named {sorted(reserved)}")
    for j, key in enumerate(keys, start=1):
        if not key <= set(options):
            raise ValueError(f"item {j}: key options {sorted(key - set(options))} not in options")
    return options


def _check_responses(responses: np.ndarray, n_items: int) -> np.ndarray:
    arr = np.asarray(responses)
    if arr.ndim != 2 or arr.shape[1] != n_items:
        raise ValueError(
            f"responses must be (n_students, {n_items}) to match the keys, got shape {arr.shape}"
        )
    if arr.dtype.kind == "O":
        arr = arr.astype(str)
    elif arr.dtype.kind != "U":
        raise ValueError(f"responses must hold strings, got dtype {arr.dtype}")
    return arr


def _check_groups(groups: np.ndarray, n: int) -> np.ndarray:
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise ValueError(f"groups must have shape ({n},), got {groups.shape}")
    return groups


# ------------------------------------------------------------------------ encoding


def _encode(arr: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Index of each cell in ``labels``, -1 for a value that is not a label.

    Parameters
    ----------
    arr : (N, K) ndarray of str
    labels : sequence of str, at most 32767 distinct

    Returns
    -------
    codes : (N, K) ndarray of int16
    """
    if arr.dtype.itemsize == 4:
        # One character per cell ("" is code point 0): a lookup table over code points,
        # whose last entry (-1) catches every code point above the labels'.
        singles = {(ord(lab) if lab else 0): i for i, lab in enumerate(labels) if len(lab) <= 1}
        top = max(singles, default=0) + 1
        lut = np.full(top + 1, -1, dtype=np.int16)
        lut[list(singles)] = list(singles.values())
        return lut[np.minimum(arr.view(np.uint32), top)]
    codes = np.full(arr.shape, -1, dtype=np.int16)
    for i, lab in enumerate(labels):
        codes[arr == lab] = i
    return codes


def _correct_table(keys: tuple[frozenset[str], ...], labels: Sequence[str]) -> np.ndarray:
    """``table[j, c]``: label ``c`` is accepted for item ``j``; column -1 is never."""
    table = np.zeros((len(keys), len(labels) + 1), dtype=bool)
    for j, key in enumerate(keys):
        for c, lab in enumerate(labels):
            table[j, c] = lab in key
    return table


def _scores(codes: np.ndarray, table: np.ndarray) -> np.ndarray:
    """(N, K) bool item scores; code -1 picks the last, all-False, column of ``table``."""
    return table[np.arange(codes.shape[1]), codes]


def _count_codes(codes: np.ndarray, n_codes: int) -> np.ndarray:
    """(K, n_codes) int64 counts of each code per column of ``codes`` (N, K)."""
    k = codes.shape[1]
    flat = (codes.astype(np.intp) + np.arange(k) * n_codes).ravel()
    return np.bincount(flat, minlength=k * n_codes).reshape(k, n_codes)


def _ratio(num: np.ndarray, den: np.ndarray | int) -> np.ndarray:
    """``num / den`` as float, nan where ``den`` is 0."""
    num = np.asarray(num, dtype=np.float64)
    den = np.broadcast_to(np.asarray(den, dtype=np.float64), num.shape)
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den != 0)


def _tail_size(n: int, tail: float) -> int:
    """``tail * n`` rounded half up, at most ``n // 2`` so the groups never overlap."""
    return min(int(math.floor(tail * n + 0.5)), n // 2)


# ------------------------------------------------------------------------- public


def score_matrix(responses: np.ndarray, keys: Sequence[frozenset[str]]) -> np.ndarray:
    """Score every answer 0 or 1 against the key of its master item.

    Parameters
    ----------
    responses : (n_students, n_items) ndarray of str or object
        Option read per student and master item; ``""`` blank, ``"*"`` multiple
        marks. Any value not in the item's key, these two included, scores 0.
    keys : sequence of frozenset of str, length n_items
        Accepted options per master item; an empty set cancels the item.

    Returns
    -------
    scores : (n_students, n_items) ndarray of float64
        1.0 for a correct answer, 0.0 otherwise, nan in the columns of cancelled
        items.

    Examples
    --------
    >>> responses = np.array([["A", "*", "C"], ["B", "B", ""]], dtype=object)
    >>> score_matrix(responses, [frozenset("A"), frozenset("BC"), frozenset()])
    array([[ 1.,  0., nan],
           [ 0.,  1., nan]])
    """
    keys = _check_keys(keys)
    arr = _check_responses(responses, len(keys))
    labels = sorted(set().union(*keys))
    scores = _scores(_encode(arr, labels), _correct_table(keys, labels)).astype(np.float64)
    scores[:, [not key for key in keys]] = np.nan
    return scores


def item_statistics(
    responses: np.ndarray,
    keys: Sequence[frozenset[str]],
    options: Sequence[str],
    *,
    groups: np.ndarray | None = None,
    tail: float = 0.27,
    nonfunctional_below: float = 0.05,
    easy_above: float = 0.90,
    hard_below: float = 0.20,
    low_discrimination_below: float = 0.20,
) -> list[ItemStats]:
    """Difficulty, discrimination, item-rest correlation and distractors of each item.

    Parameters
    ----------
    responses : (n_students, n_items) ndarray of str or object
        Option read per student and master item: a label of ``options``, ``""``
        for a blank or ``"*"`` for multiple marks (both count as wrong).
    keys : sequence of frozenset of str, length n_items
        Accepted options per master item; an empty set cancels the item.
    options : sequence of str
        Option labels of the answer block, e.g. ``("A", "B", "C", "D", "E")``.
    groups : (n_students,) ndarray, optional
        Booklet group of each student. When given, each item's ``suspect_groups``
        lists the groups in which it is key-suspect when analysed within the group
        alone (see :func:`item_statistics_by_group`); the statistics themselves are
        still computed over all students.
    tail : float, optional
        Share of students in each of the upper and lower groups, in (0, 0.5].
        Each group holds ``min(floor(tail * n + 0.5), n // 2)`` students, ties
        broken by row order (see the module docstring).
    nonfunctional_below : float, optional
        A distractor chosen by a share of all students strictly below this is
        non-functional.
    easy_above, hard_below : float, optional
        Flag ``too-easy`` when ``p > easy_above``, ``too-hard`` when
        ``p < hard_below``.
    low_discrimination_below : float, optional
        Flag ``low-discrimination`` when ``D < low_discrimination_below``.

    Returns
    -------
    stats : list of ItemStats, length n_items
        In master item order. ``key-suspect`` is raised when some distractor is
        chosen by more upper-group students than answer correctly (choose any
        accepted option), or when the point-biserial is negative.

    Raises
    ------
    ValueError
        If the shapes disagree, a response is none of ``options``, ``""`` and
        ``"*"``, a key accepts an option not in ``options`` or ``tail`` is out of
        range.
    """
    keys = _check_keys(keys)
    options = _check_options(options, keys)
    if not 0 < tail <= 0.5:
        raise ValueError(f"tail must be in (0, 0.5], got {tail}")
    codes = _encode_strict(_check_responses(responses, len(keys)), options)
    thresholds = {
        "tail": tail,
        "nonfunctional_below": nonfunctional_below,
        "easy_above": easy_above,
        "hard_below": hard_below,
        "low_discrimination_below": low_discrimination_below,
    }
    stats = _item_stats(codes, keys, options, **thresholds)
    if groups is None:
        return stats
    per_group = _item_stats_by_group(
        codes, keys, options, _check_groups(groups, len(codes)), **thresholds
    )
    return [
        replace(
            item,
            suspect_groups=tuple(
                g for g, items in per_group.items() if FLAG_KEY_SUSPECT in items[j].flags
            ),
        )
        for j, item in enumerate(stats)
    ]


def item_statistics_by_group(
    responses: np.ndarray,
    keys: Sequence[frozenset[str]],
    options: Sequence[str],
    groups: np.ndarray,
    *,
    tail: float = 0.27,
    nonfunctional_below: float = 0.05,
    easy_above: float = 0.90,
    hard_below: float = 0.20,
    low_discrimination_below: float = 0.20,
) -> dict[Hashable, list[ItemStats]]:
    """Item statistics computed within each booklet group separately.

    Totals, the upper and lower groups and every statistic use only the students
    of the group, so an item whose key is wrong in one booklet only shows up as
    ``key-suspect`` in that group.

    Parameters
    ----------
    responses, keys, options
        As in :func:`item_statistics` (master item numbers, one master key).
    groups : (n_students,) ndarray
        Booklet group of each student; values must be sortable.
    tail, nonfunctional_below, easy_above, hard_below, low_discrimination_below
        As in :func:`item_statistics`.

    Returns
    -------
    stats : dict
        Group value (sorted, as Python scalars) to a list of ItemStats of length
        n_items. Only groups that occur in ``groups`` appear.
    """
    keys = _check_keys(keys)
    options = _check_options(options, keys)
    if not 0 < tail <= 0.5:
        raise ValueError(f"tail must be in (0, 0.5], got {tail}")
    codes = _encode_strict(_check_responses(responses, len(keys)), options)
    return _item_stats_by_group(
        codes,
        keys,
        options,
        _check_groups(groups, len(codes)),
        tail=tail,
        nonfunctional_below=nonfunctional_below,
        easy_above=easy_above,
        hard_below=hard_below,
        low_discrimination_below=low_discrimination_below,
    )


def test_statistics(responses: np.ndarray, keys: Sequence[frozenset[str]]) -> TestStats:
    """Mean, population SD, KR-20 reliability, SEM and score distribution of the totals.

    Parameters
    ----------
    responses : (n_students, n_items) ndarray of str or object
        As in :func:`score_matrix`.
    keys : sequence of frozenset of str, length n_items
        Accepted options per master item; cancelled items (empty sets) are left
        out, so ``k`` counts only the other items.

    Returns
    -------
    stats : TestStats
        Degenerate cases: n = 0 gives nan for mean, sd, variance, sum_pq, kr20 and
        sem with an all-zero distribution; a zero variance (all totals equal,
        including n = 1) or k < 2 gives nan kr20 and sem.

    Examples
    --------
    >>> responses = np.array([["A", "B"], ["A", "C"], ["B", "C"]], dtype=object)
    >>> stats = test_statistics(responses, [frozenset("A"), frozenset("B")])
    >>> stats.k, stats.distribution, round(stats.mean, 4), round(stats.kr20, 4)
    (2, (1, 1, 1), 1.0, 0.6667)
    """
    keys = _check_keys(keys)
    arr = _check_responses(responses, len(keys))
    counted = [key for key in keys if key]
    labels = sorted(set().union(*counted))
    x = _scores(
        _encode(arr[:, [bool(key) for key in keys]], labels), _correct_table(tuple(counted), labels)
    )
    n, k = x.shape
    totals = x.sum(axis=1, dtype=np.int64)
    distribution = tuple(int(c) for c in np.bincount(totals, minlength=k + 1))
    if n == 0:
        nan = math.nan
        return TestStats(0, k, nan, nan, nan, nan, nan, nan, distribution)
    s_t, s_tt = int(totals.sum()), int(totals @ totals)
    s_x = x.sum(axis=0, dtype=np.int64)
    n2_var = n * s_tt - s_t * s_t  # n^2 * var(T), exact
    n2_sum_pq = int((s_x * (n - s_x)).sum())  # n^2 * sum(p q), exact
    variance = n2_var / n**2
    kr20 = sem = math.nan
    if k >= 2 and n2_var > 0:
        kr20 = k / (k - 1) * (1 - n2_sum_pq / n2_var)
        sem = math.sqrt(variance) * math.sqrt(max(0.0, 1 - kr20))
    return TestStats(
        n=n,
        k=k,
        mean=s_t / n,
        sd=math.sqrt(variance),
        variance=variance,
        sum_pq=n2_sum_pq / n**2,
        kr20=kr20,
        sem=sem,
        distribution=distribution,
    )


test_statistics.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def items_table(stats: Sequence[ItemStats], course: str, group: str | None) -> pd.DataFrame:
    """Flatten item statistics into one row per item, for ``items.csv``.

    Parameters
    ----------
    stats : sequence of ItemStats
        As returned by :func:`item_statistics` or one value of
        :func:`item_statistics_by_group`.
    course : str
        Course code written in every row.
    group : str or None
        Booklet group the statistics were computed within; None for all students.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``course, group, item, n, key, cancelled, p, p_upper, p_lower,
        discrimination, point_biserial, tail_size``, then ``n_<option>`` for each
        option, ``n_blank``, ``n_multiple``, the same with prefixes ``upper_`` and
        ``lower_``, then ``nonfunctional``, ``flags`` and ``suspect_groups`` joined
        with ``";"``. ``key`` is the accepted options joined with ``"|"`` (empty
        when cancelled). With no stats, the option columns are absent.
    """
    base = [
        "course",
        "group",
        "item",
        "n",
        "key",
        "cancelled",
        "p",
        "p_upper",
        "p_lower",
        "discrimination",
        "point_biserial",
        "tail_size",
    ]
    labels = list(stats[0].option_counts) if stats else []
    counts = [f"{prefix}_{lab}" for prefix in ("n", "upper", "lower") for lab in labels]
    columns = [*base, *counts, "nonfunctional", "flags", "suspect_groups"]
    rows = []
    for s in stats:
        row = {
            "course": course,
            "group": group,
            "item": s.item,
            "n": s.n,
            "key": "|".join(sorted(s.key)),
            "cancelled": s.cancelled,
            "p": s.p,
            "p_upper": s.p_upper,
            "p_lower": s.p_lower,
            "discrimination": s.discrimination,
            "point_biserial": s.point_biserial,
            "tail_size": s.tail_size,
            "nonfunctional": ";".join(s.nonfunctional),
            "flags": ";".join(s.flags),
            "suspect_groups": ";".join(str(g) for g in s.suspect_groups),
        }
        for prefix, mapping in (("n", s.option_counts), ("upper", s.upper_counts)):
            row.update({f"{prefix}_{lab}": mapping[lab] for lab in labels})
        row.update({f"lower_{lab}": s.lower_counts[lab] for lab in labels})
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


# ------------------------------------------------------------------------- engine


def _encode_strict(arr: np.ndarray, options: tuple[str, ...]) -> np.ndarray:
    """Codes 0..m-1 for the options, m for a blank, m+1 for multiple marks."""
    codes = _encode(arr, (*options, BLANK_MARK, MULTIPLE_MARK))
    bad = codes < 0
    if bad.any():
        found = sorted(set(arr[bad].tolist()))
        raise ValueError(
            f"responses hold values that are not options, '' or '*': {found[:10]}"
            f"{' ...' if len(found) > 10 else ''}"
        )
    return codes


def _item_stats_by_group(
    codes: np.ndarray,
    keys: tuple[frozenset[str], ...],
    options: tuple[str, ...],
    groups: np.ndarray,
    **thresholds: float,
) -> dict[Hashable, list[ItemStats]]:
    values, inverse = np.unique(groups, return_inverse=True)
    return {
        value: _item_stats(codes[inverse == i], keys, options, **thresholds)
        for i, value in enumerate(values.tolist())
    }


def _item_stats(
    codes: np.ndarray,
    keys: tuple[frozenset[str], ...],
    options: tuple[str, ...],
    *,
    tail: float,
    nonfunctional_below: float,
    easy_above: float,
    hard_below: float,
    low_discrimination_below: float,
) -> list[ItemStats]:
    """Item statistics from strict codes (N, K): 0..m-1 options, m blank, m+1 multiple."""
    n, k = codes.shape
    m = len(options)
    labels = (*options, BLANK, MULTIPLE)
    table = _correct_table(keys, (*options, BLANK_MARK, MULTIPLE_MARK))
    x = _scores(codes, table)  # (n, k) bool
    counted = np.array([bool(key) for key in keys], dtype=bool)
    totals = x[:, counted].sum(axis=1, dtype=np.int64)

    # Upper and lower groups: stable ranking by total, highest first.
    size = _tail_size(n, tail)
    order = np.argsort(-totals, kind="stable")
    upper, lower = order[:size], order[n - size :]
    counts = _count_codes(codes, m + 2)
    upper_counts = _count_codes(codes[upper], m + 2)
    lower_counts = _count_codes(codes[lower], m + 2)

    s_x = x.sum(axis=0, dtype=np.int64)
    p = _ratio(s_x, n)
    upper_right = x[upper].sum(axis=0, dtype=np.int64)
    p_upper = _ratio(upper_right, size)
    p_lower = _ratio(x[lower].sum(axis=0, dtype=np.int64), size)
    discrimination = p_upper - p_lower

    # Item-rest correlation from exact integer sums: r = n*Sxr - Sx*Sr over
    # sqrt((n*Sx - Sx^2) * (n*Srr - Sr^2)) with the rest score r = T - x.
    s_t, s_tt = int(totals.sum()), int(totals @ totals)
    s_xt = totals @ x.astype(np.int64)
    s_r = s_t - s_x
    s_rr = s_tt - 2 * s_xt + s_x
    num = n * (s_xt - s_x) - s_x * s_r
    var_x = n * s_x - s_x * s_x
    var_r = n * s_rr - s_r * s_r
    den = np.sqrt(var_x.astype(np.float64)) * np.sqrt(var_r.astype(np.float64))
    point_biserial = _ratio(num, np.where((var_x > 0) & (var_r > 0), den, 0.0))

    out = []
    for j, key in enumerate(keys):
        option_counts = MappingProxyType(dict(zip(labels, counts[j].tolist(), strict=True)))
        up = MappingProxyType(dict(zip(labels, upper_counts[j].tolist(), strict=True)))
        low = MappingProxyType(dict(zip(labels, lower_counts[j].tolist(), strict=True)))
        distractors = [opt for opt in options if opt not in key]
        nonfunctional: tuple[str, ...] = ()
        flags: list[str] = []
        cancelled = not key
        if cancelled:
            nan = math.nan
            p_j = p_up = p_low = d_j = r_j = nan
        else:
            p_j, p_up, p_low = float(p[j]), float(p_upper[j]), float(p_lower[j])
            d_j, r_j = float(discrimination[j]), float(point_biserial[j])
            if n:
                nonfunctional = tuple(
                    opt for opt in distractors if option_counts[opt] / n < nonfunctional_below
                )
            if any(up[opt] > upper_right[j] for opt in distractors) or r_j < 0:
                flags.append(FLAG_KEY_SUSPECT)
            if p_j > easy_above:
                flags.append(FLAG_TOO_EASY)
            if p_j < hard_below:
                flags.append(FLAG_TOO_HARD)
            if d_j < low_discrimination_below:
                flags.append(FLAG_LOW_DISCRIMINATION)
        out.append(
            ItemStats(
                item=j + 1,
                n=n,
                key=key,
                cancelled=cancelled,
                p=p_j,
                p_upper=p_up,
                p_lower=p_low,
                discrimination=d_j,
                point_biserial=r_j,
                tail_size=size,
                option_counts=option_counts,
                upper_counts=up,
                lower_counts=low,
                nonfunctional=nonfunctional,
                flags=tuple(flags),
            )
        )
    return out
