"""The exam-session simulator: determinism, valid outputs, truth consistency, pixels."""

from __future__ import annotations

import csv
import json

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image
from simhelpers import scan_params

from omr.exam import check_exam_against_form, load_exam
from omr.forms import find_form
from omr.simulate import PROFILES, simulate_session
from omr.simulate.candidates import make_national_id, national_id_check_digits
from omr.simulate.marks import MarkShape, draw_marks
from omr.simulate.scanner import placement_matrix, scan_page, scan_size

A4_MM = (210.0, 297.0)
A4_PT = (210 / 25.4 * 72, 297 / 25.4 * 72)


def tc_kimlik_ok(s: str) -> bool:
    """Turkish national ID checksum, written independently of the simulator."""
    if len(s) != 11 or not s.isdigit() or s[0] == "0":
        return False
    d = list(map(int, s))
    odd = d[0] + d[2] + d[4] + d[6] + d[8]
    even = d[1] + d[3] + d[5] + d[7]
    return (odd * 7 - even) % 10 == d[9] and sum(d[:10]) % 10 == d[10]


@pytest.fixture(scope="module")
def central():
    return find_form("central-a4")


@pytest.fixture(scope="module")
def session(tmp_path_factory, central):
    out = tmp_path_factory.mktemp("central")
    truth = simulate_session(central, 5, 11, out)
    return out, truth


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_identical_files_and_any_jobs_count(tmp_path, central, session):
    out1, _ = session
    out2 = tmp_path / "again"
    simulate_session(central, 5, 11, out2, jobs=2)
    for name in ("truth.json", "exam.yaml", "roster.csv", "scans/stack.pdf"):
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes(), name


def test_different_seed_gives_different_session(tmp_path, central, session):
    out1, _ = session
    out2 = tmp_path / "other"
    simulate_session(central, 5, 12, out2)
    for name in ("truth.json", "exam.yaml", "roster.csv"):
        assert (out1 / name).read_bytes() != (out2 / name).read_bytes(), name


def test_returned_truth_is_the_written_truth(session):
    out, truth = session
    text = (out / "truth.json").read_text(encoding="utf-8")
    assert json.loads(text) == truth
    assert text == json.dumps(truth, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    assert {k: truth[k] for k in ("format", "form", "seed", "profile")} == {
        "format": 1,
        "form": "central-a4",
        "seed": 11,
        "profile": "standard",
    }
    assert list(truth["sheets"]) == [f"stack.pdf:{i}" for i in range(1, 6)]


# ---------------------------------------------------------------- exam and roster


def test_exam_validates_against_central_form(session, central):
    out, _ = session
    exam = load_exam(out / "exam.yaml")
    assert check_exam_against_form(exam, central) == []
    assert exam.form == "central-a4"
    assert exam.groups == ["A", "B", "C", "D"]
    assert exam.roster == "roster.csv"
    assert [c.block for c in exam.courses] == ["course1", "course2", "course3", "course4"]
    assert [c.code for c in exam.courses] == ["TUR101", "ATA101", "ING101", "BIL101"]
    assert str(exam.date) == "2026-11-14" and str(exam.announcement_date) == "2026-11-20"
    for course in exam.courses:
        assert course.questions == 20
        assert course.master_order("A") == list(range(1, 21))
        master = course.keys["A"]
        assert set(master) <= set("ABCDE")
        for g in "BCD":
            order = course.master_order(g)
            assert sorted(order) == list(range(1, 21))
            assert course.keys[g] == "".join(master[i - 1] for i in order)
        assert any(course.master_order(g) != list(range(1, 21)) for g in "BCD")


def test_roster_ids_pass_checksum_and_numbers_are_unique(session):
    out, truth = session
    with (out / "roster.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5
    assert list(rows[0]) == [
        "student_number",
        "national_id",
        "first_name",
        "last_name",
        "hall",
        "seat",
    ]
    assert all(tc_kimlik_ok(r["national_id"]) for r in rows)
    numbers = [r["student_number"] for r in rows]
    assert len(set(numbers)) == 5
    assert all(len(n) == 10 and n.isdigit() and n[0] != "0" for n in numbers)
    assert all(len(r["hall"]) == 3 and len(r["seat"]) == 3 for r in rows)
    for row, sheet in zip(rows, truth["sheets"].values(), strict=True):
        assert sheet["candidate"] == row["student_number"]
        assert sheet["identity"] == {
            k: row[k] for k in ("national_id", "student_number", "hall", "seat")
        }


def test_national_id_generator_and_check_digits():
    assert national_id_check_digits("100000001") == "46"  # 10000000146, a known valid ID
    assert tc_kimlik_ok("10000000146") and not tc_kimlik_ok("10000000147")
    rng = np.random.default_rng(0)
    ids = [make_national_id(rng) for _ in range(300)]
    assert all(tc_kimlik_ok(s) for s in ids)
    with pytest.raises(ValueError, match="nine digits"):
        national_id_check_digits("012345678")


# ---------------------------------------------------------------- truth consistency


def _status(group_marks: str) -> str:
    if group_marks == "":
        return "void:no-group"
    return "scored" if len(group_marks) == 1 else "void:multiple-groups"


def test_truth_is_consistent_with_itself(session, central):
    _, truth = session
    layout = central.layout
    for sheet in truth["sheets"].values():
        assert sheet["status"] == _status(sheet["group_marks"])
        assert sheet["intended_group"] in "ABCD"
        assert sheet["boxes"] == {"absent": False, "cancelled": False}
        assert set(sheet["answers"]) == {"course1", "course2", "course3", "course4"}
        assert all(len(a) == 20 for a in sheet["answers"].values())
        # the marks list is exactly what group_marks, identity and answers say
        expected = [("group", 0, g) for g in sheet["group_marks"]]
        for name in ("national_id", "student_number", "hall", "seat"):
            expected += [(name, i, d) for i, d in enumerate(sheet["identity"][name])]
        for block, answers in sheet["answers"].items():
            for i, letters in enumerate(answers):
                assert letters == "".join(o for o in "ABCDE" if o in letters)
                expected += [(block, i, o) for o in letters]
        marks = sheet["marks"]
        assert [(m["field"], m["item"], m["option"]) for m in marks] == expected
        for m in marks:
            assert m["medium"] == "pencil"
            assert 0.4 <= m["darkness"] <= 0.98
            assert 0.5 <= m["coverage"] <= 1.0
            assert m["option"] in layout.fields[m["field"]].option_labels
        scan = sheet["scan"]
        assert scan["dpi"] in (150, 200, 240, 300)
        assert -3 <= scan["rotation_deg"] <= 3 and 0.98 <= scan["scale"] <= 1.02
        assert all(abs(s) <= 4 for s in scan["shift_mm"])
        assert scan["colour"] in ("grey", "colour")


def test_answer_behaviour_over_many_sheets(central):
    """Blank, double and right-answer rates follow the standard profile (no pixels needed)."""
    from omr.simulate.candidates import make_exam, make_roster, plan_sheet, sheet_status

    profile = PROFILES["standard"]
    rng = np.random.default_rng(3)
    roster = make_roster(central, 400, rng, profile)
    exam = make_exam(central, rng, profile, name="x")
    answers, statuses, right = [], [], []
    for i, cand in enumerate(roster):
        plan = plan_sheet(central, exam, cand, np.random.default_rng([3, i]), profile)
        statuses.append(sheet_status(plan.group_marks))
        assert cand.group in plan.group_marks or plan.group_marks == ""
        for course in exam["courses"]:
            key = course["keys"][cand.group]
            for a, k in zip(plan.answers[course["block"]], key, strict=True):
                answers.append(a)
                if len(a) == 1:
                    right.append(a == k)
    n = len(answers)
    assert abs(sum(a == "" for a in answers) / n - 0.08) < 0.015
    assert abs(sum(len(a) == 2 for a in answers) / n - 0.04) < 0.01
    assert 0.55 < np.mean(right) < 0.7  # mean ability (0.3 + 0.95) / 2
    assert 0.85 < statuses.count("scored") / len(statuses) < 0.99


# ---------------------------------------------------------------- stacks


def test_pdf_pages_have_the_page_size_and_the_scan_resolution(session):
    out, truth = session
    doc = pdfium.PdfDocument(out / "scans" / "stack.pdf")
    try:
        assert len(doc) == 5
        for page, sheet in zip(doc, truth["sheets"].values(), strict=True):
            assert page.get_size() == pytest.approx(A4_PT, abs=0.01)
            images = [o for o in page.get_objects() if o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
            assert len(images) == 1
            w, h = images[0].get_px_size()
            dpi = sheet["scan"]["dpi"]
            assert abs(w - A4_MM[0] / 25.4 * dpi) <= 1 and abs(h - A4_MM[1] / 25.4 * dpi) <= 1
    finally:
        doc.close()


def test_tiff_stack_on_quiz_form(tmp_path):
    quiz = find_form("quiz-a5")
    truth = simulate_session(quiz, 3, 5, tmp_path, image_format="tiff")
    assert not (tmp_path / "scans" / "stack.pdf").exists()
    assert list(truth["sheets"]) == ["stack.tif:1", "stack.tif:2", "stack.tif:3"]
    with Image.open(tmp_path / "scans" / "stack.tif") as im:
        assert im.n_frames == 3
        for i, sheet in enumerate(truth["sheets"].values()):
            im.seek(i)
            dpi = sheet["scan"]["dpi"]
            assert im.size == scan_size((148, 210), dpi)
            assert im.info["dpi"] == pytest.approx((dpi, dpi))
            assert im.mode == ("RGB" if sheet["scan"]["colour"] == "colour" else "L")
    exam = load_exam(tmp_path / "exam.yaml")
    assert check_exam_against_form(exam, quiz) == []
    assert exam.groups == ["A", "B"] and len(exam.courses) == 1
    (course,) = exam.courses
    assert (course.block, course.questions) == ("quiz", 50)
    assert set(course.keys["A"]) <= set("ABCD")
    for sheet in truth["sheets"].values():
        assert set(sheet["identity"]) == {"student_number"}
        assert len(sheet["identity"]["student_number"]) == 8
        assert sheet["boxes"] == {}
        assert len(sheet["answers"]["quiz"]) == 50


def test_bad_arguments_are_refused(tmp_path, central):
    with pytest.raises(ValueError, match="unknown profile"):
        simulate_session(central, 2, 1, tmp_path, profile="nope")
    with pytest.raises(ValueError, match="image_format"):
        simulate_session(central, 1, 1, tmp_path, image_format="png")
    with pytest.raises(ValueError, match="at least one sheet"):
        simulate_session(central, 0, 1, tmp_path)


# ---------------------------------------------------------------- pencil marks

R = 23.6  # 2 mm at 300 dpi
CENTRE = np.array([[100.0, 100.0]])


def _disc(shape, centre, radius):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return np.hypot(xx - centre[0], yy - centre[1]) <= radius


def test_full_fill_darkens_the_bubble_by_its_darkness():
    white = np.full((200, 200), 255, np.uint8)
    out, covered = draw_marks(white, CENTRE, R, darkness=[0.8], coverage=[1.0])
    assert white.min() == 255  # input untouched
    inner = _disc(out.shape, CENTRE[0], R - 2)
    assert np.all(out[inner] == 51)  # 255 * (1 - 0.8)
    assert covered[0] == pytest.approx(1.0, abs=0.005)
    # a lighter pencil darkens less
    light, _ = draw_marks(white, CENTRE, R, darkness=[0.55], coverage=[1.0])
    assert np.all(light[inner] == round(255 * 0.45))


def test_partial_fill_leaves_the_far_side_white():
    white = np.full((200, 200), 255, np.uint8)
    out, covered = draw_marks(
        white, CENTRE, R, darkness=[0.8], coverage=[0.7], shape=MarkShape.round(1)
    )
    disc = _disc(out.shape, CENTRE[0], R)
    assert covered[0] == pytest.approx(0.7, abs=0.02)
    assert (out[disc] < 153).mean() == pytest.approx(0.7, abs=0.03)
    # cut_angle 0 points along +x: the right side stays blank, the left is filled
    assert out[100, 100 + int(0.8 * R)] == 255
    assert out[100, 100 - int(0.8 * R)] == 51
    # mean darkening of the bubble: 0.8 over 70 % of it
    loss = 1 - out[disc].mean() / 255
    assert loss == pytest.approx(0.8 * 0.7, abs=0.03)


def test_grain_keeps_the_mean_darkness():
    white = np.full((200, 200), 255, np.uint8)
    out, _ = draw_marks(
        white, CENTRE, R, darkness=[0.7], coverage=[1.0], grain=0.3, rng=np.random.default_rng(1)
    )
    inner = out[_disc(out.shape, CENTRE[0], R - 2)]
    assert inner.std() > 10  # textured, not flat
    assert inner.mean() == pytest.approx(255 * 0.3, abs=3)


def test_marks_never_reach_the_neighbouring_bubble():
    # digit grids are the tightest: 4.7 mm between centres, 4 mm bubbles
    step = 4.7 * 300 / 25.4
    centres = np.array([[100.0, 100.0], [100.0 + step, 100.0], [100.0, 100 + step]])
    white = np.full((260, 260), 255, np.uint8)
    shape = MarkShape(
        offset_xy=np.array([[0.1, 0.1]]),
        size=np.array([1.1]),
        cut_angle=np.array([0.0]),
        wobble=np.array([[0.05, 0.05, 0.05]]),
        phase=np.array([[0.0, 0.0, 0.0]]),
    )
    out, _ = draw_marks(
        white,
        centres[:1],
        R,
        darkness=[0.98],
        coverage=[1.0],
        shape=shape,
        grain=0.3,
        rng=np.random.default_rng(0),
    )
    for c in centres[1:]:
        assert out[_disc(out.shape, c, R + 1)].min() == 255
    touched = out < 255
    assert touched.any()
    assert not (touched & ~_disc(out.shape, centres[0], 1.12 * R + 2)).any()


# ---------------------------------------------------------------- scanner


_params = scan_params


def _page_with_blob(x_mm: float, y_mm: float) -> np.ndarray:
    k = 300 / 25.4
    page = np.full((round(297 * k), round(210 * k)), 255, np.uint8)
    x, y = round(x_mm * k), round(y_mm * k)
    page[y - 20 : y + 20, x - 20 : x + 20] = 0  # 40 px square centred on (x - 0.5, y - 0.5)
    return page


def _dark_centroid(img: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(img < 128)
    return np.array([xs.mean(), ys.mean()])


def test_upside_down_scan_rotated_back_puts_the_blob_in_place():
    page = _page_with_blob(40, 60)
    scan = scan_page(page, _params(upside_down=True), page_mm=A4_MM)
    assert scan.shape == scan_size(A4_MM, 150)[::-1]
    k = 150 / 25.4
    expected = np.array([40 * k, 60 * k]) - 0.5
    upright = np.rot90(scan, 2)
    assert np.abs(_dark_centroid(upright) - expected).max() <= 1.0
    # and before turning it back, the blob is near the opposite corner
    assert (
        _dark_centroid(scan)[0] > scan.shape[1] / 2 and _dark_centroid(scan)[1] > scan.shape[0] / 2
    )


def test_placement_matrix_says_where_page_points_land():
    page = _page_with_blob(50, 80)
    params = _params(dpi=200, rotation_deg=2.5, shift_mm=(3.0, -2.0), scale=1.02, blur_sigma=0.7)
    scan = scan_page(page, params, page_mm=A4_MM, rng=np.random.default_rng(0))
    predicted = placement_matrix(params, A4_MM) @ np.array([50.0, 80.0, 1.0])
    assert np.abs(_dark_centroid(scan) - predicted).max() <= 1.0
    # positive rotation is counter-clockwise on screen: a point right of the centre moves up
    right = placement_matrix(params, A4_MM) @ np.array([205.0, 148.5, 1.0])
    centre = placement_matrix(params, A4_MM) @ np.array([105.0, 148.5, 1.0])
    assert right[1] < centre[1]


def test_colour_scan_tints_paper_but_not_marks():
    page = _page_with_blob(40, 60)
    params = _params(colour="colour", paper_white=248.0, tint=(1.0, 0.97, 0.9), noise_sigma=2.0)
    scan = scan_page(page, params, page_mm=A4_MM, rng=np.random.default_rng(0))
    assert scan.shape == (*scan_size(A4_MM, 150)[::-1], 3)
    paper = scan[5:50, 300:600].reshape(-1, 3).mean(axis=0)
    assert paper[0] == pytest.approx(248, abs=1.5)
    assert paper[2] == pytest.approx(248 * 0.9, abs=1.5)
    k = 150 / 25.4
    x, y = round(40 * k), round(60 * k)
    blob = scan[y - 3 : y + 3, x - 3 : x + 3].reshape(-1, 3).mean(axis=0)
    assert blob.max() < 6 and np.ptp(blob) < 2
    noise = scan[5:50, 300:600, 1].std()
    assert 1.0 < noise < 3.0


def test_profile_is_frozen_and_complete():
    p = PROFILES["standard"]
    with pytest.raises(AttributeError):
        p.p_blank = 0.5  # type: ignore[misc]
    assert (p.p_blank, p.p_double, p.p_group_none, p.p_group_double) == (0.08, 0.04, 0.03, 0.03)
    assert p.ability == (0.3, 0.95) and p.darkness == (0.55, 0.95)
    assert set(p.dpi_choices) == {150, 200, 240, 300}
