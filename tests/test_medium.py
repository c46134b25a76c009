"""Pencil or not (article 7.7): colour evidence, the exam's policy, and evidence images."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import blank_sheet, fill

from omr.calibration import find_calibration
from omr.detect import read_page
from omr.exam import Exam
from omr.score.checks import score_session

DPI = 200
PPM = DPI / 25.4


def _colour_sheet(central, ink_rgb=None):
    marks = {("group", 0): "A"} | {("course1", i): "ABCDE"[i % 5] for i in range(20)}
    marks |= {("student_number", i): d for i, d in enumerate("2026000042")}
    grey = fill(blank_sheet(central, DPI), central, DPI, marks, level=75)
    rgb = np.dstack([grey, grey, grey]).copy()
    rgb[..., 2] = np.minimum(rgb[..., 2], 240)  # warm paper: the paper's tint must not matter
    if ink_rgb is not None:
        f = central.layout.fields["course2"]
        x, y = central.layout.centers_xy[f.index[3, 1]] * PPM
        r = central.layout.radius[f.index[3, 1]] * PPM * 0.95
        cv2.circle(rgb, (round(x), round(y)), round(r), ink_rgb, -1, cv2.LINE_AA)
    return rgb


def _read(central, rgb):
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return read_page(gray, central, find_calibration(), colour=rgb, sheet_id="s:1")


def _exam(policy="review"):
    return Exam.model_validate(
        {
            "name": "t",
            "date": "2026-11-14",
            "form": "central-a4",
            "groups": ["A"],
            "non_pencil": policy,
            "courses": [
                {"code": "C1", "block": "course1", "questions": 20, "keys": {"A": "ABCDE" * 4}},
                {"code": "C2", "block": "course2", "questions": 20, "keys": {"A": "ABCDE" * 4}},
            ],
        }
    )


@pytest.mark.parametrize("ink", [(40, 70, 190), (190, 40, 50), (40, 140, 60)])
def test_coloured_ink_is_flagged_and_pencil_is_not(central, ink):
    read = _read(central, _colour_sheet(central, ink))
    media = {(m["field"], m["item"], m["option"]): m for m in read.media["marks"]}
    assert read.media["colour"] is True
    assert media[("course2", 3, "B")]["medium"] == "ink"
    pencil = [m for k, m in media.items() if k != ("course2", 3, "B")]
    assert len(pencil) == 31 and all(m["medium"] == "pencil" for m in pencil)
    assert read.evidence.startswith(b"\x89PNG")


def test_policy_decides_review_or_void(central):
    read = _read(central, _colour_sheet(central, (40, 70, 190)))
    rows = score_session([read], _exam("review"))
    assert {r.status for r in rows} == {"review:non-pencil"}
    assert "course2 4B" in rows[0].note
    assert {r.status for r in score_session([read], _exam("void"))} == {"void:non-pencil"}


def test_pencil_only_colour_sheet_is_scored(central):
    read = _read(central, _colour_sheet(central))
    assert not read.evidence
    assert {r.status for r in score_session([read], _exam())} == {"scored"}


def test_grey_scan_says_unknown_instead_of_pretending(central):
    rgb = _colour_sheet(central, (40, 70, 190))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    read = read_page(gray, central, find_calibration(), sheet_id="s:1")
    assert read.media["colour"] is False
    assert {m["medium"] for m in read.media["marks"]} == {"unknown"}
    assert {r.status for r in score_session([read], _exam())} == {"scored"}


def test_evidence_shows_the_ink_beside_a_pencil_mark(central):
    read = _read(central, _colour_sheet(central, (40, 70, 190)))
    img = cv2.imdecode(np.frombuffer(read.evidence, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape[1] == pytest.approx(2 * (98 + 4), abs=4)  # two tiles: ink, pencil
    left, right = img[:90, :100], img[:90, 102:]
    assert left[..., 0].mean() > left[..., 2].mean() + 10  # BGR: the ink tile is blue
    assert abs(float(right[..., 0].mean()) - float(right[..., 2].mean())) < 12
