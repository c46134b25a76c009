"""Grey scans: a sheet in marker or gel is flagged by what the pen leaves, a pencil sheet is not."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from omr.calibration import find_calibration
from omr.detect import read_page
from omr.detect.medium import MarkColour, classify_grey
from omr.forms import find_form
from omr.pages import find_pages, load_page
from omr.simulate.profile import PROFILES
from omr.simulate.session import simulate_session

# The pen models' students, half of them with a pen other than pencil, scanned in grey.
GREY_INK = dataclasses.replace(PROFILES["ink"], name="ink-grey", p_colour=0.0, p_ink_sheet=0.5)


def test_grey_sheets_in_marker_and_gel_are_flagged_and_pencil_ones_are_not(tmp_path):
    form = find_form("central-a4")
    # Seed 501's first sheets: 2B pencil, HB with blue ballpoint answers, all in
    # felt-tip marker, all in black gel.
    simulate_session(form, 4, 501, tmp_path, profile=GREY_INK)
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))["sheets"]
    refs, _ = find_pages([tmp_path / "scans"])
    flagged = {}
    for ref in refs:
        key = f"{ref.path.name}:{ref.index + 1}"
        read = read_page(load_page(ref).gray, form, find_calibration(), sheet_id=key)
        assert read.ok and read.media["colour"] is False
        media = [m["medium"] for m in read.media["marks"]]
        flagged[truth[key]["ink_pen"] or truth[key]["pencil"]] = media.count("ink") / len(media)
    assert flagged["felt-tip"] > 0.4 and flagged["black-gel"] > 0.4, flagged
    assert flagged["2B"] == 0, flagged  # a pencil sheet: no mark flagged
    # a blue ballpoint on grey is as light as pencil: not told, and not guessed
    assert flagged["blue-ballpoint"] < 0.2, flagged


def _marks(density, texture) -> MarkColour:
    d = np.asarray(density, dtype=float)
    return MarkColour(np.zeros_like(d), np.zeros_like(d), d, np.asarray(texture, dtype=float))


def test_a_few_dense_smooth_pencil_marks_do_not_make_a_sheet_in_marker():
    model = find_calibration().ink
    # Heavy 2B: most marks grainy, two as dense and smooth as a marker.
    heavy = _marks([0.8] * 18 + [1.05, 1.02], [0.15] * 18 + [0.10, 0.11])
    medium, _ = classify_grey(heavy, model)
    assert set(medium) == {"unknown"}
    # The same density and grain on most of the sheet: a sheet in marker.
    marker = _marks([1.3] * 16 + [0.8] * 4, [0.07] * 16 + [0.15] * 4)
    medium, _ = classify_grey(marker, model)
    assert list(medium).count("ink") == 16
    # Real grey pencil (open-mcr's scanner): as dense, but grainy throughout.
    real = _marks([1.16] * 24, [0.73] * 24)
    assert set(classify_grey(real, model)[0]) == {"unknown"}
