"""The harder students and scanners of the simulator: rates, truth records, pixels, files."""

from __future__ import annotations

import dataclasses
import io
import json
from collections import Counter

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageOps
from simhelpers import scan_params

from omr.forms import find_form
from omr.simulate import PROFILES, simulate_session
from omr.simulate.candidates import (
    AMBIGUOUS_KINDS,
    ANSWER_KINDS,
    make_exam,
    make_roster,
    plan_habits,
    plan_sheet,
)
from omr.simulate.marks import draw_erasures, draw_marks, draw_strokes, draw_symbols
from omr.simulate.photo import Photo, encode_photo
from omr.simulate.scanner import (
    Fold,
    ScanParams,
    Shadow,
    draw_scan_extras,
    draw_scan_params,
    fold_field,
    scan_page,
    scan_size,
    to_bilevel,
)
from omr.simulate.session import free_reach, is_photo, lost_to_threshold

NEW_KINDS = {"faint", "half", "tick", "cross", "circle", "dot", "erasure", "stray"}
NEW_SHARES = (
    "p_erasure_sheet",
    "p_faint_sheet",
    "p_half_sheet",
    "p_tick_sheet",
    "p_circle_sheet",
    "p_stray_sheet",
    "p_fold",
    "p_shadow",
    "p_bilevel",
    "p_photo",
)
NEW_SCAN_KEYS = {"fold", "shadow", "bilevel", "bilevel_threshold", "dither", "photo"}
R = 23.6  # 2 mm at 300 dpi
STEP = 6 * 300 / 25.4  # answer options are 6 mm apart


@pytest.fixture(scope="module")
def quiz():
    return find_form("quiz-a5")


@pytest.fixture(scope="module")
def central():
    return find_form("central-a4")


def _disc(shape, centre, radius):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return np.hypot(xx - centre[0], yy - centre[1]) <= radius


def _check_truth(sheet: dict, form) -> None:
    """Answer marks are exactly the answers; residue and strays are no answer."""
    expected = [("group", 0, g) for g in sheet["group_marks"]]
    for name, digits in sheet["identity"].items():
        expected += [(name, i, d) for i, d in enumerate(digits)]
    for block, answers in sheet["answers"].items():
        expected += [(block, i, o) for i, letters in enumerate(answers) for o in letters]
    marks = sheet["marks"]
    answer_marks = [m for m in marks if m["kind"] in ANSWER_KINDS]
    assert [(m["field"], m["item"], m["option"]) for m in answer_marks] == expected
    for m in marks:
        assert m["kind"] in ANSWER_KINDS + ("erasure", "stray")
        assert m.get("ambiguous", False) is (m["kind"] in AMBIGUOUS_KINDS)
        if m["kind"] in NEW_KINDS - {"erasure", "stray"}:
            assert m["field"] in form.answer_blocks
        if m["kind"] == "faint":
            assert 0.25 <= m["darkness"] <= 0.4
        if m["kind"] == "half":
            assert 0.3 <= m["coverage"] <= 0.65
        if m["kind"] == "erasure":
            assert m["option"] not in sheet["answers"][m["field"]][m["item"]]
            assert 0.04 <= m["darkness"] <= 0.25
        if m["kind"] == "stray":
            assert m["option"] is None and m["coverage"] == 0.0
            assert np.asarray(m["points_mm"]).shape[1] == 2
        if "visible" in m:  # only a thresholded 1-bit scan wipes a mark out
            assert m["visible"] is False and m["kind"] != "fill"
            assert sheet["scan"]["bilevel"] and not sheet["scan"]["dither"]
    assert set(sheet["scan"]) >= NEW_SCAN_KEYS


# ---------------------------------------------------------------- standard and demo unchanged


@pytest.mark.parametrize("name", ["standard", "demo"])
def test_old_profiles_switch_every_new_feature_off(name):
    assert all(getattr(PROFILES[name], share) == 0 for share in NEW_SHARES)
    assert all(getattr(PROFILES["stress"], share) > 0 for share in NEW_SHARES)


def test_standard_session_has_no_new_kinds(tmp_path, quiz):
    truth = simulate_session(quiz, 3, 8, tmp_path)
    assert sorted(p.name for p in (tmp_path / "scans").iterdir()) == ["stack.pdf"]
    for sheet in truth["sheets"].values():
        assert {m["kind"] for m in sheet["marks"]} == {"fill"}
        assert not any("ambiguous" in m for m in sheet["marks"])
        scan = sheet["scan"]
        assert (scan["fold"], scan["shadow"], scan["photo"]) == ([], None, None)
        assert (scan["bilevel"], scan["bilevel_threshold"], scan["dither"]) == (False, None, False)
        assert isinstance(scan["jpeg_quality"], int)


def test_new_profiles_exist_with_their_scanners():
    assert {"standard", "demo", "clean", "stress", "photo"} <= set(PROFILES)
    clean = PROFILES["clean"]
    assert set(clean.dpi_choices) <= set(range(200, 301)) and clean.p_upside_down == 0
    assert clean.rotation_max_deg <= 1.0 and clean.jpeg_quality == (85, 95)
    assert clean.p_double == PROFILES["standard"].p_double  # the same students
    stress = PROFILES["stress"]
    assert set(stress.dpi_choices) == {100, 150, 200, 300, 600}
    assert stress.jpeg_quality == (20, 90)
    assert PROFILES["photo"].p_photo == 1.0 and PROFILES["photo"].p_erasure_sheet > 0


# ---------------------------------------------------------------- rates (no pixels)


def test_student_habits_follow_the_stress_rates(quiz):
    profile = PROFILES["stress"]
    rng = np.random.default_rng(4)
    n = 800
    roster = make_roster(quiz, n, rng, profile)
    exam = make_exam(quiz, rng, profile, name="x")
    sheets_with: Counter = Counter()
    layout = quiz.layout
    for i, cand in enumerate(roster):
        plan = plan_sheet(quiz, exam, cand, np.random.default_rng([4, i]), profile)
        before = plan
        plan = plan_habits(quiz, plan, np.random.default_rng([4, i, 1]), profile)
        assert plan.answers == before.answers and len(plan.marks) == len(before.marks)
        kinds = {m.kind for m in plan.marks}
        kinds |= {"erasure"} if plan.erasures else set()
        kinds |= {"stray"} if plan.strays else set()
        for kind in kinds:
            sheets_with[{"cross": "tick", "dot": "circle"}.get(kind, kind)] += 1
        for e in plan.erasures:
            answered = plan.answers[e.field][e.item]
            assert e.option not in answered and len(answered) <= 1
        for s in plan.strays:  # no stray stroke enters a bubble
            gap = np.linalg.norm(s.points_mm[:, None] - layout.centers_xy[None], axis=-1)
            assert (gap - layout.radius).min() >= 0.3
    rates = {k: v / n for k, v in sheets_with.items()}
    assert rates["erasure"] == pytest.approx(0.15, abs=0.04)
    assert rates["faint"] == pytest.approx(0.05, abs=0.025)
    assert rates["half"] == pytest.approx(0.03, abs=0.02)
    assert rates["tick"] == pytest.approx(0.02, abs=0.015)
    assert rates["circle"] == pytest.approx(0.01, abs=0.01)
    assert rates["stray"] == pytest.approx(0.10, abs=0.035)
    assert all(rates[k] > 0 for k in ("erasure", "faint", "half", "tick", "circle", "stray"))


def test_scanner_troubles_follow_the_stress_rates():
    profile = PROFILES["stress"]
    n = 1000
    got = []
    for i in range(n):
        scan_rng, extra = np.random.default_rng([9, i]), np.random.default_rng([9, i, 1])
        params = draw_scan_params(profile, scan_rng)
        got.append(draw_scan_extras(params, profile, extra, page_mm=(148, 210)))
    assert np.mean([bool(g.fold) for g in got]) == pytest.approx(0.05, abs=0.02)
    assert np.mean([g.shadow is not None for g in got]) == pytest.approx(0.05, abs=0.02)
    assert np.mean([g.bilevel for g in got]) == pytest.approx(0.10, abs=0.03)
    assert {g.dpi for g in got} == {100, 150, 200, 300, 600}
    qualities = [g.jpeg_quality for g in got if not g.bilevel]
    assert min(qualities) <= 22 and max(qualities) >= 88
    for g in got:
        if g.bilevel:
            assert g.colour == "grey" and g.jpeg_quality is None
            assert 110 <= g.bilevel_threshold <= 160
        for f in g.fold:  # a crease runs from edge to edge
            ends = np.array([f.from_mm, f.to_mm])
            assert (np.isclose(ends, 0) | np.isclose(ends, (148, 210))).any(axis=1).all()
    photos = np.mean([is_photo(profile, 9, i) for i in range(n)])
    assert photos == pytest.approx(0.02, abs=0.012)
    assert all(is_photo(PROFILES["photo"], 9, i) for i in range(20))
    assert not any(is_photo(PROFILES["standard"], 9, i) for i in range(20))


# ---------------------------------------------------------------- pencil pixels


def test_erasure_residue_darkens_much_less_than_a_fill():
    white = np.full((240, 240), 255, np.uint8)
    centre = np.array([[120.0, 120.0]])
    inner = _disc(white.shape, centre[0], R)
    pencil = 0.8
    fill, _ = draw_marks(white, centre, R, darkness=[pencil], coverage=[1.0])
    residue, covered = draw_erasures(
        white,
        centre,
        R,
        darkness=[0.25 * pencil],  # the darkest residue (strength 0.25)
        size=[1.5],
        streaks=[0.6],
        rng=np.random.default_rng(0),
        reach=1.6,
        grain=0.3,
    )
    loss_fill = 1 - fill[inner].mean() / 255
    loss_residue = 1 - residue[inner].mean() / 255
    assert loss_fill == pytest.approx(pencil, abs=0.02)
    assert loss_residue == pytest.approx(0.25 * pencil, rel=0.3)
    assert loss_residue < 0.35 * loss_fill
    assert covered[0] > 0.8
    # irregular and streaked, larger than the bubble, but never past its reach
    assert residue[inner].std() > 5
    touched = residue < 250
    assert (touched & ~_disc(white.shape, centre[0], 1.05 * R)).sum() > 200
    assert not (touched & ~_disc(white.shape, centre[0], 1.6 * R + 2)).any()


@pytest.mark.parametrize(
    "kind, lo, hi",
    [("tick", 0.04, 0.45), ("cross", 0.08, 0.5), ("circle", 0, 0.05), ("dot", 0.02, 0.2)],
)
def test_symbols_cover_little_of_the_bubble_and_spare_the_neighbours(kind, lo, hi):
    centres = np.array([[150.0, 150.0], [150.0 + STEP, 150.0], [150.0 - STEP, 150.0]])
    white = np.full((300, 300), 255, np.uint8)
    for seed in range(5):
        out, covered = draw_symbols(
            white,
            centres[:1],
            R,
            kinds=[kind],
            darkness=[0.9],
            rng=np.random.default_rng(seed),
            width=5.0,
            reach=1.7,
        )
        assert lo <= covered[0] <= hi, (seed, covered[0])
        for c in centres[1:]:
            assert out[_disc(out.shape, c, R)].min() == 255
        if kind == "circle":  # a ring around the bubble, not in it
            assert out[_disc(out.shape, centres[0], 0.9 * R)].min() == 255
            ring = _disc(out.shape, centres[0], 1.5 * R) & ~_disc(out.shape, centres[0], 1.15 * R)
            assert (out[ring] < 128).sum() > 150


def test_stray_strokes_are_drawn_where_planned():
    white = np.full((200, 200), 255, np.uint8)
    poly = np.array([[50.0, 100.0], [150.0, 100.0]])
    out = draw_strokes(white, [poly], darkness=[0.8], width=5.0)
    assert out[100, 60:140].max() < 60
    assert out[90:, :].min() < 255 and out[:94, :].min() == 255 and out[107:, :].min() == 255


def test_reach_keeps_pencil_out_of_the_neighbours(central, quiz):
    for form in (central, quiz):
        reach = free_reach(form)
        layout = form.layout
        answers = np.concatenate([layout.fields[b].index.ravel() for b in form.answer_blocks])
        assert reach[answers].min() >= 1.6  # room for circles and smears around answers
        digits = layout.fields["student_number"].index.ravel()
        assert reach[digits].max() < 1.4


# ---------------------------------------------------------------- scanner pixels


def _params(**kw) -> ScanParams:
    return scan_params(**({"paper_white": 240.0} | kw))


def test_fold_darkens_a_line_and_shades_one_side():
    fold = Fold((0.0, 100.0), (148.0, 100.0), 0.2, 0.04, 0.4, 0.05, 20.0, 1)
    field = fold_field((2100, 1480), (0.1, 0.1), (fold,))
    col = field[:, 700]
    assert col[999] == pytest.approx(0.8, abs=0.02)  # the crease, y = 99.95 mm
    assert col[500] == pytest.approx(1.0, abs=1e-4)  # far on the unshaded side
    # the left-hand normal of a line running +x points to +y (down): that side is shaded
    assert col[1050] < 0.97 and col[1900] > 0.99
    assert col[985] > 1.0  # the ridge catches light on the other side


def test_shadow_darkens_the_chosen_edge():
    page = np.full((2480, 1748), 255, np.uint8)
    scan = scan_page(page, _params(shadow=Shadow("right", 0.4, 10.0)), page_mm=(148, 210))
    assert scan[500, -1] == pytest.approx(240 * 0.6, abs=2)
    assert scan[500, 0] == pytest.approx(240, abs=1)
    assert scan[500, -1] < scan[500, -30] < scan[500, -100] <= scan[500, 400]


@pytest.mark.parametrize("dither", [False, True])
def test_bilevel_scan_has_two_values_and_keeps_marks(dither):
    page = np.full((2480, 1748), 255, np.uint8)
    page[1000:1050, 800:850] = 60  # a fill
    page[1200:1250, 800:850] = 225  # erasure residue
    scan = scan_page(
        page, _params(noise_sigma=3.0), page_mm=(148, 210), rng=np.random.default_rng(1)
    )
    white = to_bilevel(scan, threshold=140.0, dither=dither)
    assert white.dtype == bool and white.shape == scan.shape
    assert set(np.unique(white)) == {False, True}
    k = 150 / 300
    fill = white[round(1005 * k) : round(1045 * k), round(805 * k) : round(845 * k)]
    assert fill.mean() < (0.3 if dither else 0.01)  # dithered: a grey of 60 is 1 dot in 4 white
    residue = white[round(1205 * k) : round(1245 * k), round(805 * k) : round(845 * k)]
    assert residue.mean() > (0.8 if dither else 0.98)  # residue all but vanishes
    assert white[50:400, 50:400].mean() > 0.98  # paper stays white, dithered or not


def test_marks_lost_to_a_threshold_are_told_apart():
    bilevel = _params(paper_white=240.0, noise_sigma=2.0, bilevel=True, bilevel_threshold=140.0)
    # residue: 240 (1 - 0.15 * 1.2) - 4 = 193 stays white; a fill at 0.7 turns black
    assert lost_to_threshold(0.15, bilevel, 0.2)
    assert not lost_to_threshold(0.7, bilevel, 0.2)
    assert not lost_to_threshold(0.35, bilevel, 0.3)  # its darkest specks cross: 240 * 0.545 - 4
    assert not lost_to_threshold(0.15, dataclasses.replace(bilevel, dither=True), 0.2)
    assert not lost_to_threshold(0.15, _params(), 0.2)


# ---------------------------------------------------------------- whole sessions


@pytest.fixture(scope="module")
def heavy(tmp_path_factory, quiz):
    """Every feature on most sheets (a test-only profile), one PDF and one TIFF session."""
    PROFILES["heavy-test"] = dataclasses.replace(
        PROFILES["stress"],
        name="heavy-test",
        p_erasure_sheet=0.8,
        p_faint_sheet=0.5,
        p_half_sheet=0.5,
        p_tick_sheet=0.5,
        p_circle_sheet=0.5,
        p_stray_sheet=0.8,
        p_fold=0.5,
        p_shadow=0.5,
        p_bilevel=0.5,
        p_photo=0.25,
        dpi_choices=(100, 150),
        dpi_weights=(0.5, 0.5),
    )
    try:
        runs = {}
        for fmt in ("pdf", "tiff"):
            out = tmp_path_factory.mktemp(f"heavy-{fmt}")
            # the PDF run holds every feature; the TIFF run, a bilevel page among grey ones
            n, seed, per_file = (8, 20, 3) if fmt == "pdf" else (3, 2, None)
            truth = simulate_session(
                quiz, n, seed, out, profile="heavy-test", image_format=fmt, per_file=per_file
            )
            runs[fmt] = (out, truth)
    finally:
        del PROFILES["heavy-test"]
    return runs


def test_every_feature_is_recorded_in_the_truth(heavy, quiz):
    out, truth = heavy["pdf"]
    assert json.loads((out / "truth.json").read_text(encoding="utf-8")) == truth
    sheets = truth["sheets"]
    kinds = Counter(m["kind"] for s in sheets.values() for m in s["marks"])
    assert NEW_KINDS | {"fill"} <= set(kinds), kinds
    scans = [s["scan"] for s in sheets.values()]
    assert any(s["fold"] for s in scans) and any(s["shadow"] for s in scans)
    assert any(s["bilevel"] for s in scans) and any(s["photo"] for s in scans)
    for sheet in sheets.values():
        _check_truth(sheet, quiz)


def test_photos_leave_the_stack_and_the_stack_splits_by_scanned_sheets(heavy):
    out, truth = heavy["pdf"]
    ids = list(truth["sheets"])
    photos = [i for i in ids if i.startswith("photo-")]
    scanned = [i for i in ids if not i.startswith("photo-")]
    assert photos == [f"photo-{n:04d}.jpg:1" for n in range(1, len(photos) + 1)]
    assert all(truth["sheets"][i]["scan"]["photo"] for i in photos)
    expected = [f"stack-{1 + n // 3:02d}.pdf:{1 + n % 3}" for n in range(len(scanned))]
    assert scanned == expected  # three scanned sheets per file, photos left out
    files = sorted(p.name for p in (out / "scans").iterdir())
    stacks = sorted({i.split(":")[0] for i in scanned})
    assert files == sorted(stacks + [i.split(":")[0] for i in photos])
    for name in stacks:
        doc = pdfium.PdfDocument(out / "scans" / name)
        assert len(doc) == sum(i.startswith(name) for i in scanned)
        doc.close()


def _stack_pages(out, truth):
    """(sheet scan params, page image as stored) of every scanned (not photographed) sheet."""
    pages = []
    for sheet_id, sheet in truth["sheets"].items():
        name, number = sheet_id.split(":")
        if name.startswith("photo-"):
            continue
        path, index = out / "scans" / name, int(number) - 1
        if path.suffix == ".pdf":
            doc = pdfium.PdfDocument(path)
            image = list(doc[index].get_objects())[0].get_bitmap(render=False).to_pil()
            doc.close()
        else:
            with Image.open(path) as tif:
                tif.seek(index)
                image = tif.copy()
                image.info["compression"] = tif.info["compression"]
        pages.append((sheet["scan"], image))
    return pages


def test_bilevel_pages_hold_two_grey_values(heavy):
    for fmt, (out, truth) in heavy.items():
        pages = _stack_pages(out, truth)
        assert any(scan["bilevel"] for scan, _ in pages) and not all(s["bilevel"] for s, _ in pages)
        for scan, image in pages:
            gray = np.asarray(image.convert("L"))
            assert gray.shape == scan_size((148, 210), scan["dpi"])[::-1]
            if scan["bilevel"]:
                assert set(np.unique(gray)) == {0, 255}
                if fmt == "tiff":
                    assert image.mode == "1" and image.info["compression"] == "group4"
            else:
                assert len(np.unique(gray)) > 20
                if fmt == "tiff":
                    assert image.info["compression"] == "tiff_lzw"


@pytest.fixture(scope="module")
def photos(tmp_path_factory, quiz):
    out = tmp_path_factory.mktemp("photo")
    return out, simulate_session(quiz, 3, 7, out, profile="photo")  # orientations 6, 1, 8


def test_photo_session_writes_one_jpeg_per_sheet(photos, quiz):
    out, truth = photos
    names = sorted(p.name for p in (out / "scans").iterdir())
    assert names == [f"photo-{i:04d}.jpg" for i in range(1, 4)]
    assert list(truth["sheets"]) == [f"photo-{i:04d}.jpg:1" for i in range(1, 4)]
    orientations = set()
    for sheet_id, sheet in truth["sheets"].items():
        _check_truth(sheet, quiz)
        photo = sheet["scan"]["photo"]
        assert sheet["scan"]["colour"] == "colour"
        with Image.open(out / "scans" / sheet_id.split(":")[0]) as im:
            assert im.format == "JPEG"
            orientation = im.getexif().get(0x0112, 1)
            assert orientation == photo["exif_orientation"]
            orientations.add(orientation)
            upright = np.asarray(ImageOps.exif_transpose(im).convert("RGB")).astype(float)
        fw, fh = photo["frame_px"]
        assert upright.shape == (fh, fw, 3) and fh > fw
        corners = np.asarray(photo["corners_px"])
        # the sheet sits inside the frame: the desk shows at every image corner
        assert (corners > 0.015 * fw).all() and (corners < np.array([fw, fh]) * 0.99).all()
        assert not np.allclose(
            corners, [[0, 0], [fw - 1, 0], [fw - 1, fh - 1], [0, fh - 1]], atol=20
        )
        centre = upright[fh // 2 - 20 : fh // 2 + 20, fw // 2 - 20 : fw // 2 + 20].mean(axis=(0, 1))
        for y, x in ((0, 0), (0, fw - 10), (fh - 10, 0), (fh - 10, fw - 10)):
            desk = upright[y : y + 10, x : x + 10].mean(axis=(0, 1))
            assert np.abs(desk - np.asarray(photo["desk_rgb"])).max() < 90
            assert np.abs(desk - centre).max() > 15 or desk.mean() < centre.mean() - 15
        # the recorded homography puts the registration marks on dark pixels
        shot = Photo(
            **{
                k: tuple(map(tuple, v))
                if k == "corners_px"
                else tuple(v)
                if isinstance(v, list)
                else v
                for k, v in photo.items()
            }
        )
        h = shot.homography((148, 210))
        grey = upright.mean(axis=2)
        for mx, my in quiz.registration.marks:
            p = h @ [mx, my, 1.0]
            x, y = np.rint(p[:2] / p[2]).astype(int)
            assert grey[y - 2 : y + 3, x - 2 : x + 3].mean() < 90
    assert orientations == {1, 6, 8}


@pytest.mark.parametrize("orientation", [1, 6, 8])
def test_exif_orientation_is_honoured_by_exif_transpose(orientation):
    upright = np.zeros((80, 60, 3), np.uint8)
    upright[:20, :30] = 255  # a white block at the top left
    photo = Photo(
        (60, 80),
        ((5, 5), (55, 5), (55, 75), (5, 75)),
        orientation,
        1,
        (0, 0),
        0,
        (0, 0, 0),
        0,
        0,
        0,
        0,
        95,
    )
    with Image.open(io.BytesIO(encode_photo(upright, photo))) as im:
        assert im.size == ((60, 80) if orientation == 1 else (80, 60))
        back = np.asarray(ImageOps.exif_transpose(im))
    assert back.shape == upright.shape
    assert back[:15, :25].mean() > 230 and back[30:, 35:].mean() < 25


# ---------------------------------------------------------------- stress sessions, both forms


@pytest.fixture(scope="module")
def stress_quiz(tmp_path_factory, quiz):
    out = tmp_path_factory.mktemp("stress-quiz")
    return out, simulate_session(quiz, 6, 5, out, profile="stress")


def test_stress_session_on_both_forms(stress_quiz, central, quiz, tmp_path):
    out, truth = stress_quiz
    assert truth["profile"] == "stress" and len(truth["sheets"]) == 6
    for sheet in truth["sheets"].values():
        _check_truth(sheet, quiz)
    truth_a4 = simulate_session(central, 2, 5, tmp_path, profile="stress")
    assert len(truth_a4["sheets"]) == 2
    for sheet in truth_a4["sheets"].values():
        _check_truth(sheet, central)
        assert set(sheet["answers"]) == {"course1", "course2", "course3", "course4"}


def test_new_profiles_are_deterministic(stress_quiz, photos, quiz, tmp_path):
    for (out, truth), profile, n, seed in ((stress_quiz, "stress", 6, 5), (photos, "photo", 3, 7)):
        again = tmp_path / profile
        assert simulate_session(quiz, n, seed, again, profile=profile, jobs=2) == truth
        files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
        for name in files:
            assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_miscoded_groups_are_recorded_and_follow_the_real_booklet(tmp_path):
    import dataclasses

    from omr.simulate import profile as profiles

    everyone = dataclasses.replace(
        profiles.PROFILES["standard"], name="miscode", p_group_miscoded=1.0
    )
    profiles.PROFILES["miscode"] = everyone
    try:
        truth = simulate_session(find_form("quiz-a5"), 6, 5, tmp_path / "s", profile="miscode")
    finally:
        del profiles.PROFILES["miscode"]
    for sheet in truth["sheets"].values():
        if len(sheet["group_marks"]) == 1:
            assert sheet["miscoded_group"] is True
            assert sheet["group_marks"] != sheet["intended_group"]
            assert sheet["status"] == "scored"  # article 7.6: the coded group is binding
        else:
            assert sheet["miscoded_group"] is False


def test_black_in_bubble_counts_only_the_middle_of_the_bubble():
    from simhelpers import scan_params

    from omr.simulate.session import black_in_bubble

    params = scan_params(dpi=254)  # 10 px per mm, no turn, no shift
    white = np.ones((300, 300), bool)
    centre = np.array([10.0, 10.0])  # pixel (99.5, 99.5)
    assert black_in_bubble(white, params, (30.0, 30.0), centre, 2.0) == 0
    white[95:105, 95:105] = False  # a 1 mm black dot in the middle: 100 pixels
    assert black_in_bubble(white, params, (30.0, 30.0), centre, 2.0) == 100
    white[:] = True
    white[99, 80] = False  # on the outline (2 mm out): not where a reader looks
    assert black_in_bubble(white, params, (30.0, 30.0), centre, 2.0) == 0
    white[99, 80] = True
    # 0.68 radii out (13.6 px): inside the reader's 0.72, but a pixel's placement
    # from the printed outline's remains: not counted as the mark's.
    white[99, 86] = False
    assert black_in_bubble(white, params, (30.0, 30.0), centre, 2.0) == 0
    white[99, 89] = False  # 0.53 radii out: counted
    assert black_in_bubble(white, params, (30.0, 30.0), centre, 2.0) == 1
