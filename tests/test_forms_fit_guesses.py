"""`omr forms fit` guesses on traits of real sheets (OMRChecker's samples), drawn here.

A questionnaire's one bubble beside each statement (ibrahimkilic's sheet).
"""

from __future__ import annotations

import cv2
import numpy as np

from omr.formfit import check_proposal, propose_form
from omr.forms import Form

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
