"""Bubble decisions: per-sheet levels, states and item outcomes."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import blank_sheet, fill, transform

from omr.calibration import MarkModel, find_calibration
from omr.detect import read_page
from omr.detect.decide import EMPTY, MARKED, UNSURE, bubble_states, decide_items, sheet_levels
from omr.records import ItemState

MODEL = MarkModel()


def _sheet(blank=0.05, noise=0.0, marks=(), n=600):
    v = np.full(n, blank) + np.linspace(-noise, noise, n)
    v[: len(marks)] = marks
    return v


def test_levels_of_a_clean_sheet_use_the_floors():
    levels = sheet_levels(_sheet(marks=[0.85] * 50), MODEL)
    assert levels.blank == pytest.approx(0.05)
    assert levels.noise == pytest.approx(0.0)
    assert levels.mark == pytest.approx(0.80)
    assert levels.empty_below == pytest.approx(0.05 + 0.10)
    assert levels.marked_above == pytest.approx(0.05 + 0.20)


def test_light_handed_sheet_lowers_its_thresholds():
    # Every mark only 0.30 above blank: thresholds follow the sheet's own marks.
    levels = sheet_levels(_sheet(marks=[0.35] * 50), MODEL)
    assert levels.mark == pytest.approx(0.30)
    assert levels.empty_below == pytest.approx(0.05 + 0.25 * 0.30)
    assert levels.marked_above == pytest.approx(0.05 + 0.45 * 0.30)


def test_noisy_sheet_raises_its_thresholds():
    levels = sheet_levels(_sheet(noise=0.04, marks=[0.9] * 50), MODEL)
    assert levels.noise > 0.015
    assert levels.empty_below == pytest.approx(levels.blank + 6 * levels.noise)
    assert levels.marked_above == pytest.approx(levels.blank + 10 * levels.noise)


def test_a_sheet_with_few_marks_keeps_the_floors():
    levels = sheet_levels(_sheet(marks=[0.3, 0.3]), MODEL)
    assert np.isnan(levels.mark)
    assert levels.marked_above == pytest.approx(0.25)


def test_states_split_empty_unsure_marked():
    levels = sheet_levels(_sheet(marks=[0.85] * 50), MODEL)
    states, conf = bubble_states(np.array([0.05, 0.14, 0.16, 0.24, 0.26, 0.85]), levels)
    assert states.tolist() == [EMPTY, EMPTY, UNSURE, UNSURE, MARKED, MARKED]
    assert conf[0] == pytest.approx(1.0)
    assert conf[2] == 0 and conf[3] == 0
    assert conf[5] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("row", "value", "state", "unsure"),
    [
        ([EMPTY] * 5, "", ItemState.blank, ""),
        ([EMPTY, MARKED, EMPTY, EMPTY, EMPTY], "B", ItemState.one, ""),
        ([MARKED, EMPTY, EMPTY, MARKED, EMPTY], "AD", ItemState.multiple, ""),
        ([MARKED, UNSURE, EMPTY, EMPTY, EMPTY], "A", ItemState.unsure, "B"),
        ([EMPTY, EMPTY, UNSURE, EMPTY, EMPTY], "", ItemState.unsure, "C"),
    ],
)
def test_item_outcomes(row, value, state, unsure):
    (item,) = decide_items(np.array([row]), np.ones((1, 5)), tuple("ABCDE"))
    assert (item.value, item.state, item.unsure) == (value, state, unsure)


@pytest.mark.parametrize("dpi", [150, 300])
@pytest.mark.parametrize("level", [40, 110])
def test_read_page_reads_fills_and_blanks(central, dpi, level):
    marks = {("group", 0): "C", ("course1", 0): "A", ("course1", 1): "BE", ("course2", 5): "D"}
    marks |= {("student_number", i): str(d) for i, d in enumerate("2024123456")}
    page = fill(blank_sheet(central, dpi), central, dpi, marks, level=level)
    page = transform(page, degrees=1.0)
    read = read_page(page, central, find_calibration())
    assert read.ok
    f = read.fields
    assert f["group"].items[0].value == "C"
    assert f["course1"].items[0].state == ItemState.one and f["course1"].items[0].value == "A"
    assert f["course1"].items[1].state == ItemState.multiple and f["course1"].items[1].value == "BE"
    assert f["course1"].items[2].state == ItemState.blank
    assert f["course2"].items[5].value == "D"
    assert f["student_number"].text() == "2024123456"
    assert f["national_id"].text() == "?" * 11  # left blank
    assert sum(i.state != ItemState.blank for i in f["course3"].items) == 0


def test_a_faint_smudge_goes_to_review_not_to_a_guess(central):
    dpi = 200
    marks = {("group", 0): "A"} | {("course1", i): "A" for i in range(20)}
    page = fill(blank_sheet(central, dpi), central, dpi, marks, level=60)
    # A light, small smudge on course2 q1 option B: neither blank nor a mark.
    page = fill(page, central, dpi, {("course2", 0): "B"}, level=205, coverage=0.7)
    read = read_page(page, central, find_calibration())
    item = read.fields["course2"].items[0]
    assert item.state == ItemState.unsure
    assert item.unsure == "B"


def _levels():
    return sheet_levels(_sheet(marks=[0.75] * 50), MODEL)  # blank 0.05, marks 0.70 above


def _decide(row):
    from omr.detect.decide import mark_residue

    levels = _levels()
    darkness = np.array([row])
    states, conf = bubble_states(darkness, levels)
    states, residue_conf = mark_residue(states, darkness, levels, MODEL)
    conf = np.where(states == 3, residue_conf, conf)
    (item,) = decide_items(states, conf, tuple("ABCDE"))
    return item


def test_light_residue_beside_a_clear_mark_is_an_erasure_not_an_answer():
    # C clear (0.75); A at 0.17 (0.12 above blank: unsure band, under 0.35 × 0.70 and 0.15).
    item = _decide([0.17, 0.05, 0.75, 0.05, 0.05])
    assert (item.state, item.value, item.reason) == (ItemState.one, "C", "residue:A")
    assert 0 < item.confidence < 1


def test_heavier_second_mark_beside_a_clear_mark_goes_to_a_person():
    # A at 0.23 (0.18 above blank): too dark to call residue, too light to call an answer.
    item = _decide([0.23, 0.05, 0.75, 0.05, 0.05])
    assert (item.state, item.value, item.unsure, item.reason) == (
        ItemState.unsure,
        "C",
        "A",
        "erasure-or-answer",
    )


def test_unsure_reasons():
    assert _decide([0.17, 0.05, 0.05, 0.05, 0.05]).reason == "faint"
    assert _decide([0.17, 0.18, 0.05, 0.05, 0.05]).reason == "ambiguous-multiple"


def test_residue_alone_is_not_an_answer_and_not_residue():
    # Without a clear mark in the question there is nothing to compare with: a person looks.
    item = _decide([0.05, 0.05, 0.05, 0.05, 0.16])
    assert item.state == ItemState.unsure and item.reason == "faint"


def test_doubtful_second_marks_are_judged_by_shape_where_it_is_plain():
    from omr.detect.decide import RESIDUE, judge_seconds

    states = np.array(
        [
            [MARKED, UNSURE, EMPTY],  # a smear beside the answer: residue
            [MARKED, UNSURE, EMPTY],  # a clean, drawn second mark: a second answer
            [MARKED, UNSURE, EMPTY],  # neither: a person
            [EMPTY, UNSURE, EMPTY],  # no clear answer to compare with: unchanged
        ],
        dtype=np.int8,
    )
    smear = np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0], [0, 1, 0]], bool)
    deliberate = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0], [0, 1, 0]], bool)
    out = judge_seconds(states, smear, deliberate)
    assert out[:, 1].tolist() == [RESIDUE, MARKED, UNSURE, UNSURE]
    assert (out[:, [0, 2]] == states[:, [0, 2]]).all()


def test_ring_mask_drops_exactly_the_points_inside_other_bubbles(central):
    from omr.detect.measure import ring_mask, ring_points

    layout = central.layout
    ring = ring_points(layout)
    mask = ring_mask(layout, ring)
    reach = layout.radius + 0.3
    for k in (0, 5, 200, 400, len(layout) - 3):  # group, identity and answer bubbles
        d = np.linalg.norm(ring[k][:, None, :] - layout.centers_xy[None, :, :], axis=-1)
        d[:, k] = np.inf
        assert (mask[k] == (d > reach[None, :]).all(axis=1)).all()
    assert 0.8 < mask.mean() < 1.0  # dense digit grids lose some ring points, not most


def _measures(layout, *, dark=None, ring=None, cover=None):
    """Blank-sheet measures for ``layout``: darkness 0.05, ring 0.02, no dark share."""
    from omr.detect.measure import BubbleMeasures

    n = len(layout)
    darkness = np.full(n, 0.05) if dark is None else dark
    ring = np.full(n, 0.02) if ring is None else ring
    return BubbleMeasures(
        darkness=darkness,
        coverage=np.zeros(n) if cover is None else cover,
        paper=230.0,
        ink=20.0,
        ring=ring,
        ring_by_sector=np.repeat(ring[:, None], 8, axis=1),
    )


def _classify(layout, measures, model=MODEL):
    from omr.detect.decide import classify_marks

    levels = sheet_levels(measures.darkness[~layout.square], model)
    states, conf = bubble_states(measures.darkness, levels)
    out, *_ = classify_marks(measures, states, conf, levels, model, layout)
    return out


def _answer_bubbles(layout, n):
    f = layout.fields["course1"]
    return f.index[:n, 0], f.index[20 - n :, 2]


@pytest.mark.parametrize(
    ("ring_excess", "expected"),
    [
        (0.0, MARKED),  # a clean weak fill: an answer
        (0.015, MARKED),  # a halo of 0.07 × its darkness: what pencil fills show
        (0.03, UNSURE),  # 0.13 × its darkness: more than fills show, a person decides
        (0.05, UNSURE),  # a halo of 0.22 × its darkness: fill or smear, a person decides
        (0.12, 3),  # a halo half as dark as its inside: a smear (RESIDUE)
    ],
)
def test_a_weak_mark_is_judged_by_its_halo(central, ring_excess, expected):
    layout = central.layout
    marks, weak = _answer_bubbles(layout, 20)
    dark = np.full(len(layout), 0.05)
    dark[marks] = 0.85  # the sheet's clear marks
    dark[weak[0]] = 0.28  # 0.23 above blank: marked by darkness, below mark_cap
    ring = np.full(len(layout), 0.02)
    ring[weak[0]] += ring_excess
    out = _classify(layout, _measures(layout, dark=dark, ring=ring))
    assert out[weak[0]] == expected
    assert (out[marks] == MARKED).all()


@pytest.mark.parametrize(
    ("cover", "expected"),
    # Black clustered in strokes, or a scatter of dots: neither is read on a
    # 1-bit page. A threshold keeps an erasure's darkened printed letter and
    # ring but drops its halo (stress seed 101, stack.pdf:973: an erased D
    # read as the answer), so a clean faint fill there goes to a person.
    [(0.12, UNSURE), (0.05, UNSURE)],
)
def test_a_clean_faint_mark_on_a_1bit_scan_goes_to_a_person(central, cover, expected):
    layout = central.layout
    model = MODEL.model_copy(
        update={
            "empty_floor": MODEL.bilevel_empty_floor,
            "faint_accept": MODEL.bilevel_faint_accept,
            "faint_cover": MODEL.bilevel_faint_cover,
        }
    )
    marks, faint = _answer_bubbles(layout, 20)
    dark = np.zeros(len(layout))  # 1-bit: blank bubbles are pure white
    dark[marks] = 0.95
    dark[faint[0]] = 0.14  # unsure: between 0.02 and 0.2
    ring = np.zeros(len(layout))
    covers = np.zeros(len(layout))
    covers[marks] = 0.95
    covers[faint[0]] = cover
    out = _classify(layout, _measures(layout, dark=dark, ring=ring, cover=covers), model)
    assert out[faint[0]] == expected


def test_a_dot_must_stand_out_from_the_specks_of_a_grainy_sheet(central):
    from omr.detect.decide import EMPTY, ODD

    layout = central.layout
    marks, _ = _answer_bubbles(layout, 20)
    dark = np.full(len(layout), 0.02)
    dark[marks] = 0.9
    covers = np.zeros(len(layout))
    covers[marks] = 0.95
    blank = np.flatnonzero(dark < 0.5)
    specks = blank[::40]  # 1 blank in 40 catches a dither speck
    covers[specks] = 0.037
    dot = blank[7]
    covers[dot] = 0.15
    ring = np.full(len(layout), 0.02)
    out = _classify(layout, _measures(layout, dark=dark, ring=ring, cover=covers))
    assert (out[specks] == EMPTY).all()
    assert out[dot] == ODD
    # On a clean sheet, the same speck is a dot: nothing else looks like it.
    covers[specks[1:]] = 0.0
    out = _classify(layout, _measures(layout, dark=dark, ring=ring, cover=covers))
    assert out[specks[0]] == ODD


@pytest.mark.parametrize(("share", "state"), [(0.15, ItemState.multiple), (0.0, ItemState.unsure)])
def test_a_clean_half_fill_beside_an_answer_is_a_second_answer(central, share, state):
    from omr.detect.decide import decide_fields

    layout = central.layout
    marks = layout.fields["course2"].index[:, 1]  # the sheet's clear marks
    f = layout.fields["course1"]
    dark = np.full(len(layout), 0.05)
    dark[marks] = 0.85
    dark[f.index[0, 2]] = 0.85  # q1: C answered
    second = f.index[0, 4]
    dark[second] = 0.35  # E: under half of C's darkness, a doubtful second mark
    covers = np.zeros(len(layout))
    covers[marks] = covers[f.index[0, 2]] = 1.0
    covers[second] = 0.4  # half of it solidly dark: strokes
    ring = np.full(len(layout), 0.02)
    ring[second] += 0.015  # lifted a little: above double_clean_ring, 0.05 of its darkness
    model = MODEL.model_copy(update={"double_clean_share": share, "double_fill_share": 0.0})
    fields, _ = decide_fields(_measures(layout, dark=dark, ring=ring, cover=covers), layout, model)
    item = fields["course1"].items[0]
    assert item.state == state
    assert item.value == ("CE" if state == ItemState.multiple else "C")


def test_a_light_trace_far_above_the_blank_noise_is_doubted_not_called_blank(central):
    layout = central.layout
    marks, light = _answer_bubbles(layout, 20)
    dark = np.full(len(layout), 0.05) + np.tile([0.004, -0.004], len(layout) // 2)
    dark[marks] = 0.6
    dark[light[0]] = 0.14  # 0.09 above blank: under the empty level (0.10), 22 noise deviations
    dark[light[1]] = 0.14  # the same, with an eraser's halo: residue territory, stays empty
    ring = np.full(len(layout), 0.02)
    ring[light[1]] += 0.04
    out = _classify(layout, _measures(layout, dark=dark, ring=ring))
    assert out[light[0]] == UNSURE
    assert out[light[1]] == EMPTY
    assert (out[marks] == MARKED).all()


@pytest.mark.parametrize("columns", [1, 8])
def test_group_medians_are_the_median_of_each_groups_kept_entries(columns):
    from omr.detect.fieldgrid import Groups
    from omr.detect.stats import group_medians

    rng = np.random.default_rng(3)
    for _ in range(100):
        n = int(rng.integers(1, 60))
        members = [rng.permutation(n)[: int(rng.integers(1, n + 1))] for _ in range(5)]
        groups = Groups.of_members(members, [])
        values = rng.normal(size=(columns, n))
        keep = rng.random(n) < rng.random()
        median, count = group_medians(values, keep, groups)
        for g, m in enumerate(members):
            kept = m[keep[m]]
            assert count[g] == kept.size
            if kept.size:
                assert np.array_equal(median[:, g], np.median(values[:, kept], axis=1))
            else:
                assert np.isnan(median[:, g]).all()


# --- identity digits: a digit column with no mark, or an unclear one, is held -------------


def _id_sheet(central, digits: dict[int, str], *, faint: dict[int, str] | None = None):
    """A sheet with group A, every answer of course1, and the student number's columns
    marked as ``digits`` (position -> digit); ``faint`` ones lightly shaded."""
    dpi = 200
    marks = {("group", 0): "A"} | {("course1", i): "ABCDE"[i % 5] for i in range(20)}
    marks |= {("student_number", i): d for i, d in digits.items()}
    page = fill(blank_sheet(central, dpi), central, dpi, marks, level=70)
    for i, d in (faint or {}).items():
        page = fill(page, central, dpi, {("student_number", i): d}, level=215, coverage=0.6)
    return read_page(page, central, find_calibration(), sheet_id="s:1")


def _status(read) -> set[str]:
    from omr.exam import Exam
    from omr.score.checks import score_session

    exam = Exam.model_validate(
        {
            "name": "t",
            "date": "2026-11-14",
            "form": "central-a4",
            "groups": ["A"],
            "courses": [
                {"code": "C1", "block": "course1", "questions": 20, "keys": {"A": "ABCDE" * 4}}
            ],
        }
    )
    return {r.status for r in score_session([read], exam)}


ID = dict(enumerate("2026000042"))


def test_a_fully_coded_student_number_is_scored(central):
    read = _id_sheet(central, ID)
    assert read.fields["student_number"].text() == "2026000042"
    assert _status(read) == {"scored"}


@pytest.mark.parametrize("case", ["blank-column", "unclear-column", "two-in-a-column"])
def test_a_student_number_column_blank_or_unclear_is_held_for_a_person(central, case):
    # Issue 12 (e): a digit column with no mark, a faint one or two marks never
    # lets the sheet be scored as someone's: it goes to review.
    digits, faint = dict(ID), {}
    if case == "blank-column":
        del digits[6]
    elif case == "unclear-column":
        faint[6] = digits.pop(6)
    else:
        digits[6] = "07"
    read = _id_sheet(central, digits, faint=faint)
    item = read.fields["student_number"].items[6]
    assert item.state != ItemState.one, item
    assert read.fields["student_number"].text() == "202600?042"
    assert _status(read) == {"review:identity-unreadable"}
