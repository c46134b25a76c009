"""Real-sheet cases the simulator makes: 150-dpi scans, rings in pen or marker inside a bubble."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
from simhelpers import placement_from_truth, scan_params

from omr.simulate import PROFILES
from omr.simulate.candidates import make_exam, make_roster
from omr.simulate.scanner import scan_page
from omr.simulate.session import SESSION_STREAM, SheetMaker, render_blank


@pytest.mark.parametrize(("dpi", "outline_below"), [(150, 160), (300, 90)])
def test_printed_outlines_and_fills_survive_a_150_dpi_scan(quiz, dpi, outline_below):
    """At 150 dpi a 0.2 mm outline is about a pixel: lighter than at 300, still there."""
    blank = render_blank(quiz)
    scan = scan_page(blank, scan_params(dpi=dpi), page_mm=(quiz.page.width, quiz.page.height))
    assert scan.shape == (round(quiz.page.height * dpi / 25.4), round(quiz.page.width * dpi / 25.4))
    layout = quiz.layout
    xy = layout.centers_xy[layout.fields["quiz"].index.ravel()][:40]
    k = dpi / 25.4
    r = float(layout.radius[0])
    ring = []
    for x, y in xy:
        a = np.linspace(0, 2 * np.pi, 48, endpoint=False)[:, None]
        rr = np.linspace(r - 0.3, r + 0.3, 7)[None, :]
        px = np.rint((x + rr * np.cos(a)) * k - 0.5).astype(int)
        py = np.rint((y + rr * np.sin(a)) * k - 0.5).astype(int)
        ring.append(np.median(scan[py, px].min(axis=1)))
    assert np.median(ring) < outline_below
    # the paper between two bubbles of a row stays white
    gap = (xy[0] + xy[1]) / 2
    assert scan[int(gap[1] * k), int(gap[0] * k)] > 240


def _maker(form, **changes):
    p = dataclasses.replace(PROFILES["clean"], **changes)
    rng = np.random.default_rng([9, SESSION_STREAM])
    roster = make_roster(form, 4, rng, p)
    exam = make_exam(form, rng, p, name="rings")
    return SheetMaker(form, p, 9, exam, roster, render_blank(form))


@pytest.mark.parametrize("pen_model", [False, True])
def test_rings_inside_a_bubble_are_ink_and_no_answer(quiz, pen_model):
    maker = _maker(
        quiz, p_ring_sheet=1.0, rings_per_sheet=(3, 3), pen_model=pen_model, p_colour=1.0
    )
    data, truth = maker(0)
    rings = [m for m in truth["marks"] if m["kind"] == "ring"]
    assert len(rings) == 3 and truth["ink"]
    answers = truth["answers"]["quiz"]
    for m in rings:
        assert m["ambiguous"] and m["medium"] == "ink" and m["pen"] in PROFILES["clean"].ring_pens
        assert len(answers[m["item"]]) == 1 and m["option"] not in answers[m["item"]]
        assert 0.02 < m["coverage"] < 0.5  # a line, not a fill
    scan = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    m = placement_from_truth(truth["scan"], (quiz.page.width, quiz.page.height))
    plan = maker.plan(0)
    layout = quiz.layout
    for ring in plan.rings:
        x, y = layout.centers_xy[ring.bubble]
        r = layout.radius[ring.bubble] * ring.coverage
        a = np.linspace(0, 2 * np.pi, 64, endpoint=False)
        line = [m @ np.array([x + r * np.cos(t), y + r * np.sin(t), 1.0]) for t in a]
        on_line = np.median([scan[round(py), round(px)] for px, py in line])
        cx, cy = np.rint(m @ np.array([x, y, 1.0])).astype(int)
        assert on_line < 170 < scan[cy - 1 : cy + 2, cx - 1 : cx + 2].mean(), (on_line, ring)
    # off in every built-in profile: their sheets carry no rings
    assert all(p.p_ring_sheet == 0 for name, p in PROFILES.items() if name != "real-marks")


def test_light_fills_are_lighter_than_a_dark_print(quiz):
    maker = _maker(quiz, p_light_sheet=1.0, print_darkness=(1.5, 1.5), dpi_choices=(300,))
    maker = SheetMaker(
        quiz,
        dataclasses.replace(maker.profile, dpi_weights=(1.0,)),
        9,
        maker.exam,
        maker.roster,
        maker.blank,
    )
    data, truth = maker(1)
    assert truth["print_darkness"] == 1.5
    light = [m for m in truth["marks"] if m["kind"] == "light"]
    assert len(light) > 10 and all(0.15 <= m["darkness"] <= 0.3 for m in light)
    assert all(m["kind"] != "fill" for m in truth["marks"] if m["field"] == "quiz")
    scan = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    m = placement_from_truth(truth["scan"], (quiz.page.width, quiz.page.height))
    layout = quiz.layout
    f = layout.fields["quiz"]
    inside, outline = [], []
    for mark in light:
        b = f.index[mark["item"], f.option_labels.index(mark["option"])]
        x, y = layout.centers_xy[b]
        r = layout.radius[b]
        px, py = np.rint(m @ np.array([x + 0.45 * r, y, 1.0])).astype(int)
        inside.append(scan[py - 1 : py + 2, px - 1 : px + 2].mean())
        a = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        ring = [m @ np.array([x + r * np.cos(t), y + r * np.sin(t), 1.0]) for t in a]
        outline.append(np.median([scan[round(v), round(u)] for u, v in ring]))
    # the printed outline is darker than the candidate's shading inside it
    assert np.median(outline) + 40 < np.median(inside) < 235
