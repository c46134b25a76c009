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
    assert "course2 q4: B" in rows[0].note
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


# Sheet-relative evidence, on small synthetic sheets: K marks' colour numbers.

PENCIL_SHEET = {"saturation": 0.04, "hue": 50.0, "density": 0.42, "texture": 0.15}
BALLPOINT = {"saturation": 0.16, "hue": 74.0, "density": 0.95, "texture": 0.06}


def _sheet(n=30, seed=0, **extra):
    """n pencil marks with noise like a scan's, then the marks given in ``extra`` (name: dict)."""
    from omr.detect.medium import MarkColour

    rng = np.random.default_rng(seed)
    cols = {
        "saturation": np.abs(PENCIL_SHEET["saturation"] + rng.normal(0, 0.012, n)),
        "hue": PENCIL_SHEET["hue"] + rng.normal(0, 8, n),
        "density": PENCIL_SHEET["density"] * (1 + rng.normal(0, 0.08, n)),
        "texture": PENCIL_SHEET["texture"] * (1 + rng.normal(0, 0.15, n)),
    }
    for mark in extra.values():
        for k in cols:
            cols[k] = np.append(cols[k], mark[k])
    return MarkColour(**cols)


def test_pencil_only_sheets_have_no_outlier():
    from omr.detect.medium import classify_media

    model = find_calibration().ink
    for seed in range(20):
        medium, score = classify_media(_sheet(seed=seed), model)
        assert set(medium) == {"pencil"}, seed
        assert score.max() < 0.8


def test_one_black_ballpoint_correction_stands_out_from_the_sheets_pencil():
    from omr.detect.medium import classify_media, sheet_outliers

    model = find_calibration().ink
    # by its colour alone: too light for the density test, no absolute test on
    faint = dict(BALLPOINT, density=0.7)
    colour = _sheet(fix=faint)
    assert colour.density[-1] < model.outlier_density_min
    assert colour.saturation[-1] < model.saturation_max
    medium, _ = classify_media(colour, model)
    assert list(medium).count("ink") == 1 and medium[-1] == "ink"
    assert sheet_outliers(colour, model)[-1] >= 1.0
    # the same mark on its own, or with too few others, proves nothing by comparison
    few = _sheet(n=model.outlier_min_marks - 2, fix=faint)
    assert sheet_outliers(few, model).max() == 0.0


def test_a_dense_pen_with_a_cast_is_ink_even_alone_when_calibrated():
    from omr.detect.medium import MarkColour, classify_media

    model = find_calibration().ink.model_copy(update={"chroma_min": 0.09})  # as calibrated
    one = MarkColour(
        *(np.array([BALLPOINT[k]]) for k in ("saturation", "hue", "density", "texture"))
    )
    assert one.chroma[0] >= model.chroma_min
    assert classify_media(one, model)[0][0] == "ink"


def test_a_dense_smooth_neutral_mark_among_light_pencil_is_a_pen_and_a_grainy_one_is_not():
    from omr.detect.medium import classify_media

    model = find_calibration().ink
    gel = {"saturation": 0.0, "hue": 0.0, "density": 1.3, "texture": 0.05}
    medium, _ = classify_media(_sheet(gel=gel), model)
    assert medium[-1] == "ink" and list(medium).count("ink") == 1
    pressed = dict(gel, texture=0.3)  # a hard-pressed pencil stays grainy
    medium, _ = classify_media(_sheet(pressed=pressed), model)
    assert set(medium) == {"pencil"}


def test_jpeg_colour_bleeding_into_a_few_dense_pencil_marks_is_not_a_pen():
    # A 150 dpi colour scan at JPEG quality 48-55 (stress seed 71, sheets 490,
    # 1008, 1764): a dozen dense pencil marks in a hundred pick up colour along
    # the JPEG's blue-yellow chroma axis, one of them 0.16 saturation at
    # density 1.19: more than a MAD of the sheet's differences allows, though
    # within a few times their 90th percentile. It was flagged as ink.
    from omr.detect.medium import MarkColour, classify_media

    model = find_calibration().ink
    rng = np.random.default_rng(71)
    n, bled = 100, 14
    sat = np.abs(rng.normal(0.02, 0.01, n))
    hue = rng.uniform(0, 360, n)
    sat[:bled] = rng.uniform(0.04, 0.10, bled)
    hue[:bled] = rng.choice([40.0, 220.0], bled) + rng.normal(0, 6, bled)
    density = 1.1 * (1 + rng.normal(0, 0.06, n))
    texture = 0.078 * (1 + rng.normal(0, 0.15, n))
    worst = MarkColour(
        np.r_[sat, 0.161], np.r_[hue, 40.7], np.r_[density, 1.186], np.r_[texture, 0.073]
    )
    medium, _ = classify_media(worst, model)
    assert set(medium) == {"pencil"}
    # A black ballpoint correction on the same sheet still stands out.
    pen = MarkColour(
        np.r_[sat, BALLPOINT["saturation"] * 2.5],
        np.r_[hue, BALLPOINT["hue"]],
        np.r_[density, 1.2],
        np.r_[texture, 0.06],
    )
    medium, _ = classify_media(pen, model)
    assert medium[-1] == "ink" and list(medium).count("ink") == 1


def test_a_sheet_of_heavy_pencil_is_not_an_outlier_of_itself():
    from omr.detect.medium import MarkColour, classify_media

    model = find_calibration().ink
    base = _sheet(seed=3)
    heavy = MarkColour(base.saturation, base.hue, base.density * 2.5, base.texture)
    assert np.median(heavy.density) > model.outlier_density_min
    medium, _ = classify_media(heavy, model)
    assert set(medium) == {"pencil"}


def test_density_is_measured_on_the_marks_own_samples():
    """A half-filled bubble is as dense as a full one; a light pencil keeps its own density."""
    from omr.detect.medium import mark_colour

    rgb = np.full((60, 120, 3), 240, np.uint8)
    rgb[10:50, 10:50] = 120  # full fill, half the light: absorbance 0.30
    rgb[10:50, 70:90] = 120  # half fill
    yy, xx = np.mgrid[1.5:4.5:0.25, 1.5:4.5:0.25]
    pts = np.stack([xx.ravel(), yy.ravel()], axis=-1)
    points = np.stack([pts, pts + [6.0, 0.0]])  # (2, S, 2) mm
    matrix = np.diag([10.0, 10.0, 1.0])  # 10 px per mm
    ev = mark_colour(rgb, matrix, points, paper_rgb=np.array([240.0, 240.0, 240.0]))
    assert ev.density == pytest.approx([np.log10(2)] * 2, abs=0.01)
    assert ev.saturation == pytest.approx([0, 0], abs=1e-6)


def test_the_scanners_cast_is_taken_away_at_each_marks_density():
    from omr.detect.medium import MarkColour, neutralise

    model = find_calibration().ink.model_copy(
        update={
            "neutral_a": -0.1,
            "neutral_b": -0.1,
            "neutral_density": 0.5,
            "neutral_da": -0.05,
            "neutral_db": -0.08,
        }
    )
    density = np.array([0.5, 1.0, 0.25])
    a = -0.1 - 0.05 * (density - 0.5)
    b = -0.1 - 0.08 * (density - 0.5)
    colour = MarkColour(
        np.hypot(a, b), np.degrees(np.arctan2(b, a)) % 360, density, np.full(3, 0.15)
    )
    assert neutralise(colour, model).saturation == pytest.approx([0, 0, 0], abs=1e-9)
    flat = neutralise(colour, model.model_copy(update={"neutral_da": 0.0, "neutral_db": 0.0}))
    assert flat.saturation[1] == pytest.approx(np.hypot(0.025, 0.04), abs=1e-9)


def test_a_few_blue_corrections_do_not_make_the_pencil_beside_them_ink():
    from omr.detect.medium import classify_media

    model = find_calibration().ink.model_copy(update={"sheet_saturation": 0.05})
    blue = {"saturation": 1.0, "hue": 55.0, "density": 0.5, "texture": 0.09}
    medium, _ = classify_media(_sheet(b1=blue, b2=blue, b3=blue), model)
    assert list(medium[-3:]) == ["ink"] * 3
    assert set(medium[:-3]) == {"pencil"}


def _photographed(rgb, light=(1.0, 0.93, 0.78)):
    """The sheet in perspective on a dark desk under warm light, like a phone photo."""
    h, w = rgb.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[260, 180], [w + 140, 260], [w + 40, h + 300], [180, h + 220]])
    m = cv2.getPerspectiveTransform(src, dst)
    frame = cv2.warpPerspective(rgb, m, (w + 420, h + 520), borderValue=(70, 60, 50))
    return np.clip(frame * np.asarray(light), 0, 255).astype(np.uint8)


def test_photo_colour_is_straightened_and_balanced_on_its_paper(central):
    photo = _photographed(_colour_sheet(central, (40, 70, 190)))
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    read = read_page(gray, central, find_calibration(), colour=photo, sheet_id="p:1")
    assert read.registration["photo"] is True
    assert read.media["colour"] is True
    media = {(m["field"], m["item"], m["option"]): m["medium"] for m in read.media["marks"]}
    assert media.pop(("course2", 3, "B")) == "ink"
    assert set(media.values()) == {"pencil"}
    pencil = _read(central, _colour_sheet(central))
    photo = _photographed(_colour_sheet(central))
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    read = read_page(gray, central, find_calibration(), colour=photo, sheet_id="p:2")
    assert read.registration["photo"] is True and not read.evidence
    assert {m["medium"] for m in read.media["marks"]} == {"pencil"}
    assert len(read.media["marks"]) == len(pencil.media["marks"])


GEL = {"saturation": 0.03, "hue": 60.0, "density": 1.3, "texture": 0.04}


@pytest.mark.parametrize("pen_marks", [10, 45, 80])
def test_answers_in_a_black_pen_beside_pencil_identity_marks_are_ink_however_many(pen_marks):
    # Issue 12 (d): a sheet answered in a dense, smooth, neutral black pen (gel,
    # marker) with its identity coded in pencil. The pen marks were compared
    # with the sheet's median mark, which is the pen's own once they are the
    # majority: on simulated ink seed 103 both such sheets had every one of
    # their 79-80 pen marks called pencil. The reference is the sheet's
    # lightest marks (its pencil), wherever the pen's share.
    from omr.calibration import InkModel
    from omr.detect.medium import classify_media

    rng = np.random.default_rng(1)
    pens = {
        f"pen{i}": {k: v * (1 + rng.normal(0, 0.05)) for k, v in GEL.items()}
        for i in range(pen_marks)
    }
    colour = _sheet(n=28, **pens)
    medium, _ = classify_media(colour, InkModel())
    assert list(medium[28:]).count("ink") == pen_marks
    assert list(medium[:28]).count("ink") == 0


@pytest.mark.parametrize("seed", range(5))
def test_a_pencil_sheet_of_uneven_hands_has_no_density_outlier(seed):
    # Light and heavy pencil on one sheet (a candidate pressing harder on some
    # marks): graphite is never dense and smooth like a pen.
    from omr.calibration import InkModel
    from omr.detect.medium import classify_media

    rng = np.random.default_rng(seed)
    heavy = {
        f"h{i}": {
            "saturation": 0.04,
            "hue": 50.0,
            "density": float(rng.uniform(0.6, 0.82)),
            "texture": float(rng.uniform(0.1, 0.2)),
        }
        for i in range(30)
    }
    medium, _ = classify_media(_sheet(n=30, seed=seed, **heavy), InkModel())
    assert "ink" not in set(medium)
