"""Forms as real sheets print them: digit grids in any order, sizes per field, uneven spacing."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
import yaml

from omr.calibration import find_calibration
from omr.detect import read_page
from omr.evaluate import evaluate_run
from omr.forms import Form, form_problems, load_form
from omr.pipeline import run_session
from omr.render import render_form_pdf
from omr.simulate import simulate_session

FORMS = Path(__file__).resolve().parents[1] / "forms"
DPI = 200


def quiz_data(**changes) -> dict:
    """quiz-a5 as plain data, with top-level ``changes``."""
    data = yaml.safe_load((FORMS / "quiz-a5.yaml").read_text(encoding="utf-8"))
    return {**data, "name": "quiz-real", **changes}


def with_student_grid(data: dict, **grid) -> dict:
    student = dict(data["identity"]["student_number"], **grid)
    return {**data, "identity": {**data["identity"], "student_number": student}}


def write_form(folder: Path, data: dict) -> Path:
    path = folder / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def render(form: Form, dpi: int = DPI) -> np.ndarray:
    pdf = pdfium.PdfDocument(render_form_pdf(form))
    return np.asarray(pdf[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")).copy()


def fill_at(page: np.ndarray, xy_mm, radius_mm: float, dpi: int = DPI) -> np.ndarray:
    """A pencil-dark disc at ``xy_mm`` (form millimetres)."""
    k = dpi / 25.4
    x, y = np.asarray(xy_mm) * k
    cv2.circle(page, (round(x), round(y)), round(radius_mm * k * 0.9), 60, -1, cv2.LINE_AA)
    return page


def session_on(form_path: Path, folder: Path, sheets: int, seed: int) -> dict:
    """Simulate ``sheets`` on the form file, run them with it and evaluate."""
    form = load_form(form_path)
    simulate_session(form, sheets, seed, folder, profile="clean")
    (folder / form_path.name).write_text(form_path.read_text(encoding="utf-8"), encoding="utf-8")
    exam = yaml.safe_load((folder / "exam.yaml").read_text(encoding="utf-8"))
    exam["form"] = form_path.name
    (folder / "exam.yaml").write_text(yaml.safe_dump(exam, allow_unicode=True), encoding="utf-8")
    run_session(folder, jobs=1)
    return evaluate_run(folder / "out", folder / "truth.json")


# ---------------------------------------------------------------- digit order


def test_digit_order_sets_the_labels_in_printed_order(tmp_path):
    form = load_form(write_form(tmp_path, with_student_grid(quiz_data(), order="1234567890")))
    field = form.layout.fields["student_number"]
    assert field.option_labels == tuple("1234567890")
    grid = form.identity.student_number
    # the first printed bubble (origin) is "1", the tenth ("0") nine steps down
    first = form.layout.centers_xy[field.index[0, 0]]
    zero = form.layout.centers_xy[field.index[0, field.option_labels.index("0")]]
    assert np.allclose(first, grid.origin)
    assert np.allclose(zero, np.asarray(grid.origin) + 9 * np.asarray(grid.option_step))


def test_an_unquoted_order_is_read_as_digits(tmp_path):
    path = write_form(tmp_path, with_student_grid(quiz_data(), order="1234567890"))
    path.write_text(path.read_text().replace("'1234567890'", "1234567890"), encoding="utf-8")
    assert "order: 1234567890\n" in path.read_text()
    assert load_form(path).identity.student_number.order == "1234567890"


@pytest.mark.parametrize(
    ("order", "message"),
    [
        ("1123456789", "each once"),
        ("12a", "each once"),
        ("1", "at least two"),
        (123456789, "write the digits in quotes"),  # an unquoted 0123456789 lost its 0
    ],
)
def test_bad_orders_are_refused_with_their_key_path(order, message):
    problems = form_problems(with_student_grid(quiz_data(), order=order))
    assert [p for p, _ in problems] == ["identity.student_number.order"]
    assert message in problems[0][1]


def test_first_and_last_span_the_printed_order(tmp_path):
    data = quiz_data()
    grid = {
        k: v
        for k, v in data["identity"]["student_number"].items()
        if k not in {"origin", "digit_step", "option_step"}
    }
    # 8 digits 5 mm apart, 0-9 printed 4.7 mm apart: first (16, 40), last (51, 82.3)
    grid |= {"first": [16, 40], "last": [51, 40 + 9 * 4.7]}
    ten = Form.model_validate({**data, "identity": {"student_number": grid}})
    short = Form.model_validate(
        {
            **data,
            "identity": {
                "student_number": grid | {"order": "123456789", "last": [51, 40 + 8 * 4.7]}
            },
        }
    )
    assert ten.identity.student_number.option_step == pytest.approx((0.0, 4.7))
    assert short.identity.student_number.option_step == pytest.approx((0.0, 4.7))
    assert short.layout.fields["student_number"].index.shape == (8, 9)


def test_a_rendered_one_to_zero_grid_reads_the_right_id(tmp_path):
    """Marks put where the bubbles are printed, by geometry alone: the first printed
    bubble of a 1-9-then-0 grid is 1, the tenth is 0."""
    form = load_form(write_form(tmp_path, with_student_grid(quiz_data(), order="1234567890")))
    grid = form.identity.student_number
    page = render(form)
    want = "10293847"
    for position, digit in enumerate(want):
        row = "1234567890".index(digit)
        xy = (
            np.asarray(grid.origin)
            + position * np.asarray(grid.digit_step)
            + row * np.asarray(grid.option_step)
        )
        page = fill_at(page, xy, form.bubble_diameter / 2)
    group = form.group
    page = fill_at(page, group.origin, form.bubble_diameter / 2)
    read = read_page(page, form, find_calibration())
    assert read.ok, read.message
    assert read.fields["student_number"].text() == want
    # the same marks read on the 0-9 form would be one row off
    plain = load_form(write_form(tmp_path, quiz_data(name="quiz-plain")))
    assert read_page(page, plain, find_calibration()).fields["student_number"].text() == "09182736"


def test_simulated_stack_on_a_one_to_zero_grid_reads_right(tmp_path):
    path = write_form(tmp_path, with_student_grid(quiz_data(), order="1234567890"))
    report = session_on(path, tmp_path / "s", 2, 7)
    assert report["silent_errors"] == 0
    assert report["sheets_exact_count"] == 2
    results = (tmp_path / "s" / "out" / "results.csv").read_text(encoding="utf-8")
    roster = (tmp_path / "s" / "roster.csv").read_text(encoding="utf-8").splitlines()[1:]
    for line in roster:
        assert f",{line.split(',')[0]}," in results  # every student number read


def test_a_grid_without_zero_leaves_such_digits_unread_not_guessed(tmp_path):
    data = with_student_grid(quiz_data(), order="123456789", option_step=[0, 4.7], origin=[16, 40])
    report = session_on(write_form(tmp_path, data), tmp_path / "s", 3, 2)
    assert report["silent_errors"] == 0
    roster = (tmp_path / "s" / "roster.csv").read_text(encoding="utf-8").splitlines()[1:]
    numbers = [line.split(",")[0] for line in roster]
    rows = (tmp_path / "s" / "out" / "results.csv").read_text(encoding="utf-8").splitlines()[1:]
    held = sum("review:identity-unreadable" in r for r in rows)
    assert held == sum("0" in n for n in numbers) > 0


# ---------------------------------------------------------------- sizes per field


def sized_data() -> dict:
    """quiz-a5 with answer, ID and group bubbles at three sizes (as one real sheet has)."""
    data = with_student_grid(quiz_data(name="quiz-sized"), bubble_diameter=2.9)
    data["group"] = {**data["group"], "bubble_diameter": 4.4}
    data["answer_blocks"] = {
        "quiz": {
            **data["answer_blocks"]["quiz"],
            "bubble": {"shape": "ellipse", "size": [4.6, 3.0]},
        }
    }
    return data


def test_outline_is_the_fields_own_size_else_the_forms():
    form = Form.model_validate(sized_data())
    assert form.outline("group").half == (2.2, 2.2)
    assert form.outline("student_number").half == (1.45, 1.45)
    assert form.outline("quiz") == type(form.outline("quiz"))("ellipse", (2.3, 1.5))
    plain = Form.model_validate(quiz_data())
    assert plain.outline("quiz").half == (2.0, 2.0)
    layout = form.layout
    for name in ("group", "student_number", "quiz"):
        f = layout.fields[name]
        assert np.allclose(layout.half_axes[f.index.ravel()], form.outline(name).half)
    assert np.allclose(layout.radius[layout.fields["quiz"].index.ravel()], np.sqrt(2.3 * 1.5))


def test_a_field_cannot_give_both_sizes():
    data = sized_data()
    data["group"]["bubble"] = {"shape": "circle", "size": [4, 4]}
    problems = form_problems(data)
    assert problems == [("group", "give bubble_diameter (round bubbles) or bubble, not both")]


def test_sizes_in_pixels_are_converted_per_field():
    px = Form.model_validate(
        {
            "format": 1,
            "name": "px",
            "unit": "px",
            "dpi": 254,  # 10 px per mm
            "title": {"tr": "t", "en": "t"},
            "page": {"width": 1480, "height": 2100},
            "registration": {
                "mark_size": 50,
                "marks": [[80, 80], [1400, 80], [80, 2020], [1400, 2020]],
                "orientation_mark": [170, 80],
            },
            "group": {
                "label": {"tr": "K", "en": "B"},
                "options": ["A", "B"],
                "origin": [640, 400],
                "option_step": [0, 60],
                "bubble_diameter": 44,
            },
            "answer_blocks": {
                "q": {
                    "label": {"tr": "C", "en": "A"},
                    "questions": 5,
                    "options": ["A", "B", "C", "D"],
                    "origin": [220, 1000],
                    "option_step": [60, 0],
                    "question_step": [0, 55],
                    "bubble": {"shape": "ellipse", "size": [46, 30]},
                }
            },
        }
    )
    assert px.outline("group").half == pytest.approx((2.2, 2.2))
    assert px.outline("q").half == pytest.approx((2.3, 1.5))
    assert px.outline("q").shape == "ellipse"


def test_per_field_sizes_render_where_the_reader_looks():
    """The printed outlines fit the reader's per-field sizes; one form-wide size does not."""
    from omr.detect.register import field_fits, grey_percentiles
    from omr.detect.sampling import mm_to_px

    form = Form.model_validate(sized_data())
    page = render(form)
    dark, paper = grey_percentiles(page, (0.5, 90))
    matrix = mm_to_px(DPI / 25.4)
    _, fits = field_fits(page, matrix, form, paper=paper, ink=dark)
    one_size = Form.model_validate(
        with_student_grid({**sized_data(), "group": quiz_data()["group"]}, bubble_diameter=None)
        | {"answer_blocks": quiz_data()["answer_blocks"]}
    )
    _, wrong = field_fits(page, matrix, one_size, paper=paper, ink=dark)
    for name in ("group", "student_number", "quiz"):
        assert fits[name] > 0.3, (name, fits)
        assert wrong[name] < fits[name] / 2, (name, fits[name], wrong[name])


def test_write_in_boxes_follow_the_grids_own_size():
    from omr.simulate.session import RENDER_DPI, SheetMaker

    form = Form.model_validate(sized_data())
    ((name, boxes),) = list(SheetMaker._write_ins(form))
    assert name == "student_number"
    assert boxes[0, 2] == pytest.approx((2 * 1.45 + 0.6) * RENDER_DPI / 25.4)


def test_simulated_stack_on_per_field_sizes_reads_exactly(tmp_path):
    report = session_on(write_form(tmp_path, sized_data()), tmp_path / "s", 3, 11)
    assert report["silent_errors"] == 0
    assert report["sheets_exact_count"] == 3


# ---------------------------------------------------------------- uneven option spacing


def uneven_data() -> dict:
    """quiz-a5 with a wider gap between options B and C, and between group bubbles."""
    data = quiz_data(name="quiz-uneven")
    data["answer_blocks"] = {
        "quiz": {**data["answer_blocks"]["quiz"], "option_offsets": [0, 6, 15, 21]}
    }
    data["group"] = {**data["group"], "option_offsets": [[0, 0], [0, 9]]}
    return data


def test_option_offsets_place_each_option():
    form = Form.model_validate(uneven_data())
    layout = form.layout
    quiz = layout.fields["quiz"]
    row = layout.centers_xy[quiz.index[0]]
    assert np.allclose(row[:, 0] - row[0, 0], [0, 6, 15, 21])
    assert np.allclose(row[:, 1], row[0, 1])
    second_column = layout.centers_xy[quiz.index[17]]
    assert np.allclose(second_column - row, [42, 0])
    group = layout.centers_xy[layout.fields["group"].index[0]]
    assert np.allclose(group, [[64, 40], [64, 49]])


def test_offsets_as_numbers_follow_the_options_direction():
    data = uneven_data()
    block = data["answer_blocks"]["quiz"]
    down = {**block, "option_step": [0, 6], "question_step": [6, 0]}
    form = Form.model_validate({**data, "answer_blocks": {"quiz": down}})
    row = form.layout.centers_xy[form.layout.fields["quiz"].index[0]]
    assert np.allclose(row[:, 1] - row[0, 1], [0, 6, 15, 21])
    assert np.allclose(row[:, 0], row[0, 0])


def test_offsets_with_first_and_last():
    data = uneven_data()
    block = {
        k: v
        for k, v in data["answer_blocks"]["quiz"].items()
        if k not in {"origin", "option_step", "question_step"}
    }
    # last: option D of question 17, at 21 mm across and 16 question steps of 5.5 down
    block |= {"first": [22, 100], "last": [43, 100 + 16 * 5.5]}
    form = Form.model_validate({**data, "answer_blocks": {"quiz": block}})
    assert form.answer_blocks["quiz"].question_step == pytest.approx((0.0, 5.5))
    row = form.layout.centers_xy[form.layout.fields["quiz"].index[16]]
    assert np.allclose(row, [[22, 188], [28, 188], [37, 188], [43, 188]])
    group = {k: v for k, v in data["group"].items() if k not in {"origin", "option_step"}}
    form = Form.model_validate({**data, "group": group | {"first": [64, 40]}})
    assert np.allclose(form.layout.centers_xy[form.layout.fields["group"].index[0]][1], [64, 49])


@pytest.mark.parametrize(
    ("offsets", "message"),
    [
        ([0, 6, 15], "option_offsets has 3 entries for 4 options"),
        ([2, 6, 15, 21], "option_offsets: the first option's offset is 0 (offsets are from it)"),
    ],
)
def test_bad_offsets_are_refused(offsets, message):
    data = uneven_data()
    data["answer_blocks"]["quiz"]["option_offsets"] = offsets
    assert form_problems(data) == [("answer_blocks.quiz", message)]


def test_simulated_stack_on_uneven_spacing_reads_exactly(tmp_path):
    path = write_form(tmp_path, uneven_data())
    form = load_form(path)
    page = render(form)
    # the rendered outlines sit where the layout says (one form-wide step would not)
    from omr.detect.register import field_fits, grey_percentiles
    from omr.detect.sampling import mm_to_px

    dark, paper = grey_percentiles(page, (0.5, 90))
    _, fits = field_fits(page, mm_to_px(DPI / 25.4), form, paper=paper, ink=dark)
    assert fits["quiz"] > 0.3 and fits["group"] > 0.3
    report = session_on(path, tmp_path / "s", 3, 4)
    assert report["silent_errors"] == 0
    assert report["sheets_exact_count"] == 3


# ---------------------------------------------------------------- letter grids


def lettered_data() -> dict:
    """quiz-a5 with a 6-letter surname grid of an 8-letter alphabet in its free space."""
    data = quiz_data(name="quiz-letters")
    data["letter_grids"] = {
        "surname": {
            "label": {"tr": "Soyadı", "en": "Surname"},
            "letters": 6,
            "alphabet": "ABCDEFGH",
            "origin": [78, 54],
            "letter_step": [5, 0],
            "option_step": [0, 4.7],
        }
    }
    return data


def test_letter_grid_layout_and_key_paths():
    form = Form.model_validate(lettered_data())
    field = form.layout.fields["surname"]
    assert (field.kind, field.option_labels, field.index.shape) == (
        "letters",
        tuple("ABCDEFGH"),
        (6, 8),
    )
    assert form.field_definition("surname") is form.letter_grids["surname"]
    data = lettered_data()
    data["letter_grids"]["surname"]["alphabet"] = "ABCA"
    assert form_problems(data) == [
        ("letter_grids.surname.alphabet", "alphabet: each letter once, no spaces")
    ]
    data = lettered_data()
    data["letter_grids"]["quiz"] = data["letter_grids"].pop("surname")
    assert "field names must be unique" in form_problems(data)[0][1]
    data = lettered_data()
    data["letter_grids"]["surname"]["origin"] = [135, 54]
    assert ("letter_grids.surname", "bubbles fall outside the page") in form_problems(data)


def test_a_rendered_letter_grid_reads_the_name_and_scores_nothing(tmp_path):
    from omr.export import letters_text
    from omr.score.checks import odd_reads

    form = load_form(write_form(tmp_path, lettered_data()))
    grid = form.letter_grids["surname"]
    page = render(form)
    for position, letter in enumerate("BADGE"):
        xy = (
            np.asarray(grid.origin)
            + position * np.asarray(grid.letter_step)
            + "ABCDEFGH".index(letter) * np.asarray(grid.option_step)
        )
        page = fill_at(page, xy, form.bubble_diameter / 2)
    read = read_page(page, form, find_calibration())
    assert read.ok, read.message
    assert letters_text(read.fields["surname"]) == "BADGE"
    assert odd_reads(read) == []


def test_letters_are_exported_only_when_the_exam_asks(tmp_path):
    path = write_form(tmp_path, lettered_data())
    session = tmp_path / "s"
    session_on(path, session, 2, 3)
    out = session / "out"
    assert not (out / "letters.csv").exists()
    exam = yaml.safe_load((session / "exam.yaml").read_text(encoding="utf-8"))
    (session / "exam.yaml").write_text(
        yaml.safe_dump(exam | {"export_letters": True}, allow_unicode=True), encoding="utf-8"
    )
    from omr.pipeline import rebuild_reports

    rebuild_reports(out)
    lines = (out / "letters.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "sheet,student_id,surname"
    assert len(lines) == 3
    (session / "exam.yaml").write_text(yaml.safe_dump(exam, allow_unicode=True), encoding="utf-8")
    rebuild_reports(out)
    assert not (out / "letters.csv").exists()  # asked no more: the names are gone
