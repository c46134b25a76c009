"""Form definitions: the built-ins load, errors carry key paths, the PDF embeds its font."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
import yaml
from click.testing import CliRunner

from omr.cli import cli
from omr.errors import ExitCode, InputFileError, InvalidFormError
from omr.forms import builtin_forms, find_form, load_form
from omr.render import render_form_pdf


def test_builtin_forms_are_listed_and_valid():
    assert {"central-a4", "quiz-a5"} <= set(builtin_forms())
    central = find_form("central-a4")
    fields = central.layout.fields
    assert fields["group"].option_labels == ("A", "B", "C", "D")
    assert fields["national_id"].index.shape == (11, 10)
    assert fields["student_number"].index.shape == (10, 10)
    assert fields["hall"].index.shape == (3, 10) and fields["seat"].index.shape == (3, 10)
    assert [fields[f"course{i}"].index.shape for i in range(1, 5)] == [(20, 5)] * 4
    assert fields["absent"].kind == "box" and fields["cancelled"].kind == "box"
    assert central.signature is not None


def test_columns_continue_numbering(quiz):
    f = quiz.layout.fields["quiz"]
    xy = quiz.layout.centers_xy[f.index[:, 0]]
    assert f.item_numbers[0] == 1 and f.item_numbers[-1] == 50
    # question 18 starts the second column: same height as question 1, one column step right.
    assert xy[17] == pytest.approx(xy[0] + [42, 0])
    assert xy[34] == pytest.approx(xy[0] + [84, 0])


def _write(tmp_path, data) -> object:
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _central_data():
    return yaml.safe_load(builtin_forms()["central-a4"].read_text(encoding="utf-8"))


def test_every_format_error_is_reported_with_its_key_path(tmp_path):
    data = _central_data()
    data["answer_blocks"]["course1"]["questions"] = "twenty"
    data["answer_blocks"]["course2"]["colour"] = "red"
    del data["group"]["options"]
    with pytest.raises(InvalidFormError) as err:
        load_form(_write(tmp_path, data))
    paths = {p for p, _ in err.value.problems}
    assert paths == {
        "answer_blocks.course1.questions",
        "answer_blocks.course2.colour",
        "group.options",
    }
    assert "unknown key" in str(err.value)
    assert err.value.exit_code == ExitCode.invalid_form


def test_geometry_errors_name_the_field(tmp_path):
    data = _central_data()
    data["answer_blocks"]["course2"]["origin"] = [26, 122]  # on top of course1
    data["identity"]["seat"]["origin"] = [205, 42]  # off the page
    with pytest.raises(InvalidFormError) as err:
        load_form(_write(tmp_path, data))
    problems = dict(err.value.problems)
    assert "overlaps" in problems["answer_blocks.course1"]
    assert problems["identity.seat"] == "bubbles fall outside the page"


def test_yaml_syntax_error_gives_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("format: 1\nname: [unclosed\n", encoding="utf-8")
    with pytest.raises(InvalidFormError, match="line"):
        load_form(path)


def test_unknown_form_name_lists_the_known_ones():
    with pytest.raises(InputFileError, match="central-a4"):
        find_form("no-such-form")


def test_rendered_pdf_is_vector_with_embedded_turkish_font(central):
    pdf_bytes = render_form_pdf(central)
    assert b"DejaVuSans" in pdf_bytes and b"FontFile2" in pdf_bytes
    page = pdfium.PdfDocument(pdf_bytes)[0]
    assert page.get_size() == pytest.approx((210 / 25.4 * 72, 297 / 25.4 * 72), abs=0.01)
    text = page.get_textpage().get_text_range()
    assert "Kâğıdı" in text or "KÂĞIDI" in text
    assert "İmza" in text and "Öğrenci No" in text and "Sıra" in text and "kurşun" in text
    kinds = {obj.type for obj in page.get_objects()}
    assert pdfium.raw.FPDF_PAGEOBJ_IMAGE not in kinds  # vector, not a picture


def test_cli_lists_and_renders_forms(tmp_path):
    runner = CliRunner()
    listed = runner.invoke(cli, ["forms", "list"])
    assert listed.exit_code == 0
    assert "central-a4" in listed.output and "quiz-a5" in listed.output
    out = tmp_path / "sheet.pdf"
    rendered = runner.invoke(cli, ["forms", "render", "quiz-a5", "-o", str(out)])
    assert rendered.exit_code == 0, rendered.output
    assert out.read_bytes().startswith(b"%PDF")


def test_cli_reports_invalid_form_with_its_exit_code(tmp_path):
    data = _central_data()
    data["page"]["width"] = -1
    path = _write(tmp_path, data)
    result = CliRunner().invoke(cli, ["forms", "render", str(path), "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == ExitCode.invalid_form
    assert "page.width" in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_forms_check_reports_the_fit_and_draws_the_overlay(tmp_path, central):
    import numpy as np
    from conftest import blank_sheet, transform
    from PIL import Image

    Image.fromarray(transform(blank_sheet(central, 150), degrees=1.0)).save(tmp_path / "p.png")
    out = tmp_path / "check.png"
    result = CliRunner().invoke(
        cli, ["forms", "check", "central-a4", str(tmp_path / "p.png"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "registered: 7 of 7 marks" in result.output
    assert "course1" in result.output
    drawn = np.asarray(Image.open(out))
    green = (drawn[..., 1] > 150) & (drawn[..., 0] < 80) & (drawn[..., 2] < 80)
    assert green.sum() > 10_000  # every bubble outlined


def test_forms_check_on_a_page_of_another_kind_says_so(tmp_path):
    from PIL import Image

    Image.new("L", (1240, 1754), 250).save(tmp_path / "blank.png")
    result = CliRunner().invoke(cli, ["forms", "check", "central-a4", str(tmp_path / "blank.png")])
    assert result.exit_code == ExitCode.review_needed
    assert "not registered: the page is blank" in result.output


def test_forms_check_says_how_a_form_without_orientation_mark_tells_the_way_up(tmp_path):
    import numpy as np
    from conftest import blank_sheet
    from PIL import Image

    data = _central_data()
    del data["registration"]["orientation_mark"]
    path = _write(tmp_path, data)
    page = blank_sheet(load_form(path), 150)
    Image.fromarray(page).save(tmp_path / "plain.png")
    # Bubbles printed where a half turn sends the form's: the outlines fit both ways up.
    Image.fromarray(np.minimum(page, page[::-1, ::-1])).save(tmp_path / "both.png")

    plain = CliRunner().invoke(cli, ["forms", "check", str(path), str(tmp_path / "plain.png")])
    assert plain.exit_code == 0, plain.output
    assert "the way up is told by the bubble outlines (a half turn leaves 0.0" in plain.output
    both = CliRunner().invoke(cli, ["forms", "check", str(path), str(tmp_path / "both.png")])
    assert both.exit_code == ExitCode.review_needed
    assert "no orientation mark found, and the printed bubbles fit both ways up" in both.output
    marked = CliRunner().invoke(cli, ["forms", "check", "central-a4", str(tmp_path / "plain.png")])
    assert "orientation" not in marked.output
