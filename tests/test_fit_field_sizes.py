"""Bubble sizes per field in `omr forms fit`: answers, ID and group bubbles printed at three sizes.

A real sheet (issue 13) printed answer, ID and group bubbles at 3.4, 2.9 and
4.4 mm; one size for the form made correct positions fail the check.
"""

from __future__ import annotations

import yaml
from click.testing import CliRunner
from PIL import Image

from omr.cli import cli
from omr.errors import ExitCode
from omr.forms import Form
from omr.resources import data_dir
from omr.simulate.session import scan_blank

SIZES = {"answers": 3.4, "student_number": 2.9, "group": 4.4}


def three_size_form() -> Form:
    """The built-in quiz-a5 sheet with its answers at 3.4 mm, its ID at 2.9, its group at 4.4."""
    data = yaml.safe_load((data_dir("forms") / "quiz-a5.yaml").read_text(encoding="utf-8"))
    data["name"] = "quiz-three-sizes"
    data["bubble_diameter"] = SIZES["answers"]
    data["identity"]["student_number"]["bubble_diameter"] = SIZES["student_number"]
    data["group"]["bubble_diameter"] = SIZES["group"]
    return Form.model_validate(data)


def test_each_field_gets_its_own_size_and_the_form_checks(tmp_path):
    form = three_size_form()
    Image.fromarray(scan_blank(form, 7, dpi=200)).save(tmp_path / "blank.png", dpi=(200, 200))
    out = tmp_path / "fitted.yaml"
    fit = CliRunner().invoke(cli, ["forms", "fit", str(tmp_path / "blank.png"), "--out", str(out)])
    assert fit.exit_code == ExitCode.ok, fit.output
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    (block,) = data["answer_blocks"].values()
    ident = data["identity"]["student_number"]
    # The answers are most of the sheet's bubbles: the form's size is theirs.
    assert abs(data["bubble_diameter"] - SIZES["answers"]) < 0.2, data["bubble_diameter"]
    assert "bubble_diameter" not in block, block
    assert abs(ident["bubble_diameter"] - SIZES["student_number"]) < 0.2, ident
    assert abs(data["group"]["bubble_diameter"] - SIZES["group"]) < 0.2, data["group"]
    assert len(data["group"]["options"]) == 2, data["group"]
    check = CliRunner().invoke(
        cli,
        ["forms", "check", str(out), str(tmp_path / "blank.png"), "-o", str(tmp_path / "c.png")],
    )
    assert check.exit_code == ExitCode.ok, check.output
    assert "proven by the printed outlines" in check.output, check.output


def test_one_size_for_all_would_not_fit_the_id_outlines(tmp_path):
    """The sizes matter: the ID grid checked at the answers' size fits its outlines worse."""
    from omr.detect.register import field_fits, grey_percentiles, register_page

    form = three_size_form()
    page = scan_blank(form, 7, dpi=200)
    reg = register_page(page, form)
    assert reg, reg
    data = form.model_dump(exclude_none=True)
    data["identity"]["student_number"].pop("bubble_diameter")
    data["group"].pop("bubble_diameter")
    one = Form.model_validate(data)
    darkest, paper = grey_percentiles(page, (0.5, 90))
    _, own = field_fits(page, reg.matrix, form, paper=paper, ink=darkest)
    _, same = field_fits(page, reg.matrix, one, paper=paper, ink=darkest)
    assert own["student_number"] > same["student_number"] + 0.05, (own, same)
    assert own["group"] > same["group"] + 0.05, (own, same)
