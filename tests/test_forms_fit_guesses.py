"""`omr forms fit` guesses on traits of real sheets (OMRChecker's samples), drawn here.

A questionnaire's one bubble beside each statement (ibrahimkilic's sheet).
"""

from __future__ import annotations

import cv2
import numpy as np

from omr.formfit import check_proposal, propose_form
from omr.forms import Form
from omr.resources import font_path

PX = 150 / 25.4


def _p(x_mm: float, y_mm: float) -> tuple[int, int]:
    return round(x_mm * PX), round(y_mm * PX)


def _ring(page, x_mm, y_mm, r_mm=2.0, filled=False):
    c, r = _p(x_mm, y_mm), round(r_mm * PX)
    cv2.circle(page, c, r, 30, max(1, round(0.25 * PX)), cv2.LINE_AA)
    if filled:
        cv2.circle(page, c, r - 2, 40, -1, cv2.LINE_AA)


def test_the_only_line_of_bubbles_is_one_bubble_per_question():
    page = np.full((round(60 * PX), round(90 * PX)), 245, np.uint8)
    for i in range(5):
        _ring(page, 10, 10 + 8 * i, filled=i == 2)
        cv2.putText(page, f"{i + 1}. I like it", _p(15, 11.5 + 8 * i), 0, 1.0, 40, 2)
    prop = propose_form(page, PX, name="survey")
    assert "group" not in prop.data
    (block,) = prop.data["answer_blocks"].values()
    assert block["questions"] == 5 and block["options"] == ["A"]
    assert np.allclose(block["question_step"], [0, 8], atol=0.15)
    assert any("one bubble each" in n for n in prop.notes)
    assert check_proposal(prop) == []
    form = Form.model_validate(prop.data)
    assert form.layout.centers_xy.shape == (5, 2)


def test_a_line_beside_an_answer_block_stays_the_group():
    page = np.full((round(80 * PX), round(90 * PX)), 245, np.uint8)
    for j in range(3):
        _ring(page, 10 + 7 * j, 10)
    for i in range(5):
        for j in range(4):
            _ring(page, 10 + 7 * j, 25 + 7 * i, filled=(i + j) % 4 == 0)
    prop = propose_form(page, PX, name="quiz")
    assert prop.data["group"]["options"] == ["A", "B", "C"]
    (block,) = prop.data["answer_blocks"].values()
    assert block["questions"] == 5 and len(block["options"]) == 4


def _grid_page(rows, cols, *, filled=()):
    page = np.full((round(110 * PX), round(80 * PX)), 245, np.uint8)
    for i in range(rows):
        for j in range(cols):
            _ring(page, 15 + 7 * j, 12 + 5.5 * i, r_mm=1.6, filled=(i, j) in filled)
    return page


def test_a_grid_photographed_at_an_angle_is_a_problem_not_a_form():
    # DomBrzezinski's survey: a phone photo whose rows close up toward the far
    # end. An even lattice through them misses the end rows' bubbles, and
    # marks there were read blank: the fit must say so instead.
    page = _grid_page(17, 5, filled={(0, 1), (16, 4), (8, 2)})
    h, w = page.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[0.08 * w, 0], [0.92 * w, 0], [w, h], [0, h]])
    photo = cv2.warpPerspective(page, cv2.getPerspectiveTransform(src, dst), (w, h),
                                borderValue=245)  # fmt: skip
    prop = propose_form(photo, PX, name="angle")
    problems = dict(check_proposal(prop))
    (block,) = prop.data["answer_blocks"]
    assert "off an even grid" in problems[f"answer_blocks.{block}"], problems
    flat = propose_form(page, PX, name="flat")
    assert check_proposal(flat) == []


def test_a_pair_of_bubbles_dark_throughout_is_print_not_a_field():
    # DomBrzezinski's QR code: its finder squares (a ring round a solid centre,
    # rounded by the photo) were taken for a booklet group of two, both marked.
    page = _grid_page(6, 4, filled={(0, 1), (3, 2)})
    for x in (60, 66):
        _ring(page, x, 95, r_mm=1.6, filled=True)
    prop = propose_form(page, PX, name="qr")
    assert "group" not in prop.data
    assert list(prop.data["answer_blocks"]) == ["block-1"]
    assert any("solid bubble-sized marks" in n for n in prop.notes)


def _digit_page(order: str | None):
    """A 10-deep grid of 4 digit positions, the digits printed inside (or not)."""
    from PIL import Image, ImageDraw, ImageFont

    page = np.full((round(80 * PX), round(60 * PX)), 245, np.uint8)
    for j in range(4):
        for i in range(10):
            _ring(page, 15 + 6 * j, 12 + 5.5 * i, r_mm=2.0, filled=i == j + 2)
    if order:
        font = ImageFont.truetype(str(font_path()), round(2.6 * PX))
        image = Image.fromarray(page)
        draw = ImageDraw.Draw(image)
        for j in range(4):
            for i in range(10):
                draw.text(_p(15 + 6 * j, 12 + 5.5 * i), order[i], fill=40, font=font, anchor="mm")
        page = np.asarray(image).copy()
    return page


def _digits_of(order):
    prop = propose_form(_digit_page(order), PX, name="digits")
    grid = next(f for f in prop.fields if f.section == "identity")
    return grid.data, prop.notes


def test_a_digit_grid_printed_one_to_nine_then_zero_gets_its_order():
    # Sandeep-1507's booklet number: 1-9 then 0, the digits inside the bubbles.
    data, notes = _digits_of("1234567890")
    assert data["digits"] == 4 and data.get("order") == "1234567890", data
    assert any("digits printed 1234567890" in n for n in notes)


def test_a_digit_grid_printed_zero_to_nine_keeps_the_default():
    data, notes = _digits_of("0123456789")
    assert "order" not in data, data
    assert any("digits printed 0123456789" in n for n in notes)


def test_a_digit_grid_without_digits_inside_says_to_check_its_order():
    data, notes = _digits_of(None)
    assert "order" not in data
    assert any("digit order not seen" in n for n in notes)


def test_a_field_printed_at_its_own_size_gets_it():
    # UmarFarootAPS prints its roll-number bubbles 10% smaller than its answers'.
    page = np.full((round(90 * PX), round(80 * PX)), 245, np.uint8)
    for j in range(3):
        _ring(page, 12 + 8 * j, 12, r_mm=2.2)  # the group: 4.4 mm
    for i in range(6):
        for j in range(4):
            _ring(page, 12 + 7 * j, 30 + 7 * i, r_mm=2.0, filled=i == j)  # answers: 4 mm
    prop = propose_form(page, PX, name="sizes")
    group, (block,) = prop.data["group"], prop.data["answer_blocks"].values()
    assert abs(group["bubble_diameter"] - 4.4) < 0.25, group
    assert "bubble_diameter" not in block
    assert abs(prop.data["bubble_diameter"] - 4.0) < 0.25
    assert check_proposal(prop) == []


def test_two_blocks_a_little_apart_row_by_row_are_offered_as_one():
    # sample4: four options, a wider gap, then two "power" bubbles per question.
    page = np.full((round(70 * PX), round(90 * PX)), 245, np.uint8)
    xs = [12, 20, 28, 36, 48, 56]
    for i in range(6):
        for j, x in enumerate(xs):
            _ring(page, x, 12 + 7 * i, r_mm=2.0, filled=(i + j) % 5 == 0)
    prop = propose_form(page, PX, name="apart")
    assert len(prop.data["answer_blocks"]) == 2
    (note,) = [n for n in prop.notes if "option_offsets" in n]
    offsets = [float(v) for v in note.split("option_offsets: [")[1].rstrip("]").split(",")]
    assert np.allclose(offsets, np.array(xs) - xs[0], atol=0.2), note
