"""`omr forms fit` never ends in a traceback: property tests over the layout finder.

Random lattices (noisy, partial, diagonal, doubled, one column, one bubble)
go straight to the grid finder and the role guesser; random pages drawn in
code (grids of rings, filled bubbles, crosshairs, text-like strokes, noise, an
empty page) go through the whole proposal. Nothing may leave them but the
project's typed errors (and with ``filterwarnings = error`` no numpy warning
either).
"""

from __future__ import annotations

import cv2
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omr.detect.layout import FoundBubbles, Grid, estimate_skew, find_grids
from omr.errors import OmrError
from omr.formfit import _guess_fields, _merge_columns, check_proposal, propose_form

PX = 6.0  # px/mm of the drawn pages: small pages, quick examples


def _bubbles(xy: np.ndarray, size_mm: float) -> FoundBubbles:
    xy = np.asarray(xy, float).reshape(-1, 2)
    n = len(xy)
    return FoundBubbles(xy, np.full((n, 2), size_mm), "circle", np.zeros(n, bool))


@st.composite
def point_sets(draw) -> tuple[np.ndarray, float]:
    """Bubble centres in pixels, and a bubble size in mm."""
    size = draw(st.floats(2.5, 6.0))
    kind = draw(st.sampled_from(["lattice", "diagonal", "random", "one", "column", "doubled"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    pitch = size * PX * draw(st.floats(1.05, 2.4))
    if kind == "one":
        return rng.uniform(0, 500, (1, 2)), size
    if kind == "random":
        return rng.uniform(0, draw(st.floats(20, 1500)), (draw(st.integers(2, 120)), 2)), size
    if kind == "diagonal":  # links both ways along one slanted line: a singular "lattice"
        n = draw(st.integers(2, 30))
        t = np.arange(n)[:, None] * pitch
        ang = np.radians(draw(st.floats(-60, 60)))
        return 50 + t * [np.cos(ang), np.sin(ang)] + rng.normal(0, 0.5, (n, 2)), size
    rows = 1 if kind == "column" and draw(st.booleans()) else draw(st.integers(1, 25))
    cols = 1 if kind == "column" else draw(st.integers(1, 12))
    r, c = np.mgrid[0:rows, 0:cols]
    step_c = pitch * np.array([1.0, draw(st.floats(-0.1, 0.1))])
    step_r = pitch * draw(st.floats(0.8, 1.5)) * np.array([draw(st.floats(-0.1, 0.1)), 1.0])
    xy = 40 + c.reshape(-1, 1) * step_c + r.reshape(-1, 1) * step_r
    xy = xy + rng.normal(0, draw(st.floats(0, 0.3)) * pitch, xy.shape)
    keep = rng.random(len(xy)) > draw(st.floats(0, 0.6))
    xy = xy[keep] if keep.any() else xy[:1]
    if kind == "doubled":
        xy = np.vstack([xy, xy[: max(1, len(xy) // 3)] + rng.normal(0, 1.0, (1, 2))])
    return xy, size


@settings(max_examples=300, deadline=None)
@given(point_sets())
def test_grid_finder_takes_any_set_of_bubbles(case):
    xy, size = case
    grids = find_grids(_bubbles(xy, size), PX)
    assert all(isinstance(g, Grid) for g in grids)
    assert sum(g.rows * g.cols - len(g.missing) for g in grids) <= len(xy)
    for g in grids:
        assert g.rows >= 1 and g.cols >= 1
        assert np.all(np.isfinite(g.origin)) and np.all(np.isfinite(g.col_step))
    estimate_skew(_bubbles(xy, size), grids)

    def mm(p):
        return [round(float(v), 2) for v in (np.asarray(p, dtype=float) + 0.5) / PX]

    _guess_fields(_merge_columns(grids, PX), mm, PX, [])


@st.composite
def pages(draw) -> np.ndarray:
    """A small page drawn in code: some of rings, fills, crosshairs, strokes, noise."""
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    h, w = draw(st.integers(60, 700)), draw(st.integers(60, 600))
    page = np.full((h, w), draw(st.integers(150, 255)), np.uint8)
    for _ in range(draw(st.integers(0, 3))):  # grids of rings, some filled
        d = draw(st.floats(2.5, 6.0)) * PX
        pitch = d * draw(st.floats(1.1, 2.2))
        rows, cols = draw(st.integers(1, 12)), draw(st.integers(1, 8))
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        for i in range(rows):
            for j in range(cols):
                c = (int(x0 + j * pitch), int(y0 + i * pitch))
                fill = -1 if rng.random() < draw(st.floats(0, 0.5)) else max(1, int(0.05 * d))
                cv2.circle(page, c, int(d / 2), 30, fill, cv2.LINE_AA)
    for _ in range(draw(st.integers(0, 4))):  # crosshairs and strokes
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(5, 40)
        cv2.line(page, (int(x - r), int(y)), (int(x + r), int(y)), 20, 2)
        cv2.line(page, (int(x), int(y - r)), (int(x), int(y + r)), 20, 2)
        if rng.random() < 0.5:
            cv2.circle(page, (int(x), int(y)), int(r / 2), 20, 2)
    for _ in range(draw(st.integers(0, 3))):  # solid squares (corner marks?)
        x, y, s = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(5, 60)
        cv2.rectangle(page, (int(x), int(y)), (int(x + s), int(y + s)), 10, -1)
    noise = draw(st.floats(0, 40))
    if noise:
        page = np.clip(page + rng.normal(0, noise, page.shape), 0, 255).astype(np.uint8)
    return page


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(pages())
def test_a_proposal_from_any_page_ends_in_a_form_or_a_typed_refusal(page):
    try:
        proposal = propose_form(page, PX, name="fuzz")
    except OmrError:
        return
    assert proposal.page is not None and proposal.page.shape == page.shape
    for where, what in check_proposal(proposal):
        assert isinstance(where, str) and what
    proposal.yaml_text()


def test_an_empty_page_and_one_bubble_are_typed_refusals_or_forms():
    blank = np.full((300, 200), 240, np.uint8)
    one = blank.copy()
    cv2.circle(one, (100, 150), 12, 30, 1, cv2.LINE_AA)
    for page in (blank, one, np.zeros((300, 200), np.uint8)):
        try:
            propose_form(page, PX, name="fuzz")
        except OmrError as exc:
            assert str(exc)
