"""Hostile form files: a field placed where nothing is printed, a coordinate that is no
number, a form saved by office software in Windows-1254."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from omr.cli import cli
from omr.errors import ExitCode, InvalidExamError, InvalidFormError
from omr.exam import load_exam
from omr.forms import load_form
from omr.simulate import simulate_session

FORMS = Path(__file__).resolve().parents[1] / "forms"


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """Four clean quiz-a5 sheets, printed with the form as shipped."""
    root = tmp_path_factory.mktemp("forms") / "S"
    simulate_session(load_form(FORMS / "quiz-a5.yaml"), 4, 2, root, profile="clean", jobs=1)
    return root


def _read_with(printed: Path, tmp_path: Path, edit) -> tuple[int, str, list[dict]]:
    """Run the printed stack with an edited copy of its form: exit code, output, results."""
    root = Path(shutil.copytree(printed, tmp_path / "S"))
    data = yaml.safe_load((FORMS / "quiz-a5.yaml").read_text(encoding="utf-8"))
    edit(data)
    (root / "edited.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    exam = yaml.safe_load((root / "exam.yaml").read_text(encoding="utf-8"))
    exam["form"] = "edited.yaml"
    (root / "exam.yaml").write_text(yaml.safe_dump(exam, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(root), "--jobs", "1"])
    rows = []
    if (root / "out" / "results.csv").exists():
        with (root / "out" / "results.csv").open(encoding="utf-8", newline="") as fh:
            rows = [r for r in csv.DictReader(fh) if r["sheet"]]  # not the no-sheet rows
    return result.exit_code, result.output, rows


def test_a_group_field_placed_on_blank_paper_is_held_not_voided(printed, tmp_path):
    def move_group(data):
        data["group"]["origin"] = [100, 60]  # below the signature box: blank paper

    code, output, rows = _read_with(printed, tmp_path, move_group)
    assert code == ExitCode.review_needed, output
    assert len(rows) == 4
    for row in rows:  # before: void:no-group on every sheet, exit 0
        assert row["status"] == "review:registration-weak", row
    with (tmp_path / "S" / "out" / "review.csv").open(encoding="utf-8", newline="") as fh:
        details = [r["detail"] for r in csv.DictReader(fh)]
    assert details == ["group has no printed bubbles where the form puts it"] * 4


def test_the_form_as_printed_still_reads_every_sheet(printed, tmp_path):
    code, output, rows = _read_with(printed, tmp_path, lambda data: None)
    assert code == ExitCode.ok, output
    assert [r["status"] for r in rows] == ["scored"] * 4


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_a_coordinate_that_is_no_finite_number_is_refused_with_its_key_path(tmp_path, value):
    text = (FORMS / "quiz-a5.yaml").read_text(encoding="utf-8")
    path = tmp_path / "nan.yaml"
    path.write_text(text.replace("origin: [64, 40]", f"origin: [{value}, 40]"), encoding="utf-8")
    with pytest.raises(InvalidFormError) as err:  # before: a traceback from the renderer
        load_form(path)
    assert "group.origin[0]" in str(err.value) and "finite" in str(err.value)


def test_a_form_saved_in_windows_1254_is_read_with_its_turkish_letters(tmp_path):
    text = (FORMS / "quiz-a5.yaml").read_text(encoding="utf-8")
    assert "Kâğıdı" in text and "Yalnızca" in text
    path = tmp_path / "quiz-1254.yaml"
    path.write_bytes(text.encode("cp1254"))
    form = load_form(path)
    assert form.title.tr == "Kısa Sınav Cevap Kâğıdı"
    assert form.model_dump() == load_form(FORMS / "quiz-a5.yaml").model_dump()


def test_an_exam_scale_that_is_infinite_is_refused_with_its_key_path(printed, tmp_path):
    exam = tmp_path / "exam.yaml"
    text = (printed / "exam.yaml").read_text(encoding="utf-8")
    exam.write_text(f"{text}scoring: {{scale: .inf}}\n", encoding="utf-8")
    with pytest.raises(InvalidExamError, match=r"scoring\.scale: Input should be a finite"):
        load_exam(exam)  # before: an OverflowError from the scoring, exit 1
