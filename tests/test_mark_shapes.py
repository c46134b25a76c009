"""The reader tells marks by shape: ticks count, smudges are erasures, rings and dots alone are
read as meant (and flagged), beside another mark they are asked."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import blank_sheet, fill

from omr.calibration import find_calibration
from omr.detect import read_page
from omr.detect.decide import EMPTY, MARKED, ODD, UNSURE, decide_items
from omr.records import ItemState

DPI = 200
PPM = DPI / 25.4


def _centre(form, field, item, option):
    f = form.layout.fields[field]
    b = f.index[item, f.option_labels.index(option)]
    x, y = form.layout.centers_xy[b] * PPM
    return int(round(x)), int(round(y)), form.layout.radius[b] * PPM


def _page(central):
    # A normal sheet: group A, and clear answers on course1 so the sheet has its own levels.
    marks = {("group", 0): "A"} | {("course1", i): "ABCDE"[i % 5] for i in range(20)}
    return fill(blank_sheet(central, DPI), central, DPI, marks, level=70)


def _read(central, page, field="course2", item=0):
    return read_page(page, central, find_calibration()).fields[field].items[item]


def test_a_tick_through_the_bubble_is_an_answer(central):
    page = _page(central)
    x, y, r = _centre(central, "course2", 0, "C")
    pts = np.array([[x - r * 0.6, y], [x - r * 0.1, y + r * 0.6], [x + r * 0.7, y - r * 0.7]])
    cv2.polylines(page, [pts.astype(np.int32)], False, 90, 3, cv2.LINE_AA)
    item = _read(central, page)
    assert (item.state, item.value) == (ItemState.one, "C")


def test_a_circled_option_alone_is_read_as_meant(central):
    page = _page(central)
    x, y, r = _centre(central, "course2", 0, "D")
    cv2.circle(page, (x, y), int(r + 0.4 * PPM), 80, 2, cv2.LINE_AA)
    item = _read(central, page)
    assert (item.state, item.value, item.reason) == (ItemState.one, "D", "odd:D")


def test_a_circled_option_beside_a_clear_answer_goes_to_a_person(central):
    page = fill(_page(central), central, DPI, {("course2", 0): "A"}, level=70)
    x, y, r = _centre(central, "course2", 0, "D")
    cv2.circle(page, (x, y), int(r + 0.4 * PPM), 80, 2, cv2.LINE_AA)
    item = _read(central, page)
    assert (item.state, item.value, item.unsure, item.reason) == (
        ItemState.unsure,
        "A",
        "D",
        "odd-mark",
    )


def test_a_dot_alone_is_read_as_meant(central):
    page = _page(central)
    x, y, r = _centre(central, "course2", 0, "B")
    cv2.circle(page, (x, y), int(r * 0.25), 60, -1, cv2.LINE_AA)
    item = _read(central, page)
    assert (item.state, item.value, item.reason) == (ItemState.one, "B", "odd:B")


def test_a_dot_on_a_1_bit_scan_goes_to_a_person(central):
    # Thresholded erasure residue leaves black specks like a dot's: not read there.
    page = _page(central)
    x, y, r = _centre(central, "course2", 0, "B")
    cv2.circle(page, (x, y), int(r * 0.25), 60, -1, cv2.LINE_AA)
    page = np.where(page < 128, 0, 255).astype(np.uint8)
    item = _read(central, page)
    assert (item.state, item.unsure) == (ItemState.unsure, "B")


def test_only_a_plainly_meant_odd_mark_alone_in_its_question_is_read():
    e, m, o, u = EMPTY, MARKED, ODD, UNSURE
    rows = [[e, o, e], [e, o, e], [o, o, e], [m, o, e], [e, e, u], [u, e, u]]
    readable = np.array(
        [[0, 1, 0], [0, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]], dtype=bool
    )
    states = np.array(rows, dtype=np.int8)
    items = decide_items(states, np.ones(states.shape), ("A", "B", "C"), readable)
    assert (items[4].state, items[4].value, items[4].reason) == (ItemState.one, "C", "odd:C")
    assert (items[5].state, items[5].unsure) == (ItemState.unsure, "AC")
    assert (items[0].state, items[0].value, items[0].reason) == (ItemState.one, "B", "odd:B")
    assert (items[1].state, items[1].unsure, items[1].reason) == (
        ItemState.unsure,
        "B",
        "odd-mark",
    )
    assert (items[2].state, items[2].unsure) == (ItemState.unsure, "AB")
    assert (items[3].state, items[3].value, items[3].unsure) == (ItemState.unsure, "A", "B")


def test_a_dot_beside_a_clear_answer_goes_to_a_person(central):
    page = fill(_page(central), central, DPI, {("course2", 0): "A"}, level=70)
    x, y, r = _centre(central, "course2", 0, "B")
    cv2.circle(page, (x, y), int(r * 0.25), 60, -1, cv2.LINE_AA)
    item = _read(central, page)
    assert (item.state, item.value, item.unsure) == (ItemState.unsure, "A", "B")


def test_an_erasure_smudge_that_spills_is_not_an_answer(central):
    page = _page(central)
    x, y, r = _centre(central, "course2", 0, "E")
    smudge = np.zeros_like(page, dtype=np.float32)
    cv2.ellipse(smudge, (x, y), (int(r * 1.5), int(r * 1.2)), 20, 0, 360, 1.0, -1)
    smudge = cv2.GaussianBlur(smudge, (0, 0), r * 0.3)
    page[:] = (page * (1 - 0.2 * smudge)).astype(np.uint8)
    item = _read(central, page)
    assert item.state == ItemState.blank
    assert item.reason == "residue:E"


@pytest.mark.parametrize("level", [190, 200])
def test_a_clean_faint_fill_is_an_answer(central, level):
    page = fill(_page(central), central, DPI, {("course2", 0): "B"}, level=level)
    item = _read(central, page)
    assert (item.state, item.value) == (ItemState.one, "B")


def _second_mark(central, level, halo):
    """Course 2 question 1: a clear A, and a fill of ``level`` on C over a light halo."""
    page = fill(_page(central), central, DPI, {("course2", 0): "A"}, level=70)
    x, y, r = _centre(central, "course2", 0, "C")
    cv2.circle(page, (x, y), int(r + 1.3 * PPM), halo, -1, cv2.LINE_AA)
    return _read(central, fill(page, central, DPI, {("course2", 0): "C"}, level=level))


def test_a_faint_fill_kept_inside_its_bubble_beside_an_answer_is_a_second_answer(central):
    # Article 7.18: both count, so the question is wrong. Its halo (a little
    # blur around it) is a small share of its darkness; an eraser's is not.
    item = _second_mark(central, 175, 250)
    assert (item.state, item.value) == (ItemState.multiple, "AC")


def test_a_second_fill_with_a_middling_halo_goes_to_a_person(central):
    # Neither plainly kept inside (a second answer) nor plainly smeared out (residue).
    item = _second_mark(central, 175, 247)
    assert (item.state, item.value, item.unsure) == (ItemState.unsure, "A", "C")


def test_a_light_smear_beside_an_answer_is_residue(central):
    item = _second_mark(central, 205, 240)
    assert (item.state, item.value, item.reason) == (ItemState.one, "A", "residue:C")


def test_a_crease_along_a_digit_column_is_not_a_ring_round_its_digits(central):
    # A fold beside one position of the student number shades one side of every
    # ring in it alike: measured against that position's own blank bubbles, no
    # digit there is circled.
    digits = {("student_number", i): str((i + 3) % 10) for i in range(10)}
    page = fill(_page(central), central, DPI, digits, level=70)
    x, _, r = _centre(central, "student_number", 7, "0")
    shade = np.zeros(page.shape, np.float32)
    shade[:, int(x - r - 1.0 * PPM)] = 1.0
    shade = cv2.GaussianBlur(shade, (0, 0), 1.2 * PPM)
    page = (page * (1 - 0.3 * shade / shade.max())).astype(np.uint8)
    item = _read(central, page, "student_number", 7)
    assert (item.state, item.value, item.reason) == (ItemState.one, "0", "")


def _one_bit_second(central, draw):
    """Course 2 question 1 on a 1-bit page: a clear A, and ``draw(page, x, y, r)`` on C."""
    page = fill(_page(central), central, DPI, {("course2", 0): "A"}, level=70)
    x, y, r = _centre(central, "course2", 0, "C")
    draw(page, x, y, r)
    return _read(central, np.where(page < 128, 0, 255).astype(np.uint8))


def test_solid_strokes_beside_an_answer_on_a_1_bit_scan_are_a_second_answer(central):
    def cross(page, x, y, r):
        d = int(0.6 * r)
        cv2.line(page, (x - d, y - d), (x + d, y + d), 60, max(2, int(0.3 * r)))
        cv2.line(page, (x - d, y + d), (x + d, y - d), 60, max(2, int(0.3 * r)))

    item = _one_bit_second(central, cross)
    assert (item.state, item.value) == (ItemState.multiple, "AC")


def test_scattered_specks_beside_an_answer_on_a_1_bit_scan_go_to_a_person(central):
    # What a threshold leaves of an eraser's smudge: small black specks.
    def specks(page, x, y, r):
        rng = np.random.default_rng(7)
        yy, xx = np.mgrid[-int(r) : int(r) + 1, -int(r) : int(r) + 1]
        inside = np.hypot(xx, yy) < 0.8 * r
        for dy, dx in zip(*np.nonzero(inside & (rng.random(inside.shape) < 0.07)), strict=True):
            py, px = y + yy[dy, dx], x + xx[dy, dx]
            page[py : py + 2, px : px + 2] = 0

    item = _one_bit_second(central, specks)
    assert (item.state, item.value, item.unsure) == (ItemState.unsure, "A", "C")


def test_a_shaded_column_of_blank_bubbles_reads_blank(central):
    # A crease's shading down option B of course 1 darkens its blank bubbles
    # and the paper alike; against the column's own bubbles they are blank.
    page = _page(central)
    x, y0, r = _centre(central, "course1", 0, "B")
    _, y1, _ = _centre(central, "course1", 19, "B")
    band = page[y0 - int(2 * r) : y1 + int(2 * r), x - int(r) : x + int(r)]
    band[:] = (band * 0.9).astype(np.uint8)
    items = read_page(page, central, find_calibration()).fields["course1"].items
    assert [i.value for i in items] == ["ABCDE"[i % 5] for i in range(20)]
    assert all(i.state == ItemState.one for i in items)
    assert all(i.reason == "" for i in items)  # blank, not even an eraser's residue


def test_a_few_black_pixels_alone_in_a_1_bit_bubble_go_to_a_person(central):
    # What a threshold leaves of a faint fill: a few black pixels where
    # every blank bubble of the page is pure white. Not surely nothing.
    page = _page(central)
    x, y, r = _centre(central, "course2", 0, "E")
    for dx, dy in ((-4, -2),):
        page[y + dy : y + dy + 2, x + dx : x + dx + 2] = 0
    item = _read(central, np.where(page < 128, 0, 255).astype(np.uint8))
    assert (item.state, item.unsure) == (ItemState.unsure, "E")


def test_a_thin_light_tick_alone_on_a_noisy_scan_goes_to_a_person(central):
    # Too little of the inside to lift the bubble's mean above the sheet's
    # noise, but its darkest samples stand out from every blank of that option.
    page = _page(central)
    rng = np.random.default_rng(3)
    page = np.clip(page + rng.normal(0, 6, page.shape), 0, 255).astype(np.uint8)
    x, y, r = _centre(central, "course2", 0, "E")
    tick = np.array([[x - r * 0.3, y + r * 0.1], [x, y + r * 0.5], [x + r * 0.9, y - r * 1.1]])
    cv2.polylines(page, [tick.astype(np.int32)], False, 140, 2, cv2.LINE_AA)
    item = _read(central, page)
    assert (item.state, item.unsure) == (ItemState.unsure, "E")


# --- lines drawn round a bubble, rings drawn inside it ------------------------------------


@pytest.mark.parametrize(
    ("scale", "dx", "dy", "width"),
    [(1.15, 10, 0, 2), (1.3, 10, 0, 4), (1.5, 10, 0, 2), (1.3, 6, -5, 2)],
    ids=["crossing-residue", "crossing-thick", "wide-blank", "wide-offset"],
)
def test_a_loosely_circled_option_is_never_residue_or_blank(central, scale, dx, dy, width):
    # A light pencil loop drawn off-centre round C, crossing its outline on one
    # side (or passing beyond the ring on the other): it lifts the inside a
    # little and the ring a little, as an eraser's smudge does, and was set
    # aside as residue or read blank. An eraser leaves no line: its pencil
    # line crossing the ring in several places sends it to a person.
    page = _page(central)
    x, y, r = _centre(central, "course2", 0, "C")
    axes = (int(r * scale), int(r * scale * 0.8))
    cv2.ellipse(page, (x + dx, y + dy), axes, 10, 0, 345, 150, width, cv2.LINE_AA)
    item = _read(central, page)
    assert item.state != ItemState.blank, item
    assert "C" in item.value + item.unsure
    assert item.state == ItemState.unsure or item.reason == "odd:C"


def test_an_erasure_smudge_is_still_residue_beside_a_loose_circle_rule(central):
    # The line rule needs a line: a smudge spilling round a bubble has none.
    page = fill(_page(central), central, DPI, {("course2", 0): "A"}, level=70)
    x, y, r = _centre(central, "course2", 0, "E")
    smudge = np.zeros_like(page, dtype=np.float32)
    cv2.ellipse(smudge, (x, y), (int(r * 1.5), int(r * 1.2)), 20, 0, 360, 1.0, -1)
    smudge = cv2.GaussianBlur(smudge, (0, 0), r * 0.3)
    page[:] = (page * (1 - 0.2 * smudge)).astype(np.uint8)
    item = _read(central, page)
    assert (item.state, item.value, item.reason) == (ItemState.one, "A", "residue:E")


@pytest.mark.parametrize("share", [0.6, 0.75, 0.85])
def test_a_pen_ring_drawn_inside_a_bubble_beside_a_fill_is_not_a_second_answer(central, share):
    # A ring inked just inside C's outline, its middle clean, beside a filled A:
    # it darkens the inside as much as a light fill and was read as a second
    # answer (the question then wrong, article 7.18). It is no fill: a person looks.
    page = fill(_page(central), central, DPI, {("course2", 0): "A"}, level=70)
    x, y, r = _centre(central, "course2", 0, "C")
    cv2.circle(page, (x, y), int(r * share), 40, 2, cv2.LINE_AA)
    item = _read(central, page)
    assert (item.state, item.value, item.unsure) == (ItemState.unsure, "A", "C")
    # Close to the outline the ring darkens the ring outside a little too.
    assert item.reason in {"odd-mark", "erasure-or-answer"}


def test_a_pen_ring_drawn_inside_a_bubble_alone_is_read_as_meant_and_flagged(central):
    page = _page(central)
    x, y, r = _centre(central, "course2", 0, "C")
    cv2.circle(page, (x, y), int(r * 0.7), 40, 2, cv2.LINE_AA)
    item = _read(central, page)
    assert (item.state, item.value, item.reason) == (ItemState.one, "C", "odd:C")


@pytest.mark.parametrize("level", [60, 190])
def test_a_fill_and_strokes_through_the_middle_are_not_rings(central, level):
    # The middle of a fill (dark or light) and of a cross is as dark as its edge.
    page = fill(_page(central), central, DPI, {("course2", 0): "B"}, level=level)
    x, y, r = _centre(central, "course2", 0, "D")
    d = int(0.6 * r)
    cv2.line(page, (x - d, y - d), (x + d, y + d), 60, 3)
    cv2.line(page, (x - d, y + d), (x + d, y - d), 60, 3)
    item = _read(central, page)
    assert (item.state, item.value) == (ItemState.multiple, "BD")
