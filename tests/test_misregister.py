"""The misregistration stress mode: prints shifted against the marks, their truth, and evaluate."""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
from collections import Counter

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from simhelpers import placement_from_truth

from omr.cli import cli
from omr.evaluate import evaluate_run, misregistered_outcome
from omr.forms import check_geometry, find_form
from omr.pipeline import run_session
from omr.records import SheetRead
from omr.simulate import PROFILES, simulate_session
from omr.simulate.candidates import make_exam, make_roster
from omr.simulate.misprint import (
    MISREGISTER_KINDS,
    bubble_pitch,
    draw_misprint,
    lower_fields,
    shifted_form,
    sister_form,
)
from omr.simulate.session import SESSION_STREAM, SheetMaker, render_blank

MISREGISTER = dataclasses.replace(PROFILES["clean"], p_misregister=1.0)


def test_shifted_form_moves_the_bubble_fields_and_keeps_marks_and_text(central):
    moved = shifted_form(central, (6.0, 0.0), ["course2", "signature"])
    a, b = central.layout, moved.layout
    course2 = a.fields["course2"].index.ravel()
    assert np.allclose(b.centers_xy[course2] - a.centers_xy[course2], (6.0, 0.0))
    rest = np.setdiff1d(np.arange(len(a)), course2)
    assert np.array_equal(b.centers_xy[rest], a.centers_xy[rest])
    assert moved.signature.origin == (central.signature.origin[0] + 6, central.signature.origin[1])
    assert moved.registration == central.registration and moved.texts == central.texts


def test_lower_half_is_the_answer_area_of_central_and_pitches_are_the_blocks(central, quiz):
    assert lower_fields(central) == ("course1", "course2", "course3", "course4")
    assert bubble_pitch(central) == (6.0, 5.5)
    sister = sister_form(central, 0.9, (0.0, 2.75))
    course1 = sister.answer_blocks["course1"]
    assert course1.option_step == pytest.approx((5.4, 0.0))
    assert course1.origin == (24.0, 124.75)
    assert sister.identity == central.identity and sister.group == central.group
    # quiz-a5's one block fills the page: it is the lowest field
    assert lower_fields(quiz) == ("quiz",)


def test_draw_misprint_makes_every_kind_and_shift_and_the_print_is_valid(central):
    seen = Counter()
    for i in range(40):
        drawn = draw_misprint(central, MISREGISTER, np.random.default_rng([7, i]))
        assert drawn is not None
        misprint, printed = drawn
        assert check_geometry(printed) == []
        pitch = bubble_pitch(central)[0 if misprint.axis == "x" else 1]
        along = misprint.shift_mm[0 if misprint.axis == "x" else 1]
        assert along == pytest.approx(misprint.pitches * pitch)
        seen[(misprint.kind, abs(misprint.pitches))] += 1
        moved = misprint.fields
        if misprint.kind == "sister-form":
            assert misprint.pitch_scale in (0.9, 1.1) and moved == tuple(central.answer_blocks)
        elif misprint.kind == "lower-half":
            assert "group" not in moved and "course1" in moved
        else:
            assert {"group", "national_id", "course4", "signature"} <= set(moved)
    assert {k for k, _ in seen} == set(MISREGISTER_KINDS)
    assert {abs(p) for _, p in seen} == {0.5, 1.0, 1.5}
    # off: nothing drawn, no draw taken
    rng = np.random.default_rng(1)
    assert draw_misprint(central, PROFILES["stress"], rng) is None
    assert rng.random() == np.random.default_rng(1).random()


def test_marks_are_filled_where_the_shifted_print_is(quiz):
    """Half a pitch across: the form's bubble centres fall between the printed bubbles."""
    p = dataclasses.replace(
        MISREGISTER,
        misregister_kinds=("shift",),
        misregister_weights=(1.0,),
        misregister_pitches=(0.5,),
    )
    rng = np.random.default_rng([3, SESSION_STREAM])
    roster = make_roster(quiz, 1, rng, p)
    exam = make_exam(quiz, rng, p, name="shifted")
    maker = SheetMaker(quiz, p, 3, exam, roster, render_blank(quiz))
    data, truth = maker(0)
    mis = truth["misregistered"]
    assert mis["kind"] == "shift" and abs(mis["pitches"]) == 0.5
    assert mis["shift_mm"] == [pytest.approx(x) for x in maker.printed(0)[0].shift_mm]
    scan = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    m = placement_from_truth(truth["scan"], (quiz.page.width, quiz.page.height))
    layout = quiz.layout
    f = layout.fields["quiz"]
    filled = [
        f.index[k["item"], f.option_labels.index(k["option"])]
        for k in truth["marks"]
        if k["field"] == "quiz" and k["kind"] == "fill" and k["coverage"] > 0.9
    ]
    assert len(filled) > 10

    def level(xy_mm) -> float:
        x, y = np.rint(m @ np.array([*xy_mm, 1.0])).astype(int)
        return float(scan[y - 2 : y + 3, x - 2 : x + 3].mean())

    shift = np.asarray(mis["shift_mm"])
    printed = np.median([level(layout.centers_xy[b] + shift) for b in filled])
    formed = np.median([level(layout.centers_xy[b]) for b in filled])
    assert printed < 150 < formed, (printed, formed)


# ---------------------------------------------------------------- evaluate's own silent-error class


def test_misregistered_outcome_tells_scored_from_held_and_refused():
    read = SheetRead("s:1", "s", 1, "quiz-a5")
    refused = SheetRead("s:1", "s", 1, "quiz-a5", problem="marks-not-found")
    assert misregistered_outcome(read, ["scored"]) == "scored"
    assert misregistered_outcome(read, ["review:faint", "void:no-group"]) == "scored"
    assert misregistered_outcome(read, ["absent"]) == "scored"
    assert misregistered_outcome(read, ["review:registration-weak"]) == "review"
    assert misregistered_outcome(refused, ["review:marks-not-found"]) == "refused"


@pytest.fixture(scope="module")
def misregistered_run(tmp_path_factory):
    """Three quiz sheets, every one printed out of register, read by today's reader."""
    root = tmp_path_factory.mktemp("misregistered")
    truth = simulate_session(find_form("quiz-a5"), 3, 5, root, profile="clean", misregister=1.0)
    run_session(root, jobs=1)
    return root, truth


def _set_statuses(results_csv, statuses: dict[str, str]) -> None:
    with results_csv.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    for row in rows:
        row["status"] = statuses.get(row["sheet"], row["status"])
    with results_csv.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def test_truth_records_every_shift_of_a_misregistered_session(misregistered_run):
    root, truth = misregistered_run
    assert truth["misregister"] == 1.0
    on_disk = json.loads((root / "truth.json").read_text(encoding="utf-8"))
    assert on_disk == truth
    for sheet in truth["sheets"].values():
        mis = sheet["misregistered"]
        assert mis["kind"] in MISREGISTER_KINDS and abs(mis["pitches"]) in (0.5, 1.0, 1.5)
        assert mis["fields"] and sum(map(abs, mis["shift_mm"])) > 0
    # in register: no key, and the same truth as before the mode existed
    plain = simulate_session(find_form("quiz-a5"), 1, 5, root / "plain", profile="clean")
    assert "misregistered" not in plain["sheets"]["stack.pdf:1"] and "misregister" not in plain


def test_evaluate_counts_a_scored_misregistered_page_as_a_silent_error(misregistered_run, tmp_path):
    root, _ = misregistered_run
    out = tmp_path / "out"
    shutil.copytree(root / "out", out)
    _set_statuses(
        out / "results.csv",
        {
            "stack.pdf:1": "scored",
            "stack.pdf:2": "review:registration-weak",
            "stack.pdf:3": "absent",
        },
    )
    report = evaluate_run(out, root / "truth.json")
    m = report["misregistered"]
    assert (m["pages"], m["scored"], m["review"] + m["refused"]) == (3, 2, 1)
    assert [p["sheet"] for p in m["scored_pages"]] == ["stack.pdf:1", "stack.pdf:3"]
    classes = report["silent_error_classes"]
    assert classes["misregistered-scored"] == 2
    assert report["silent_errors"] == sum(classes.values()) >= 2
    # the page held for a person was the right call, never an unnecessary review
    assert report["review_sheets"] == report["review_needed"] == 1
    assert report["sheets_exact_count"] == 0
    result = CliRunner().invoke(cli, ["evaluate", str(out), "--truth", str(root / "truth.json")])
    assert result.exit_code == 8, result.output
    assert "2 of 3 pages printed out of register scored" in result.output
    assert "misregistered-scored stack.pdf:3" in result.output

    _set_statuses(
        out / "results.csv", {f"stack.pdf:{i}": "review:registration-weak" for i in (1, 2, 3)}
    )
    held = evaluate_run(out, root / "truth.json")
    assert (
        held["misregistered"]["scored"] == 0
        and held["silent_error_classes"]["misregistered-scored"] == 0
    )
