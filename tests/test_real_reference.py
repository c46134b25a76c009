"""open-mcr's real grey scans read with a reference-image form made from one of them.

A centre without corner marks defines its form on a scan of one filled sheet
(``registration.kind: reference-image``). Here that scan is open-mcr's
``Page_03`` of ``75q-core-2`` (``../shared/data/open-mcr``, skipped without
it), straightened by the corner-mark form's fit and saved at 150 dpi; the
other sheets of the same print run are read with it, at 150 dpi and at their
own 300 dpi. Compared with open-mcr's accepted readings, an item read with
confidence must be right (unsure goes to a person and is allowed).
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from conftest import shared_data

from omr.calibration import find_calibration
from omr.detect import read_page
from omr.detect.read import register_sheet
from omr.forms import load_form
from omr.pages import PageRef, load_page
from omr.records import ItemState

DATA = shared_data("open-mcr")
FORM = Path(__file__).resolve().parent / "data" / "open-mcr-75q.yaml"
TEST = "75q-core-2"
REFERENCE = "sample scanned sheets_Page_03.jpg"
pytestmark = pytest.mark.skipif(
    not (DATA / "ground_truth_long.csv").is_file(),
    reason=f"no shared open-mcr scans at {DATA} (set OMR_SHARED_DATA)",
)


@cache
def _truth() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    with (DATA / "ground_truth_long.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["test"] == TEST:
                out.setdefault(row["image"], {})[row["field"]] = row["value"]
    return out


def _gray(image: str, dpi: float | None = None) -> np.ndarray:
    page = load_page(PageRef(DATA / TEST / "input" / image, 0, image))
    if dpi is None:
        return page.gray
    f = dpi / page.dpi
    return cv2.resize(page.gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def reference_form(tmp_path_factory):
    """The 75-question form registered on ``REFERENCE`` straightened at 150 dpi."""
    marks_form = load_form(FORM)
    placed = register_sheet(_gray(REFERENCE), marks_form)
    assert placed.registration, placed.registration
    k = 150 / 25.4
    to_px = np.array([[k, 0, -0.5], [0, k, -0.5], [0, 0, 1]])
    size = (round(marks_form.page.width * k), round(marks_form.page.height * k))
    inverse = np.linalg.inv(placed.registration.matrix @ np.linalg.inv(to_px))
    flat = cv2.warpAffine(placed.gray, inverse[:2], size, flags=cv2.INTER_LINEAR, borderValue=255)
    folder = tmp_path_factory.mktemp("reference")
    cv2.imwrite(str(folder / "ref.png"), flat)
    data = yaml.safe_load(FORM.read_text())
    data["registration"] = {"kind": "reference-image", "image": "ref.png", "dpi": 150}
    (folder / "form.yaml").write_text(yaml.safe_dump(data))
    return load_form(folder / "form.yaml")


def _question(form, image: str, dpi: float | None, question: int):
    sheet = read_page(_gray(image, dpi), form, find_calibration(), source=image)
    assert not sheet.problem, sheet.message
    return sheet.fields["answers"].items[question - 1]


@pytest.mark.parametrize(
    ("image", "dpi", "question"),
    [
        # The student wrote over the printed D beside a filled C: the strokes
        # are no more than the sheet's own blank D bubbles show, so they are
        # no second answer (it was read CD, a right answer made wrong).
        ("sample scanned sheets_Page_05.jpg", 150, 14),
        # A blank B (its heavy printed letter) beside a filled D was read BD.
        ("sample scanned sheets_Page_17.jpg", None, 1),
    ],
)
def test_a_printed_letter_beside_an_answer_is_no_second_answer(
    reference_form, image, dpi, question
):
    item = _question(reference_form, image, dpi, question)
    want = _truth()[image][f"Q{question}"]
    assert item.state == ItemState.unsure or item.value == want, item
