"""`omr forms fit` on layouts seen on real sheets (OMRChecker's samples), drawn here.

Each drawing keeps the one trait the real sheet taught: questions whose rows
stand farther apart than their options (EricSoOSU's sheet), a small sheet
photographed on a dark, textured table (the pyimagesearch sheet).
"""

from __future__ import annotations

import cv2
import numpy as np

from omr.formfit import check_proposal, propose_form

PX = 150 / 25.4


def _p(x_mm: float, y_mm: float) -> tuple[int, int]:
    return round(x_mm * PX), round(y_mm * PX)


def _sheet(w_mm: float, h_mm: float, rows: int, cols: int, *, x0, y0, dx, dy, fill=()):
    page = np.full((round(h_mm * PX), round(w_mm * PX)), 245, np.uint8)
    r = round(2.0 * PX)
    for i in range(rows):
        for j in range(cols):
            c = _p(x0 + j * dx, y0 + i * dy)
            cv2.circle(page, c, r, 30, max(1, round(0.25 * PX)), cv2.LINE_AA)
            if (i, j) in fill:
                cv2.circle(page, c, r - 2, 40, -1, cv2.LINE_AA)
    return page


def test_rows_farther_apart_than_their_options_are_one_block_of_questions():
    # 5 questions x 4 options: options 8 mm apart, questions 11 mm (2.75 bubble sizes).
    page = _sheet(120, 90, 5, 4, x0=20, y0=15, dx=8, dy=11, fill={(0, 2), (1, 0)})
    prop = propose_form(page, PX, name="rows")
    blocks = prop.data["answer_blocks"]
    assert len(blocks) == 1, prop.data
    block = next(iter(blocks.values()))
    assert block["questions"] == 5 and len(block["options"]) == 4
    assert np.allclose(block["option_step"], [8, 0], atol=0.15)
    assert np.allclose(block["question_step"], [0, 11], atol=0.15)
    assert "group" not in prop.data
    assert any("no booklet group proposed" in n for n in prop.notes)
    assert not any("needs one" in n for n in prop.notes)
    assert check_proposal(prop) == []


def test_a_sheet_photographed_on_a_dark_textured_table_has_its_bubbles_found():
    sheet = _sheet(90, 70, 5, 5, x0=20, y0=12, dx=7, dy=8, fill={(0, 1), (2, 0)})
    rng = np.random.default_rng(3)
    h, w = sheet.shape
    grain = rng.normal(75, 30, (h // 4, w // 4))  # a wood table's grain, a few px wide
    table = cv2.resize(grain, (w * 2, h * 2), interpolation=cv2.INTER_CUBIC)
    table = table.clip(0, 255).astype(np.uint8)
    table[h // 2 : h // 2 + h, w // 2 : w // 2 + w] = sheet
    prop = propose_form(table, PX, name="photo")
    assert len(prop.bubbles) == 25, len(prop.bubbles)
    block = next(iter(prop.data["answer_blocks"].values()))
    assert block["questions"] == 5 and len(block["options"]) == 5
