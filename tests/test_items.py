"""Classical test theory statistics: a worked example computed by hand, then edge cases.

Worked example (10 students x 5 items, keys A B C D E; "." is a blank, "*" multiple marks)::

    student  answers  item scores  total T   rest T-x for items 1..5
    S1       ABCDE    1 1 1 1 1    5         4 4 4 4 4
    S2       ABCDA    1 1 1 1 0    4         3 3 3 3 4
    S3       ABCAE    1 1 1 0 1    4         3 3 3 4 3
    S4       ABBD.    1 1 0 1 0    3         2 2 3 2 3
    S5       A*CBE    1 0 1 0 1    3         2 3 2 3 2
    S6       ABDCA    1 1 0 0 0    2         1 1 2 2 2
    S7       BBC.B    0 1 1 0 0    2         2 1 1 2 2
    S8       ACAAA    1 0 0 0 0    1         0 1 1 1 1
    S9       CAADB    0 0 0 1 0    1         1 1 1 0 1
    S10      .AB*C    0 0 0 0 0    0         0 0 0 0 0

Test statistics:
    sum T = 25, mean = 2.5, sum T^2 = 85, var = 85/10 - 2.5^2 = 2.25 (ddof=0), sd = 1.5
    p = .7 .6 .5 .4 .3, p q = .21 .24 .25 .24 .21, sum p q = 1.15
    KR-20 = 5/4 * (1 - 1.15 / 2.25) = 1.25 * 0.488889 = 0.611111 (= 11/18)
    SEM = 1.5 * sqrt(1 - 0.611111) = 1.5 * sqrt(7/18) = 1.5 * 0.623610 = 0.935414
    distribution over 0..5: 1 2 2 2 2 1

Upper/lower groups: round(0.27 * 10) = round(2.7) = 3 students each. Ranking by T (stable,
highest first): S1 S2 S3 | S4 S5 S6 S7 | S8 S9 S10, no tie at either cut.
    upper S1-S3 right on items: 3 3 3 2 2 -> p_upper = 1 1 1 .667 .667
    lower S8-S10 right on items: 1 0 0 1 0 -> p_lower = .333 0 0 .333 0
    D = .667 1 1 .333 .667

Point-biserial item-rest r = (n Sxr - Sx Sr) / sqrt((n Sx - Sx^2)(n Srr - Sr^2)):
    item  Sx  Sr  Srr  Sxr   numerator      n Sx - Sx^2  n Srr - Sr^2   r
    1     7   18  48   15    150-126 = 24   70-49 = 21   480-324 = 156  24/sqrt(3276) = 0.419314
    2     6   19  51   14    140-114 = 26   60-36 = 24   510-361 = 149  26/sqrt(3576) = 0.434785
    3     5   20  54   13    130-100 = 30   50-25 = 25   540-400 = 140  30/sqrt(3500) = 0.507093
    4     4   21  63   9     90-84 = 6      40-16 = 24   630-441 = 189   6/sqrt(4536) = 0.089087
    5     3   22  64   9     90-66 = 24     30-9 = 21    640-484 = 156  24/sqrt(3276) = 0.419314
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omr.score import items
from omr.score.items import (
    ItemStats,
    item_statistics,
    item_statistics_by_group,
    items_table,
    score_matrix,
)

OPTIONS = ("A", "B", "C", "D", "E")
WORKED = ["ABCDE", "ABCDA", "ABCAE", "ABBD.", "A*CBE", "ABDCA", "BBC.B", "ACAAA", "CAADB", ".AB*C"]
WORKED_KEYS = [frozenset(c) for c in "ABCDE"]
WORKED_SCORES = [
    [1, 1, 1, 1, 1],
    [1, 1, 1, 1, 0],
    [1, 1, 1, 0, 1],
    [1, 1, 0, 1, 0],
    [1, 0, 1, 0, 1],
    [1, 1, 0, 0, 0],
    [0, 1, 1, 0, 0],
    [1, 0, 0, 0, 0],
    [0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0],
]

# Item 4 is keyed B, but the able students (S1-S3) all choose C: a wrong key.
WRONG_KEY = ["AAAC", "AAAC", "AAAC", "AABC", "ABBB", "BABB", "BBAB", "BBBB", "CBBB", "CCBB"]
# The same four items answered by students for whom the key B of item 4 is right.
RIGHT_KEY = ["AAAB", "AAAB", "AAAB", "AABB", "ABBB", "BABC", "BBAC", "BBBD", "CBBC", "CCBD"]
KEYS_AAAB = [frozenset(c) for c in "AAAB"]


def grid(rows: list[str]) -> np.ndarray:
    """Response matrix from one string per student; "." is a blank."""
    return np.array([["" if c == "." else c for c in row] for row in rows], dtype=object)


def approx(x: float) -> object:
    return pytest.approx(x, abs=5e-4)


# ------------------------------------------------------------------ worked example


def test_worked_example_score_matrix():
    np.testing.assert_array_equal(score_matrix(grid(WORKED), WORKED_KEYS), WORKED_SCORES)


def test_worked_example_test_statistics():
    stats = items.test_statistics(grid(WORKED), WORKED_KEYS)
    assert (stats.n, stats.k) == (10, 5)
    assert stats.mean == approx(2.5)
    assert stats.variance == approx(2.25)
    assert stats.sd == approx(1.5)
    assert stats.sum_pq == approx(1.15)
    assert stats.kr20 == approx(0.611)
    assert stats.sem == approx(0.935)
    assert stats.distribution == (1, 2, 2, 2, 2, 1)


@pytest.mark.parametrize(
    ("item", "p", "p_upper", "p_lower", "d", "r"),
    [
        (1, 0.7, 1.0, 0.333, 0.667, 0.419),
        (2, 0.6, 1.0, 0.0, 1.0, 0.435),
        (3, 0.5, 1.0, 0.0, 1.0, 0.507),
        (4, 0.4, 0.667, 0.333, 0.333, 0.089),
        (5, 0.3, 0.667, 0.0, 0.667, 0.419),
    ],
)
def test_worked_example_item_statistics(item, p, p_upper, p_lower, d, r):
    s = item_statistics(grid(WORKED), WORKED_KEYS, OPTIONS)[item - 1]
    assert (s.item, s.n, s.tail_size, s.cancelled) == (item, 10, 3, False)
    assert s.p == approx(p)
    assert s.p_upper == approx(p_upper)
    assert s.p_lower == approx(p_lower)
    assert s.discrimination == approx(d)
    assert s.point_biserial == approx(r)
    assert s.flags == ()


def test_worked_example_point_biserial_matches_pearson():
    x = np.array(WORKED_SCORES, dtype=float)
    rest = x.sum(axis=1, keepdims=True) - x
    expected = [np.corrcoef(x[:, j], rest[:, j])[0, 1] for j in range(5)]
    got = [s.point_biserial for s in item_statistics(grid(WORKED), WORKED_KEYS, OPTIONS)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_worked_example_option_counts():
    stats = item_statistics(grid(WORKED), WORKED_KEYS, OPTIONS)
    # Item 1, column "ABCAAABAC.": A x7, B (S7), C (S9), blank (S10).
    assert dict(stats[0].option_counts) == {
        "A": 7, "B": 1, "C": 1, "D": 0, "E": 0, "blank": 1, "multiple": 0
    }  # fmt: skip
    # Upper S1-S3 all A; lower S8 A, S9 C, S10 blank.
    assert dict(stats[0].upper_counts) == {
        "A": 3, "B": 0, "C": 0, "D": 0, "E": 0, "blank": 0, "multiple": 0
    }  # fmt: skip
    assert dict(stats[0].lower_counts) == {
        "A": 1, "B": 0, "C": 1, "D": 0, "E": 0, "blank": 1, "multiple": 0
    }  # fmt: skip
    # 5% of 10 students is 0.5: only distractors nobody chose are non-functional.
    assert [s.nonfunctional for s in stats] == [("D", "E"), ("D", "E"), ("E",), ("E",), ("D",)]


def test_multiple_marks_count_as_wrong_and_are_counted():
    stats = item_statistics(grid(WORKED), WORKED_KEYS, OPTIONS)
    # S5 marked several options on item 2 (right answer B), S10 on item 4.
    assert score_matrix(grid(WORKED), WORKED_KEYS)[4, 1] == 0.0
    assert stats[1].option_counts["multiple"] == 1
    assert stats[3].option_counts["multiple"] == 1
    assert stats[3].lower_counts["multiple"] == 1  # S10 is in the lower group
    # A key accepting several options still scores "*" as wrong.
    responses = grid(["B", "C", "*", "A"])
    np.testing.assert_array_equal(score_matrix(responses, [frozenset("BC")]), [[1], [1], [0], [0]])


# ------------------------------------------------------------------- cancelled items


def test_cancelled_item_is_excluded():
    # A sixth item, cancelled: answers on it must change nothing.
    responses = grid([row + c for row, c in zip(WORKED, "AABBCC*..A", strict=True)])
    keys = [*WORKED_KEYS, frozenset()]
    stats = items.test_statistics(responses, keys)
    assert stats.k == 5
    assert stats.kr20 == approx(0.611)
    assert stats.distribution == (1, 2, 2, 2, 2, 1)
    assert np.isnan(score_matrix(responses, keys)[:, 5]).all()
    per_item = item_statistics(responses, keys, OPTIONS)
    assert per_item[:5] == item_statistics(grid(WORKED), WORKED_KEYS, OPTIONS)
    sixth = per_item[5]
    assert sixth.cancelled
    assert math.isnan(sixth.p) and math.isnan(sixth.discrimination)
    assert math.isnan(sixth.point_biserial)
    assert (sixth.flags, sixth.nonfunctional) == ((), ())
    assert sixth.option_counts["A"] == 3 and sixth.option_counts["multiple"] == 1


def test_cancelling_an_item_recomputes_kr20_without_it():
    # Cancel item 4 (p = .4): totals become 4 3 4 2 3 2 2 1 0 0, sum 21, mean 2.1,
    # sum T^2 = 63, var = 6.3 - 4.41 = 1.89; sum p q = .21 + .24 + .25 + .21 = .91;
    # KR-20 = 4/3 * (1 - .91 / 1.89) = 56/81 = 0.691358;
    # SEM = sqrt(1.89) * sqrt(25/81) = 1.374773 * 0.555556 = 0.763763.
    keys = [frozenset("A"), frozenset("B"), frozenset("C"), frozenset(), frozenset("E")]
    stats = items.test_statistics(grid(WORKED), keys)
    assert (stats.k, stats.mean, stats.variance) == (4, approx(2.1), approx(1.89))
    assert stats.kr20 == approx(0.691)
    assert stats.sem == approx(0.764)
    assert stats.distribution == (2, 1, 3, 2, 2)


# ---------------------------------------------------------------------- key-suspect


def test_wrong_key_is_key_suspect():
    stats = item_statistics(grid(WRONG_KEY), KEYS_AAAB, OPTIONS)
    assert [("key-suspect" in s.flags) for s in stats] == [False, False, False, True]
    assert stats[3].upper_counts["C"] == 3 and stats[3].upper_counts["B"] == 0
    assert stats[3].point_biserial < 0


def test_negative_point_biserial_alone_is_key_suspect():
    # Item 4 (key A): upper S1-S3 answer A, B, C (no distractor beats the key there),
    # but everyone else answers A, so the item correlates negatively with the rest.
    rows = ["AAAA", "AAAB", "AAAC", "AABA", "ABAA", "BAAA", "ABBA", "BBAA", "BBBA", "CCCA"]
    s = item_statistics(grid(rows), [frozenset("A")] * 4, OPTIONS)[3]
    assert max(s.upper_counts[o] for o in "BCDE") <= s.upper_counts["A"]
    assert s.point_biserial < 0
    assert "key-suspect" in s.flags


def test_key_wrong_in_one_group_only_is_flagged_in_that_group():
    responses = grid(RIGHT_KEY + WRONG_KEY)
    groups = np.array(["A"] * 10 + ["B"] * 10, dtype=object)
    per_group = item_statistics_by_group(responses, KEYS_AAAB, OPTIONS, groups)
    assert list(per_group) == ["A", "B"]
    assert all("key-suspect" not in s.flags for s in per_group["A"])
    assert ["key-suspect" in s.flags for s in per_group["B"]] == [False, False, False, True]
    assert per_group["B"][3].n == 10 and per_group["B"][3].tail_size == 3
    overall = item_statistics(responses, KEYS_AAAB, OPTIONS, groups=groups)
    assert [s.suspect_groups for s in overall] == [(), (), (), ("B",)]
    assert item_statistics(responses, KEYS_AAAB, OPTIONS)[3].suspect_groups == ()


# ---------------------------------------------------------------- thresholds and ties


def test_easy_hard_and_low_discrimination_flags():
    # 10 students, keys A: item 1 all right (p = 1), item 2 right only for S1 (p = .1,
    # wrong answers spread), item 3 right for S1..S5. Totals 3 2 2 2 2 1 1 1 1 1:
    # upper S1-S3, lower S8-S10.
    rows = ["AAA", "ABA", "ACA", "ADA", "AEA", "ABB", "ACB", "ADB", "AEB", "A.B"]
    easy, hard, mid = item_statistics(grid(rows), [frozenset("A")] * 3, OPTIONS)
    assert easy.flags == ("too-easy", "low-discrimination")  # p = 1, D = 1 - 1 = 0
    assert math.isnan(easy.point_biserial)  # constant item
    # Item 2: upper answers A B C, lower D E blank: D = 1/3 - 0.
    assert hard.p == approx(0.1) and hard.discrimination == approx(1 / 3)
    assert hard.flags == ("too-hard",)
    assert mid.flags == ()
    # Raising the threshold flags item 3 too (D = 1 is not < 1, D of item 2 is).
    strict = item_statistics(
        grid(rows), [frozenset("A")] * 3, OPTIONS, low_discrimination_below=1.0
    )
    assert ["low-discrimination" in s.flags for s in strict] == [True, True, False]


def test_ties_at_the_cut_are_broken_by_row_order():
    # Totals 1 1 0 0; round(0.27 * 4) = 1 student per group. S1 and S2 tie at the top:
    # the stable ranking keeps row order, so the upper group is S1 and the lower S4.
    rows = ["AB", "BA", "BB", "CC"]
    first, second = item_statistics(grid(rows), [frozenset("A")] * 2, OPTIONS)
    assert first.tail_size == 1
    assert first.upper_counts["A"] == 1 and first.lower_counts["C"] == 1
    assert (first.p_upper, first.p_lower, first.discrimination) == (1.0, 0.0, 1.0)
    assert (second.p_upper, second.p_lower, second.discrimination) == (0.0, 0.0, 0.0)
    # Swapping S1 and S2 swaps which item looks discriminating.
    swapped = item_statistics(grid(["BA", "AB", "BB", "CC"]), [frozenset("A")] * 2, OPTIONS)
    assert [s.discrimination for s in swapped] == [0.0, 1.0]


@pytest.mark.parametrize(("n", "tail", "size"), [(10, 0.27, 3), (10, 0.25, 3), (4, 0.1, 0)])
def test_tail_size_rounds_half_up(n, tail, size):
    stats = item_statistics(grid(["A"] * n), [frozenset("A")], OPTIONS, tail=tail)
    assert stats[0].tail_size == size


# ------------------------------------------------------------------ degenerate cases


def test_all_students_same_score():
    # Keys A A, answers AB AC BA CA: totals 1 1 1 1, var = 0, so KR-20 and SEM are nan.
    stats = items.test_statistics(grid(["AB", "AC", "BA", "CA"]), [frozenset("A")] * 2)
    assert (stats.mean, stats.sd, stats.variance) == (1.0, 0.0, 0.0)
    assert math.isnan(stats.kr20) and math.isnan(stats.sem)
    assert stats.distribution == (0, 4, 0)
    first = item_statistics(grid(["AB", "AC", "BA", "CA"]), [frozenset("A")] * 2, OPTIONS)[0]
    # Item 1 scores 1 1 0 0, rest 0 0 1 1: r = -1 (defined). All totals tie, so row
    # order decides: upper S1, lower S4 (round(0.27 * 4) = 1), D = 1 - 0.
    assert first.point_biserial == approx(-1.0)
    assert first.discrimination == 1.0
    same = item_statistics(grid(["AA"] * 5), [frozenset("A")] * 2, OPTIONS)[0]
    assert math.isnan(same.point_biserial)  # constant item
    assert same.discrimination == 0.0
    assert same.flags == ("too-easy", "low-discrimination")


def test_one_student():
    stats = items.test_statistics(grid(["AB"]), [frozenset("A"), frozenset("A")])
    assert (stats.n, stats.k, stats.mean, stats.sd) == (1, 2, 1.0, 0.0)
    assert math.isnan(stats.kr20) and math.isnan(stats.sem)
    assert stats.distribution == (0, 1, 0)
    s = item_statistics(grid(["AB"]), [frozenset("A"), frozenset("A")], OPTIONS)[0]
    assert (s.n, s.p, s.tail_size) == (1, 1.0, 0)
    assert math.isnan(s.p_upper) and math.isnan(s.discrimination)
    assert math.isnan(s.point_biserial)
    assert s.nonfunctional == ("B", "C", "D", "E")
    assert s.flags == ("too-easy",)


def test_zero_students():
    responses = np.empty((0, 3), dtype=object)
    keys = [frozenset("A"), frozenset(), frozenset("B")]
    assert score_matrix(responses, keys).shape == (0, 3)
    stats = items.test_statistics(responses, keys)
    assert (stats.n, stats.k, stats.distribution) == (0, 2, (0, 0, 0))
    assert all(math.isnan(v) for v in (stats.mean, stats.sd, stats.kr20, stats.sem))
    for s in item_statistics(responses, keys, OPTIONS, groups=np.array([], dtype=object)):
        assert (s.n, s.tail_size, s.flags, s.nonfunctional) == (0, 0, (), ())
        assert math.isnan(s.p) and math.isnan(s.discrimination)
        assert sum(s.option_counts.values()) == 0
    assert item_statistics_by_group(responses, keys, OPTIONS, np.array([], dtype=object)) == {}


def test_single_counted_item_has_no_kr20():
    stats = items.test_statistics(grid(["A", "B", "A"]), [frozenset("A")])
    assert stats.k == 1 and math.isnan(stats.kr20)
    assert stats.variance == approx(2 / 9)


# ------------------------------------------------------------------- inputs and table


def test_inputs_are_not_modified_and_dtypes_agree():
    responses = grid(WORKED)
    before = responses.copy()
    keys = list(WORKED_KEYS)
    groups = np.array(list("ABABABABAB"), dtype=object)
    expected = item_statistics(responses, keys, OPTIONS, groups=groups)
    items.test_statistics(responses, keys)
    score_matrix(responses, keys)
    np.testing.assert_array_equal(responses, before)
    assert keys == WORKED_KEYS
    # Fixed-width strings, one or several characters wide, give the same results.
    for dtype in ("U1", "U3"):
        wide = responses.astype(dtype)
        assert item_statistics(wide, keys, OPTIONS, groups=groups) == expected
        assert items.test_statistics(wide, keys) == items.test_statistics(responses, keys)


def test_multi_character_labels():
    responses = np.array([["yes"], ["no"], ["*"], [""]], dtype=object)
    s = item_statistics(responses, [frozenset({"yes"})], ("yes", "no"))[0]
    assert dict(s.option_counts) == {"yes": 1, "no": 1, "blank": 1, "multiple": 1}
    assert s.p == 0.25


@pytest.mark.parametrize(
    ("responses", "keys", "options", "kwargs", "match"),
    [
        (grid(["AX"]), [frozenset("A")] * 2, OPTIONS, {}, r"not options, '' or '\*': \['X'\]"),
        (np.array([["A", None]], dtype=object), [frozenset("A")] * 2, OPTIONS, {}, "'None'"),
        (grid(["AB"]), [frozenset("A")] * 3, OPTIONS, {}, r"must be \(n_students, 3\)"),
        (grid(["AB"]), [frozenset("A"), frozenset("F")], OPTIONS, {}, r"\['F'\] not in options"),
        (grid(["AB"]), [frozenset("A")] * 2, ("A", "A"), {}, "distinct"),
        (grid(["AB"]), [frozenset("A")] * 2, ("A", "blank"), {}, "cannot be named"),
        (grid(["AB"]), [frozenset("A"), frozenset("*")], OPTIONS, {}, "cannot accept"),
        (grid(["AB"]), [frozenset("A")] * 2, OPTIONS, {"tail": 0.6}, "tail must be"),
        (grid(["AB"]), [frozenset("A")] * 2, OPTIONS, {"groups": ["A", "B"]}, "groups must"),
        (np.array([[1, 2]]), [frozenset("A")] * 2, OPTIONS, {}, "must hold strings"),
    ],
)
def test_invalid_input_raises(responses, keys, options, kwargs, match):
    with pytest.raises(ValueError, match=match):
        item_statistics(responses, keys, options, **kwargs)


def test_items_table():
    stats = item_statistics(grid(WRONG_KEY), KEYS_AAAB, OPTIONS)
    table = items_table(stats, "MAT101", "B")
    assert len(table) == 4
    assert list(table.columns[:12]) == [
        "course", "group", "item", "n", "key", "cancelled", "p", "p_upper", "p_lower",
        "discrimination", "point_biserial", "tail_size",
    ]  # fmt: skip
    assert list(table.columns[12:19]) == [f"n_{c}" for c in [*OPTIONS, "blank", "multiple"]]
    assert "upper_C" in table.columns and "lower_multiple" in table.columns
    assert list(table.columns[-3:]) == ["nonfunctional", "flags", "suspect_groups"]
    row = table.iloc[3]
    assert (row["course"], row["group"], row["item"], row["key"]) == ("MAT101", "B", 4, "B")
    assert row["flags"] == "key-suspect;low-discrimination"
    assert (row["n_C"], row["upper_C"], row["lower_B"]) == (4, 3, 3)
    assert row["nonfunctional"] == "A;D;E"
    assert table["p"].tolist() == pytest.approx([0.5, 0.5, 0.4, 0.6])
    empty = items_table([], "MAT101", None)
    assert isinstance(empty, pd.DataFrame) and empty.empty
    assert list(empty.columns[-3:]) == ["nonfunctional", "flags", "suspect_groups"]


def test_doctests():
    assert doctest.testmod(items, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


# ------------------------------------------------------------------------- property


@st.composite
def datasets(draw: st.DrawFn) -> tuple[np.ndarray, list[frozenset[str]], tuple[str, ...]]:
    options = OPTIONS[: draw(st.integers(2, 5))]
    n = draw(st.integers(0, 40))
    k = draw(st.integers(1, 6))
    cells = st.sampled_from([*options, "", "*"])
    responses = np.array(
        draw(st.lists(st.lists(cells, min_size=k, max_size=k), min_size=n, max_size=n)),
        dtype=object,
    ).reshape(n, k)
    keys = draw(st.lists(st.frozensets(st.sampled_from(options)), min_size=k, max_size=k))
    return responses, keys, options


@settings(max_examples=200, deadline=None)
@given(datasets(), st.floats(0.05, 0.5))
def test_properties(data, tail):
    responses, keys, options = data
    n = len(responses)
    stats: list[ItemStats] = item_statistics(responses, keys, options, tail=tail)
    scores = score_matrix(responses, keys)
    for j, s in enumerate(stats):
        assert sum(s.option_counts.values()) == n
        assert sum(s.upper_counts.values()) == s.tail_size == sum(s.lower_counts.values())
        assert 2 * s.tail_size <= n
        if s.cancelled or n == 0:
            assert math.isnan(s.p)
            continue
        assert 0.0 <= s.p <= 1.0
        assert s.p == pytest.approx(scores[:, j].mean())
        if s.tail_size:
            assert -1.0 <= s.discrimination <= 1.0
        if not math.isnan(s.point_biserial):
            assert -1.0 - 1e-12 <= s.point_biserial <= 1.0 + 1e-12
            rest = np.nansum(scores, axis=1) - scores[:, j]
            expected = np.corrcoef(scores[:, j], rest)[0, 1]
            assert s.point_biserial == pytest.approx(expected, abs=1e-9)
    test = items.test_statistics(responses, keys)
    assert sum(test.distribution) == n
    if not math.isnan(test.kr20):
        assert test.kr20 <= 1.0 + 1e-12
        assert test.sem >= 0.0
