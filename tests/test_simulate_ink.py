"""Pens other than pencil (article 7.7): pen models, ink sheets, scanner colour, calibration."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image
from simhelpers import scan_params

from omr.forms import check_geometry, find_form
from omr.render import render_form_pdf
from omr.simulate import PROFILES, simulate_session
from omr.simulate import profile as profiles
from omr.simulate.calibration import CALIBRATION_BLOCKS, simulate_calibration_scan
from omr.simulate.candidates import make_exam, make_roster
from omr.simulate.marks import draw_marks, draw_symbols
from omr.simulate.pens import PENS, Pen, pen_by_name
from omr.simulate.profile import INK_PENS, Profile
from omr.simulate.scanner import (
    Response,
    ScanParams,
    apply_response,
    placement_matrix,
    scan_page,
    to_bilevel,
)
from omr.simulate.session import SESSION_STREAM, SheetMaker

OLD_PROFILES = ("standard", "demo", "clean", "stress", "photo")
PEN_NAMES = {"HB", "2B", *INK_PENS}
CALIBRATION_FORM = Path(__file__).resolve().parent.parent / "calibration" / "calibration-sheet.yaml"
R = 23.6  # 2 mm at 300 dpi
PX_PER_MM = 300 / 25.4
A4_MM = (210.0, 297.0)


@pytest.fixture(scope="module")
def quiz():
    return find_form("quiz-a5")


@pytest.fixture(scope="module")
def calibration_form():
    return find_form(CALIBRATION_FORM)


def _fill(pen_name: str, *, darkness: float | None = None, seed: int = 0, grain: float = 0.2):
    """One bubble filled with ``pen_name`` on a white RGB canvas; the canvas and the inside mask."""
    pen = pen_by_name(PENS, pen_name)
    d = float(np.mean(pen.density)) if darkness is None else darkness
    page = np.full((90, 90, 3), 250, dtype=np.uint8)
    out, covered = draw_marks(
        page,
        np.array([[45.0, 45.0]]),
        R,
        darkness=np.array([d]),
        coverage=np.array([1.0]),
        rng=np.random.default_rng(seed),
        grain=grain,
        pens=[pen],
    )
    yy, xx = np.mgrid[:90, :90]
    inside = np.hypot(xx - 45, yy - 45) <= 0.8 * R
    return out, inside, covered[0]


def _grey(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(float) @ np.array([0.299, 0.587, 0.114])


# ---------------------------------------------------------------- the older profiles are unchanged


@pytest.mark.parametrize("name", OLD_PROFILES)
def test_old_profiles_switch_pens_and_colour_response_off(name):
    p = PROFILES[name]
    assert p.pen_model is False and p.p_ink_sheet == 0
    assert not p.colour_response
    assert (p.response_gain, p.response_gamma, p.response_black) == (
        (1.0, 1.0, 1.0),
        (1.0, 1.0, 1.0),
        (0.0, 0.0, 0.0),
    )


def test_standard_truth_is_pencil_only(tmp_path, quiz):
    truth = simulate_session(quiz, 3, 8, tmp_path)
    for sheet in truth["sheets"].values():
        assert sheet["ink"] is False and sheet["ink_use"] == "none" and sheet["ink_pen"] is None
        assert sheet["pencil"] in ("HB", "2B") and sheet["writing_pen"] == sheet["pencil"]
        assert sheet["hand"] is None and sheet["scan"]["response"] is None
        assert {m["medium"] for m in sheet["marks"]} == {"pencil"}
        assert {m["pen"] for m in sheet["marks"]} == {sheet["pencil"]}


# ---------------------------------------------------------------- profiles


def test_ink_profiles_exist_with_their_scanners():
    ink, b, standard = PROFILES["ink"], PROFILES["ink-scanner-b"], PROFILES["standard"]
    assert ink.pen_model and ink.p_ink_sheet == 0.3 and ink.p_colour == 1.0
    assert set(ink.dpi_choices) <= set(range(200, 301)) and ink.jpeg_quality == (80, 95)
    for knob in ("ability", "p_blank", "p_double", "p_group_none", "p_group_double", "p_partial"):
        assert getattr(ink, knob) == getattr(standard, knob), knob  # the standard students
    assert set(ink.ink_pens) == set(INK_PENS) and len(ink.ink_weights) == len(INK_PENS)
    assert not ink.colour_response and b.colour_response
    # scanner b is the same room with another scanner: only its colour response differs
    differs = {
        f.name for f in dataclasses.fields(Profile) if getattr(ink, f.name) != getattr(b, f.name)
    }
    assert differs == {
        "name",
        "response_gain",
        "response_gamma",
        "response_black",
        "response_saturation",
        "response_jitter",
    }
    assert b.response_gain[0] > b.response_gain[2] and b.response_black[0] > b.response_black[2]
    assert b.response_saturation < 1.0


@pytest.mark.parametrize("cls", [Profile, Pen])
def test_every_field_is_documented(cls):
    documented = set(re.findall(r"\w+", cls.__doc__))
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in documented]
    assert missing == []


def test_pen_catalogue():
    assert {p.name for p in PENS} == PEN_NAMES
    for pen in PENS:
        assert pen.medium in ("pencil", "ink")
        assert max(pen.absorbance) == 1.0 and min(pen.absorbance) >= 0
        assert 0 < pen.density[0] <= pen.density[1] < 1
    graphite = [p for p in PENS if p.medium == "pencil"]
    assert {p.name for p in graphite} == {"HB", "2B"}
    assert all(p.absorbance == (1.0, 1.0, 1.0) and p.sheen > 0 for p in graphite)
    hb, b2 = pen_by_name(PENS, "HB"), pen_by_name(PENS, "2B")
    assert hb.density[0] == pytest.approx(0.45) and b2.density[1] == pytest.approx(0.85)
    assert hb.density[0] < b2.density[0] and hb.density[1] < b2.density[1]
    black = pen_by_name(PENS, "black-ballpoint")
    assert black.density == (0.85, 0.95)
    with pytest.raises(KeyError, match="no pen 'pen'"):
        pen_by_name(PENS, "pen")


# ---------------------------------------------------------------- who writes with what (no pixels)


def test_ink_sheets_follow_the_profile_rates(quiz):
    p = PROFILES["ink"]
    n = 600
    rng = np.random.default_rng([5, SESSION_STREAM])
    roster = make_roster(quiz, n, rng, p)
    exam = make_exam(quiz, rng, p, name="rates")
    # the plans of a 600-sheet ink session, seed 5, without drawing a pixel
    maker = SheetMaker(quiz, p, 5, exam, roster, blank=np.zeros((1, 1), np.uint8))
    plans = [maker.plan(i) for i in range(n)]
    inked = [pl for pl in plans if pl.ink_use != "none"]
    assert 0.25 < len(inked) / n < 0.35
    assert {pl.ink_pen for pl in inked} <= set(INK_PENS) and len({pl.ink_pen for pl in inked}) >= 6
    uses = Counter(pl.ink_use for pl in inked)
    assert set(uses) == {"answers", "all", "corrections"}
    assert 0.2 < uses["corrections"] / len(inked) < 0.4
    for pl in plans:
        pencil = pen_by_name(p.pens, pl.pencil)
        assert pencil.medium == "pencil" and 0 <= pl.hand <= 1
        for m in pl.marks:
            pen = pen_by_name(p.pens, m.pen)
            lo, hi = pen.density
            assert lo - 0.15 <= m.darkness <= hi + 0.15, (m.pen, m.darkness)
            assert m.pen in (pl.pencil, pl.ink_pen)
        inks = [m for m in pl.marks if m.pen == pl.ink_pen]
        answers = [m for m in pl.marks if m.field in quiz.answer_blocks]
        others = [m for m in pl.marks if m.field not in quiz.answer_blocks]
        if pl.ink_use == "none":
            assert inks == [] and pl.writing_pen == pl.pencil and not pl.ink
        elif pl.ink_use == "corrections":
            assert 1 <= len(inks) <= 3 and all(m.field in quiz.answer_blocks for m in inks)
            assert pl.writing_pen == pl.pencil
        elif pl.ink_use == "answers":
            assert inks == answers and all(m.pen == pl.pencil for m in others)
        else:
            assert inks == list(pl.marks) and pl.writing_pen == pl.ink_pen
        assert pl.ink is (pl.ink_use != "none" and (bool(inks) or pl.writing_pen == pl.ink_pen))


# ---------------------------------------------------------------- drawn colours and textures


def test_blue_red_and_green_ink_show_their_colour():
    for name, channel in (("blue-ballpoint", 2), ("blue-gel", 2), ("red-ballpoint", 0)):
        out, inside, _ = _fill(name)
        mean = out[inside].astype(float).mean(axis=0)
        others = [mean[c] for c in range(3) if c != channel]
        assert mean[channel] > max(others) + 50, (name, mean)
    out, inside, _ = _fill("green-ballpoint")
    r, g, b = out[inside].astype(float).mean(axis=0)
    assert g > max(r, b) + 40


@pytest.mark.parametrize("name", ["HB", "2B"])
def test_graphite_is_neutral_grey(name):
    out, inside, covered = _fill(name)
    px = out[inside].astype(float)
    assert np.abs(px[:, 0] - px[:, 2]).max() <= 1 and np.abs(px[:, 0] - px[:, 1]).max() <= 1
    assert covered > 0.95
    # share of light taken: the pen's darkness on average, give or take the grain and sheen
    taken = 1 - px.mean() / 250
    assert taken == pytest.approx(np.mean(pen_by_name(PENS, name).density), abs=0.06)


def test_black_ballpoint_is_darker_than_hb_and_has_a_blue_violet_cast():
    hb = []
    for s in range(4):
        out, inside, _ = _fill("HB", seed=s)
        hb.append(_grey(out)[inside].mean())
    black = []
    for s in range(4):
        out, inside, _ = _fill("black-ballpoint", seed=s)
        black.append(_grey(out)[inside].mean())
        r, g, b = out[inside].astype(float).mean(axis=0)
        assert b > g + 3 and r > g and max(r, g, b) < 60  # dark, bluish-violet, not coloured
    assert max(black) < min(hb) - 30


def test_graphite_is_grainy_and_ink_smooth():
    def spread(name, seed=1):
        out, inside, _ = _fill(name, seed=seed)
        return _grey(out)[inside].std()

    def roughness(name, seed):
        """Spread of the step from one pixel to the next: grain, not strokes."""
        out, inside, _ = _fill(name, seed=seed)
        both = inside[:, 1:] & inside[:, :-1]
        return np.diff(_grey(out), axis=1)[both].std()

    for pencil in ("HB", "2B"):
        assert spread(pencil) > 10
        assert spread(pencil) > 5 * spread("black-gel")
        for seed in range(3):
            for ballpoint in ("blue-ballpoint", "black-ballpoint"):
                assert roughness(pencil, seed) > 2 * roughness(ballpoint, seed)
    assert spread("black-gel") < 2 and spread("felt-tip") < 2


def test_ballpoint_fill_shows_parallel_strokes():
    out, inside, _ = _fill("black-ballpoint", seed=3)
    grey = _grey(out)
    spectrum = np.abs(np.fft.fft2(np.where(inside, grey - grey[inside].mean(), 0.0)))
    spectrum[0, 0] = 0
    # stroke spacing 0.28-0.42 mm is 3.3-5 px: the energy peaks at that period
    fy = np.fft.fftfreq(90)[:, None]
    fx = np.fft.fftfreq(90)[None, :]
    period = 1 / np.maximum(np.hypot(fx, fy), 1e-9)
    peak = period[np.unravel_index(np.argmax(spectrum), spectrum.shape)]
    assert 2.5 < peak < 7


def test_graphite_sheen_leaves_lighter_specks():
    out, inside, _ = _fill("2B", darkness=0.85, grain=0.0)
    grey = _grey(out)[inside]
    # a flat 0.85 fill is 37.5 grey; shining specks come back well lighter
    assert np.median(grey) < 60 and (grey > 80).sum() >= 3


def test_felt_tip_bleeds_a_little_beyond_the_stroke_and_gel_does_not():
    yy, xx = np.mgrid[:90, :90]
    dist = np.hypot(xx - 45, yy - 45)
    ring = (dist > R + 1.5) & (dist < R + 3.5)
    far = dist > 1.12 * R + 3
    felt, _, _ = _fill("felt-tip")
    gel, _, _ = _fill("black-gel")
    assert _grey(felt)[ring].mean() < _grey(gel)[ring].mean() - 10
    assert (felt[far] == 250).all() and (gel[far] == 250).all()


def test_ink_symbols_draw_in_colour():
    page = np.full((90, 90, 3), 250, dtype=np.uint8)
    pen = pen_by_name(PENS, "red-ballpoint")
    out, covered = draw_symbols(
        page,
        np.array([[45.0, 45.0]]),
        R,
        kinds=["cross"],
        darkness=np.array([0.85]),
        rng=np.random.default_rng(0),
        width=4.0,
        pens=[pen],
    )
    red = (out[..., 0].astype(int) - out[..., 1]) > 60
    assert 0.05 < covered[0] < 0.6 and red.sum() > 50


def test_pens_need_an_rng_and_pages_are_grey_or_rgb():
    with pytest.raises(ValueError, match="needs an rng"):
        draw_marks(
            np.full((60, 60, 3), 250, np.uint8),
            np.array([[30.0, 30.0]]),
            R / 2,
            darkness=np.array([0.8]),
            coverage=np.array([1.0]),
            pens=[PENS[0]],
        )
    with pytest.raises(ValueError, match="page must be"):
        draw_marks(np.zeros((10, 10, 4), np.uint8), np.zeros((0, 2)), R, darkness=[], coverage=[])


# ---------------------------------------------------------------- the scanner


def _params(**kw) -> ScanParams:
    return scan_params(**({"colour": "colour", "paper_white": 250.0, "jpeg_quality": 90} | kw))


def _a4_with_blob(pen_name: str, x_mm: float = 50, y_mm: float = 60) -> np.ndarray:
    page = np.full((3508, 2480, 3), 255, dtype=np.uint8)
    k = 300 / 25.4
    out, _ = draw_marks(
        page,
        np.array([[x_mm * k - 0.5, y_mm * k - 0.5]]),
        R,
        darkness=np.array([0.85]),
        coverage=np.array([1.0]),
        rng=np.random.default_rng(0),
        pens=[pen_by_name(PENS, pen_name)],
    )
    return out


def _blob_mean(scan: np.ndarray, x_mm: float = 50, y_mm: float = 60) -> np.ndarray:
    k = 150 / 25.4
    x, y = round(x_mm * k), round(y_mm * k)
    return scan[y - 4 : y + 5, x - 4 : x + 5].reshape(-1, *scan.shape[2:]).astype(float).mean(0)


def test_grey_scan_of_an_ink_sheet_has_no_colour_and_one_bit_loses_it():
    page = _a4_with_blob("blue-ballpoint")
    colour = scan_page(page, _params(), page_mm=A4_MM)
    grey = scan_page(page, _params(colour="grey"), page_mm=A4_MM)
    assert colour.ndim == 3 and grey.shape == colour.shape[:2]
    r, g, b = _blob_mean(colour)
    assert b > r + 50 and b > g + 50
    # the grey scanner sees the luminance of the colour
    assert _blob_mean(grey) == pytest.approx(_grey(np.array([[r, g, b]]))[0], abs=3)
    white = to_bilevel(grey, threshold=140)
    assert white.dtype == bool and white.ndim == 2


def test_colour_scan_tints_the_paper_of_an_ink_sheet_as_of_a_grey_one():
    tint = (1.0, 0.97, 0.9)
    page = _a4_with_blob("HB")
    rgb = scan_page(page, _params(tint=tint), page_mm=A4_MM)
    # graphite is neutral: any channel is the grey page
    ref = scan_page(np.ascontiguousarray(page[..., 0]), _params(tint=tint), page_mm=A4_MM)
    assert np.abs(rgb.astype(int) - ref).max() <= 1


def test_colour_response_casts_and_desaturates():
    img = np.array([[[245.0, 245.0, 245.0], [40.0, 60.0, 160.0]]], dtype=np.float32)
    identity = Response((1.0, 1.0, 1.0), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), 1.0)
    assert np.allclose(apply_response(img, identity), img, atol=1e-3)
    b = PROFILES["ink-scanner-b"]
    warm = Response(b.response_gain, b.response_gamma, b.response_black, b.response_saturation)
    paper, ink = apply_response(img, warm)[0]
    assert paper[0] > paper[1] + 5 and paper[1] > paper[2] + 10  # a warm paper
    chroma = img[0, 1].max() - img[0, 1].min()
    assert ink.max() - ink.min() < 0.8 * chroma  # washed-out colour
    grey = apply_response(img[..., 0], warm)
    assert grey.shape == (1, 2) and grey[0, 0] < 245


def test_a_scanner_with_a_response_records_it_and_others_do_not(tmp_path, quiz):
    truth = simulate_session(quiz, 2, 4, tmp_path / "b", profile="ink-scanner-b")
    for sheet in truth["sheets"].values():
        response = sheet["scan"]["response"]
        assert response is not None and response["saturation"] == 0.7
        assert response["gain"][0] > response["gain"][2]


# ---------------------------------------------------------------- ink sessions


@pytest.fixture(scope="module")
def ink_session(tmp_path_factory, quiz):
    out = tmp_path_factory.mktemp("ink")
    truth = simulate_session(quiz, 8, 2, out, profile="ink")
    return out, truth


def test_ink_session_truth_records_every_mark_medium_and_pen(ink_session, quiz):
    _, truth = ink_session
    sheets = list(truth["sheets"].values())
    assert any(s["ink"] for s in sheets) and not all(s["ink"] for s in sheets)
    for s in sheets:
        assert s["pencil"] in ("HB", "2B") and 0 <= s["hand"] <= 1
        assert s["scan"]["colour"] == "colour" and 200 <= s["scan"]["dpi"] <= 300
        assert 80 <= s["scan"]["jpeg_quality"] <= 95
        for m in s["marks"]:
            assert m["pen"] in PEN_NAMES
            assert m["medium"] == ("pencil" if m["pen"] in ("HB", "2B") else "ink")
            assert m["pen"] in (s["pencil"], s["ink_pen"])
        inks = [m for m in s["marks"] if m["medium"] == "ink"]
        assert s["ink"] is bool(inks or s["writing_pen"] == s["ink_pen"])
        if s["ink"]:
            assert s["ink_pen"] in INK_PENS and s["ink_use"] in ("answers", "all", "corrections")
            assert {m["pen"] for m in inks} == {s["ink_pen"]}
        else:
            assert s["ink_use"] == "none" and s["ink_pen"] is None


def test_ink_session_is_deterministic(ink_session, quiz, tmp_path):
    out, _ = ink_session
    simulate_session(quiz, 8, 2, tmp_path, profile="ink")
    for name in ("truth.json", "exam.yaml", "roster.csv", "scans/stack.pdf"):
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_ink_shows_in_the_scanned_stack(ink_session, quiz):
    out, truth = ink_session
    doc = pdfium.PdfDocument(out / "scans" / "stack.pdf")
    n_blue = 0
    try:
        for page_no, sheet in enumerate(truth["sheets"].values()):
            full = [m for m in sheet["marks"] if m["coverage"] > 0.85]
            blue = [m for m in full if m["pen"] in ("blue-ballpoint", "blue-gel")]
            pencil = [m for m in full if m["medium"] == "pencil"]
            image = next(doc[page_no].get_objects()).get_bitmap().to_pil()
            rgb = np.asarray(image.convert("RGB")).astype(float)
            m = placement_matrix(_scan_params(sheet["scan"]), (quiz.page.width, quiz.page.height))
            for marks, bluish in ((blue, True), (pencil[:10], False)):
                for mark in marks:
                    f = quiz.layout.fields[mark["field"]]
                    bubble = f.index[mark["item"], f.option_labels.index(mark["option"])]
                    x, y = m[:, :2] @ quiz.layout.centers_xy[bubble] + m[:, 2]
                    r, g, b = (
                        rgb[round(y) - 2 : round(y) + 3, round(x) - 2 : round(x) + 3]
                        .reshape(-1, 3)
                        .mean(0)
                    )
                    assert bool(b - r > 30) is bluish, (mark, (r, g, b))
                    n_blue += bluish
    finally:
        doc.close()
    assert n_blue >= 2


def _scan_params(scan: dict) -> ScanParams:
    return _params(
        dpi=scan["dpi"],
        rotation_deg=scan["rotation_deg"],
        shift_mm=tuple(scan["shift_mm"]),
        scale=scan["scale"],
        upside_down=scan["upside_down"],
    )


def test_grey_ink_scans_and_every_hard_case_combine(tmp_path, quiz):
    everyone = dataclasses.replace(
        PROFILES["stress"],
        name="ink-everything",
        pen_model=True,
        p_ink_sheet=1.0,
        p_colour=0.0,
        p_photo=0.3,
        p_bilevel=0.3,
        p_tick_sheet=0.5,
        p_erasure_sheet=0.5,
        dpi_choices=(150,),
        dpi_weights=(1.0,),
    )
    profiles.PROFILES["ink-everything"] = everyone
    try:
        truth = simulate_session(quiz, 6, 3, tmp_path, profile="ink-everything")
    finally:
        del profiles.PROFILES["ink-everything"]
    scanned = {k: s for k, s in truth["sheets"].items() if s["scan"]["photo"] is None}
    assert scanned and all(s["scan"]["colour"] == "grey" for s in scanned.values())
    doc = pdfium.PdfDocument(tmp_path / "scans" / "stack.pdf")
    try:
        for i in range(len(doc)):
            image = next(doc[i].get_objects()).get_bitmap().to_pil()
            assert image.mode in ("L", "1")  # a grey scan of an ink sheet has no colour
    finally:
        doc.close()
    for s in truth["sheets"].values():
        assert s["ink"] and s["ink_pen"] in INK_PENS
        for m in s["marks"]:
            if m["kind"] in ("erasure", "stray"):
                assert m["medium"] == "pencil" and m["pen"] == s["pencil"]
    photos = sorted((tmp_path / "scans").glob("photo-*.jpg"))
    for photo in photos:
        with Image.open(io.BytesIO(photo.read_bytes())) as im:
            assert im.mode == "RGB"


# ---------------------------------------------------------------- the calibration sheet


def test_calibration_form_loads_and_renders(calibration_form):
    form = calibration_form
    assert check_geometry(form) == []
    assert list(form.answer_blocks) == list(CALIBRATION_BLOCKS)
    assert all(b.questions == 6 and len(b.options) == 4 for b in form.answer_blocks.values())
    assert len(form.group.options) == 2
    assert form.page.width == 210 and form.page.height == 297
    assert form.registration.marks == find_form("central-a4").registration.marks
    doc = pdfium.PdfDocument(render_form_pdf(form))
    try:
        assert len(doc) == 1
        text = doc[0].get_textpage().get_text_bounded()
    finally:
        doc.close()
    for english in ("HB pencil", "Blue ballpoint", "Black gel pen", "Leave empty"):
        assert english in text


@pytest.fixture(scope="module")
def calibration_scan(tmp_path_factory, calibration_form):
    out = tmp_path_factory.mktemp("cal")
    truth = simulate_calibration_scan(calibration_form, "ink-scanner-b", 1, out)
    return out, truth


def test_calibration_scan_fills_every_bubble_with_its_blocks_pen(calibration_scan):
    out, truth = calibration_scan
    assert json.loads((out / "truth.json").read_text(encoding="utf-8")) == truth
    assert sorted(p.name for p in out.iterdir()) == ["scan.pdf", "truth.json"]
    doc = pdfium.PdfDocument(out / "scan.pdf")
    try:
        assert len(doc) == 1
    finally:
        doc.close()
    filled = [b for b, spec in CALIBRATION_BLOCKS.items() if spec is not None]
    marks = truth["marks"]
    assert len(marks) == len(filled) * 6 * 4
    assert [(m["field"], m["item"], m["option"]) for m in marks] == [
        (b, i, o) for b in filled for i in range(6) for o in "ABCD"
    ]
    for m in marks:
        pen, hand = CALIBRATION_BLOCKS[m["field"]]
        assert (m["pen"], m["hand"], m["kind"]) == (pen, hand, "fill")
        assert m["medium"] == pen_by_name(PENS, pen).medium
        assert m["coverage"] > 0.85
    light = [m["darkness"] for m in marks if m["field"] == "pencil_light"]
    heavy = [m["darkness"] for m in marks if m["field"] == "pencil_heavy"]
    assert max(light) < 0.55 and min(heavy) > 0.75
    assert truth["scan"]["response"] is not None and truth["profile"] == "ink-scanner-b"


def test_calibration_scan_shows_each_pen(calibration_scan, calibration_form):
    out, truth = calibration_scan
    doc = pdfium.PdfDocument(out / "scan.pdf")
    try:
        rgb = np.asarray(next(doc[0].get_objects()).get_bitmap().to_pil()).astype(float)
    finally:
        doc.close()
    layout = calibration_form.layout
    m = placement_matrix(_scan_params(truth["scan"]), A4_MM)

    def block_rgb(name):
        xy = layout.centers_xy[layout.fields[name].index.ravel()] @ m[:, :2].T + m[:, 2]
        return np.mean(
            [rgb[round(y) - 2 : round(y) + 3, round(x) - 2 : round(x) + 3] for x, y in xy],
            axis=(0, 1, 2),
        )

    empty, blue, red = block_rgb("empty"), block_rgb("blue_ballpoint"), block_rgb("red_ballpoint")
    assert empty.min() > 180
    assert blue[2] > blue[0] + 15 and red[0] > red[1] + 60
    assert _grey(block_rgb("black_gel")[None])[0] < _grey(block_rgb("hb")[None])[0] - 40
    assert _grey(block_rgb("pencil_heavy")[None])[0] < _grey(block_rgb("pencil_light")[None])[0]


def test_calibration_scan_is_deterministic_and_seeds_differ(
    calibration_scan, calibration_form, tmp_path
):
    out, _ = calibration_scan
    simulate_calibration_scan(calibration_form, "ink-scanner-b", 1, tmp_path / "same")
    simulate_calibration_scan(calibration_form, "ink-scanner-b", 2, tmp_path / "other")
    for name in ("scan.pdf", "truth.json"):
        assert (out / name).read_bytes() == (tmp_path / "same" / name).read_bytes()
        assert (out / name).read_bytes() != (tmp_path / "other" / name).read_bytes()


def test_calibration_scan_refuses_unknown_blocks_and_profiles(tmp_path, calibration_form):
    with pytest.raises(ValueError, match="no pen is known for: course1"):
        simulate_calibration_scan(find_form("central-a4"), "ink", 1, tmp_path)
    with pytest.raises(ValueError, match="unknown profile 'nope'"):
        simulate_calibration_scan(calibration_form, "nope", 1, tmp_path)
    assert not any(tmp_path.iterdir())
