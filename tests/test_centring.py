"""A form a little off its printed bubbles in one field is not read (omr.detect.centring)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import blank_sheet, fill, shared_data
from test_proof import _levels, _moved

from omr.calibration import find_calibration
from omr.detect.centring import MAX_OFF, field_centring
from omr.detect.read import read_page, register
from omr.forms import load_form
from omr.pages import PageRef, load_page


@pytest.mark.parametrize("dpi", [100, 150, 300])
def test_a_fields_offset_from_its_printed_outlines_is_measured(central, dpi):
    page = blank_sheet(central, dpi)
    reg = register(page, central)
    assert reg, reg
    ppm = reg.px_per_mm
    here = field_centring(page, reg.matrix, central, px_per_mm=ppm, **_levels(page))
    assert set(here) >= {"course1", "national_id"}
    assert all(c.ok and c.off_radius < 0.1 for c in here.values()), here
    r = float(central.layout.radius[0])
    for shift in ([0.5 * r, 0.0], [0.0, -0.5 * r], [0.35 * r, 0.35 * r]):
        # The fit moved by ``shift``: the print then sits ``-shift`` from it.
        off = field_centring(
            page, _moved(reg.matrix, shift), central, px_per_mm=ppm, **_levels(page)
        )
        for name, c in off.items():
            assert not c.ok, (name, shift, c)
            assert c.agree >= 0.9
            assert np.allclose(c.offset, -np.asarray(shift), atol=0.15 * r), (name, shift, c)


def _shifted_form(tmp_path, source: Path, field: str, dx: float, dy: float):
    data = yaml.safe_load(source.read_text())
    kinds = ("answer_blocks", "identity", "score_fields")
    spec = next(data[k][field] for k in kinds if field in data.get(k, {}))
    spec["origin"] = [spec["origin"][0] + dx, spec["origin"][1] + dy]
    path = tmp_path / f"shifted-{field}.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_form(path)


def test_a_form_a_third_of_a_pitch_off_in_one_field_is_not_scored(central, tmp_path):
    page = fill(blank_sheet(central, 150), central, 150, {("course2", i): "C" for i in range(20)})
    calibration = find_calibration()
    good = read_page(page, central, calibration, dpi=150)
    assert not good.problem and all(i.value == "C" for i in good.fields["course2"].items)
    source = Path(__file__).resolve().parents[1] / "forms" / "central-a4.yaml"
    pitch = 5.5  # course2's question step, its smallest pitch
    for dx, dy in ((0.3 * pitch, 0.0), (0.0, 0.3 * pitch)):
        sheet = read_page(page, _shifted_form(tmp_path, source, "course2", dx, dy), calibration)
        assert sheet.problem == "registration-weak", (dx, dy, sheet.registration)


def test_a_digit_grid_defined_a_row_off_between_other_print_is_not_scored(central, tmp_path):
    # central-a4's national-ID grid has write-in boxes above and print below:
    # no bubble of it tells a whole option pitch apart, so the proof passed a
    # form with the grid one row down and the ID read one digit lower
    # (14703692581 as 036-2581470), with confidence. Its last row then sits
    # on paper, with no printed outline under it.
    marks = {("national_id", i): str((3 * i + 1) % 10) for i in range(11)}
    page = fill(blank_sheet(central, 150), central, 150, marks)
    calibration = find_calibration()
    good = read_page(page, central, calibration, dpi=150)
    assert not good.problem, good.message
    assert "".join(i.value for i in good.fields["national_id"].items) == "14703692581"
    source = Path(__file__).resolve().parents[1] / "forms" / "central-a4.yaml"
    sheet = read_page(page, _shifted_form(tmp_path, source, "national_id", 0.0, 4.7), calibration)
    assert sheet.problem == "registration-weak", sheet.fields["national_id"].items
    assert "national_id's option 9 shows no printed outline" in sheet.message, sheet.message
    assert sheet.registration["proven"]  # the proof alone passed it


DATA = shared_data("open-mcr")
OPEN_MCR_FORM = Path(__file__).resolve().parent / "data" / "open-mcr-75q.yaml"


@pytest.mark.skipif(not (DATA / "images.csv").is_file(), reason=f"no open-mcr scans at {DATA}")
def test_a_real_sheet_read_with_a_digit_grid_defined_off_its_print_is_not_scored(tmp_path):
    # open-mcr's student-ID grid moved 0.8 mm across (0.57 of a bubble's radius,
    # 0.15 of its pitch): the proof passed it on 16 of the 18 grey scans and
    # those read filled digits blank with confidence. Now none is scored; the
    # form as made reads every one.
    shifted = _shifted_form(tmp_path, OPEN_MCR_FORM, "student_number", 0.8, 0.0)
    form = load_form(OPEN_MCR_FORM)
    calibration = find_calibration()
    for n in (2, 8, 13):
        image = f"sample scanned sheets_Page_{n:02d}.jpg"
        gray = load_page(PageRef(DATA / "75q-core-2" / "input" / image, 0, image)).gray
        good = read_page(gray, form, calibration)
        assert not good.problem, good.message
        assert good.registration["centring_off_radius"] < MAX_OFF / 2
        off = read_page(gray, shifted, calibration)
        assert off.problem == "registration-weak", off.registration
        assert "student_number sits" in off.message, off.message
