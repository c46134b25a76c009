"""Layout finder: bubbles, grids and registration on sheets drawn with cv2 at known mm positions.

Sheets are drawn at 24 px/mm, turned, then reduced to the scan resolution by
area averaging, so thin outlines come out grey and soft as on a real scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import cv2
import numpy as np
import pytest

from omr.detect.layout import (
    FoundBubbles,
    estimate_skew,
    find_bubbles,
    find_grids,
    find_registration,
)

MASTER = 24.0  # px/mm of the drawing
PAPER, PRINT, PENCIL = 245, 25, 70
SHIFT = 4  # cv2 fractional bits


# ------------------------------------------------------------------ drawing


def _p(x_mm: float, y_mm: float) -> tuple[int, int]:
    return (int(round(x_mm * MASTER * 16)), int(round(y_mm * MASTER * 16)))


def _px(mm: float) -> int:
    return max(1, int(round(mm * MASTER)))


def _outline_poly(kind: str, xy, size) -> np.ndarray:
    """Closed centre-line polygon of a bubble, (P, 2) in master px."""
    w, h = size[0] / 2, size[1] / 2
    t = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    if kind in ("circle", "ellipse"):
        pts = np.column_stack([w * np.cos(t), h * np.sin(t)])
    else:  # rounded-rect, corner radius 1 mm
        r = min(1.0, w, h)
        corners = [(w - r, h - r), (-(w - r), h - r), (-(w - r), -(h - r)), (w - r, -(h - r))]
        pts = []
        for k, (cx, cy) in enumerate(corners):
            a = np.linspace(k * np.pi / 2, (k + 1) * np.pi / 2, 12)
            pts.append(np.column_stack([cx + r * np.cos(a), cy + r * np.sin(a)]))
        pts = np.vstack(pts)
    return (pts + xy) * MASTER


def _poly(pts_px: np.ndarray) -> np.ndarray:
    return np.round(pts_px * 16).astype(np.int32).reshape(-1, 1, 2)


@dataclass
class Sheet:
    """A sheet in mm: bubbles, text, lines and registration marks."""

    width: float = 210.0
    height: float = 297.0
    kind: str = "circle"
    size: tuple[float, float] = (4.0, 4.0)
    line: float = 0.25
    bubbles: list = field(default_factory=list)  # (x, y) mm
    marks: dict = field(default_factory=dict)  # index -> "filled" | "partial" | "crossed"
    letters: bool = False
    ops: list = field(default_factory=list)  # extra drawing: (fn, args)

    def grid(self, origin, rows, cols, col_step, row_step, labels=True):
        for r in range(rows):
            for c in range(cols):
                self.bubbles.append((origin[0] + c * col_step, origin[1] + r * row_step))
            if labels and cols > 1:
                y = origin[1] + r * row_step
                self.text(str(r + 1), (origin[0] - 9, y + 1.2), 2.5)
        return self

    def text(self, s, xy, height_mm=2.5, thick_mm=0.3):
        self.ops.append(("text", (s, xy, height_mm, thick_mm)))
        return self

    def square(self, xy, side):
        x, y = xy
        pts = np.array([[x - side / 2, y - side / 2], [x + side / 2, y - side / 2]])
        pts = np.array([pts[0], pts[1], pts[1] + [0, side], pts[0] + [0, side]])
        self.ops.append(("poly", (pts, True)))
        return self

    def rect(self, xy, w, h, filled=True, thick_mm=0.3):
        x, y = xy
        pts = np.array([[x - w / 2, y - h / 2], [x + w / 2, y - h / 2]])
        pts = np.array([pts[0], pts[1], pts[1] + [0, h], pts[0] + [0, h]])
        self.ops.append(("poly", (pts, filled, thick_mm)))
        return self

    def disc(self, xy, d):
        self.ops.append(("disc", (xy, d)))
        return self

    def l_mark(self, corner_xy, arm, t, sx, sy):
        """An L with its corner at ``corner_xy``, arms towards (sx, sy) = (±1, ±1)."""
        x, y = corner_xy
        self.rect((x + sx * arm / 2, y + sy * t / 2), arm, t)
        self.rect((x + sx * t / 2, y + sy * arm / 2), t, arm)
        return self

    def render(self) -> np.ndarray:
        img = np.full((_px(self.height), _px(self.width)), PAPER, np.uint8)
        for fn, args in self.ops:
            if fn == "text":
                s, (x, y), hmm, tmm = args
                scale = hmm * MASTER / 22.0
                org, font = (_px(x), _px(y)), cv2.FONT_HERSHEY_SIMPLEX
                cv2.putText(img, s, org, font, scale, PRINT, _px(tmm), cv2.LINE_AA)
            elif fn == "poly":
                pts, filled, *t = args
                if filled:
                    cv2.fillPoly(img, [_poly(pts * MASTER)], PRINT, cv2.LINE_AA, SHIFT)
                else:
                    cv2.polylines(
                        img, [_poly(pts * MASTER)], True, PRINT, _px(t[0]), cv2.LINE_AA, SHIFT
                    )
            elif fn == "disc":
                (x, y), d = args
                cv2.circle(img, _p(x, y), int(d / 2 * MASTER * 16), PRINT, -1, cv2.LINE_AA, SHIFT)
        for k, xy in enumerate(self.bubbles):
            poly = _outline_poly(self.kind, np.array(xy, float), self.size)
            mark = self.marks.get(k)
            if mark == "filled":
                cv2.fillPoly(img, [_poly(poly)], PENCIL, cv2.LINE_AA, SHIFT)
            elif mark == "partial":  # the left 60 %, a little ragged
                c = np.array(xy) * MASTER
                keep = poly[:, 0] < c[0] + 0.1 * self.size[0] * MASTER
                cv2.fillPoly(img, [_poly(poly[keep] * 0.9 + c * 0.1)], PENCIL, cv2.LINE_AA, SHIFT)
            cv2.polylines(img, [_poly(poly)], True, PRINT, _px(self.line), cv2.LINE_AA, SHIFT)
            if self.letters and mark != "filled":
                letter = "ABCDE"[k % 5]
                scale = 0.45 * self.size[1] * MASTER / 22.0
                (tw, th), _ = cv2.getTextSize(letter, cv2.FONT_HERSHEY_SIMPLEX, scale, 3)
                org = (int(xy[0] * MASTER - tw / 2), int(xy[1] * MASTER + th / 2))
                cv2.putText(
                    img, letter, org, cv2.FONT_HERSHEY_SIMPLEX, scale, 120, _px(0.15), cv2.LINE_AA
                )
            if mark == "crossed":
                a, b = self.size[0] * 0.4, self.size[1] * 0.4
                for s in (1, -1):
                    p0, p1 = _p(xy[0] - a, xy[1] - s * b), _p(xy[0] + a, xy[1] + s * b)
                    cv2.line(img, p0, p1, PENCIL, _px(0.5), cv2.LINE_AA, SHIFT)
        return img


def scan(
    master: np.ndarray,
    dpi: float,
    *,
    degrees: float = 0.0,
    blur: float = 0.0,
    noise: float = 0.0,
    jpeg: int | None = None,
    seed: int = 0,
):
    """The sheet as scanned: turned by ``degrees`` (cv2 sense), reduced, blurred, noisy.

    Returns the image and a function mapping mm (K, 2) to the image's pixels.
    """
    h, w = master.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    img = cv2.warpAffine(master, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=PAPER)
    s = MASTER / (dpi / 25.4)
    out = cv2.resize(img, (int(w / s), int(h / s)), interpolation=cv2.INTER_AREA)
    if blur:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    if noise:
        rng = np.random.default_rng(seed)
        out = np.clip(out + rng.normal(0, noise, out.shape), 0, 255).astype(np.uint8)
    if jpeg:
        _, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, jpeg])
        out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    sx, sy = w / out.shape[1], h / out.shape[0]

    def to_px(xy_mm):
        p = np.asarray(xy_mm, float).reshape(-1, 2) * MASTER
        p = p @ m[:, :2].T + m[:, 2]
        # master pixel centres sit at integer coordinates; an output pixel averages s of them
        return np.column_stack([(p[:, 0] - (sx - 1) / 2) / sx, (p[:, 1] - (sy - 1) / 2) / sy])

    return out, to_px


def _match(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Distance from each true point to the nearest found point, (K,)."""
    if len(found) == 0:
        return np.full(len(truth), np.inf)
    d = np.linalg.norm(truth[:, None, :] - found[None, :, :], axis=-1)
    return d.min(axis=1)


# ------------------------------------------------------------------ sheets

# (origin mm, rows, cols, col step, row step), top to bottom then left to right
A4_GRIDS = [
    ((150.0, 30.0), 1, 4, 6.0, 0.0),  # booklet
    ((20.0, 45.0), 10, 11, 5.0, 4.7),  # student number
    ((84.0, 45.0), 10, 3, 5.0, 4.7),  # hall
    ((150.0, 62.0), 1, 1, 0.0, 0.0),  # proctor box
    ((24.0, 110.0), 20, 5, 6.0, 5.5),
    ((84.0, 110.0), 20, 5, 6.0, 5.5),
    ((144.0, 110.0), 20, 5, 6.0, 5.5),
    ((24.0, 232.0), 8, 4, 6.0, 5.5),
]


def a4_sheet(*, marks: str = "square", kind="circle", size=(4.0, 4.0), fills=False, **kw):
    sh = Sheet(kind=kind, size=size, **kw)
    for origin, rows, cols, cs, rs in A4_GRIDS:
        sh.grid(origin, rows, cols, cs, rs, labels=rows > 1 and cols == 5)
    sh.text("STUDENT NUMBER", (20, 38), 3.0).text("BOOKLET", (135, 24), 3.0)
    sh.text("Mark one answer per question with a soft pencil.", (20, 100), 2.6)
    sh.rect((45, 66), 58, 52, filled=False)  # a box around the student number
    sh.ops.append(("poly", (np.array([[20, 225], [190, 225]]), False, 0.3)))
    if marks == "square":
        for xy in ((10, 10), (200, 10), (10, 287), (200, 287)):
            sh.square(xy, 5.0)
        sh.square((20, 10), 3.0)  # orientation mark
    elif marks == "circle":
        for xy in ((10, 10), (200, 10), (10, 287), (200, 287)):
            sh.disc(xy, 6.0)
    elif marks == "l-shape":
        for (x, y), sx, sy in (
            ((6, 6), 1, 1),
            ((204, 6), -1, 1),
            ((6, 291), 1, -1),
            ((204, 291), -1, -1),
        ):
            sh.l_mark((x, y), 8.0, 1.5, sx, sy)
    if fills:  # one answer per row, some partial or crossed; a few digits
        n = 0
        for _origin, rows, cols, *_ in A4_GRIDS:
            for r in range(rows):
                c = (r * 7 + 3) % cols
                how = "filled" if r % 6 else ("partial" if r % 12 else "crossed")
                sh.marks[n + r * cols + c] = how
            n += rows * cols
    return sh


def a4_truth() -> list[np.ndarray]:
    """Lattice centres (rows, cols, 2) in mm for each of ``A4_GRIDS``."""
    out = []
    for (x, y), rows, cols, cs, rs in A4_GRIDS:
        r, c = np.mgrid[0:rows, 0:cols]
        out.append(np.stack([x + c * cs, y + r * rs], axis=-1).astype(float))
    return out


@cache
def _a4_master(marks: str, kind: str, size: tuple, fills: bool, letters: bool) -> np.ndarray:
    return a4_sheet(marks=marks, kind=kind, size=size, fills=fills, letters=letters).render()


@cache
def a4_scan(
    dpi, *, marks="square", kind="circle", size=(4.0, 4.0), fills=False, letters=False, **kw
):
    """The A4 sheet scanned at ``dpi`` (see :func:`scan`); cached, so never modify it."""
    return scan(_a4_master(marks, kind, size, fills, letters), dpi, **kw)


# A smaller sheet with a timing track: one dash per bubble row down the left
# edge, one per bubble column along the top.
TRACK_GRIDS = [((40.0, 40.0), 25, 5, 7.0, 6.0), ((95.0, 40.0), 25, 5, 7.0, 6.0)]


def track_sheet(*, kind="ellipse", size=(5.0, 3.0), fills=False, letters=True, top=True):
    sh = Sheet(width=150, height=200, kind=kind, size=size, letters=letters, line=0.3)
    for origin, rows, cols, cs, rs in TRACK_GRIDS:
        sh.grid(origin, rows, cols, cs, rs)
    for r in range(25):
        sh.rect((8.0, 40.0 + r * 6.0), 4.0, 1.5)
    if top:
        for (x0, _), _, cols, cs, _ in TRACK_GRIDS:
            for c in range(cols):
                sh.rect((x0 + c * cs, 8.0), 1.5, 4.0)
    sh.text("NAME ..........................", (40, 25), 3.0)
    if fills:
        for g in range(2):
            for r in range(25):
                how = "filled" if r % 5 else "crossed"
                sh.marks[g * 125 + r * 5 + (r * 3) % 5] = how
    return sh


@cache
def _track_master(kind, size, fills, top) -> np.ndarray:
    return track_sheet(kind=kind, size=size, fills=fills, top=top).render()


@cache
def track_scan(dpi, *, kind="ellipse", size=(5.0, 3.0), fills=False, top=True, **kw):
    """The timing-track sheet scanned at ``dpi``; cached, so never modify it."""
    return scan(_track_master(kind, size, fills, top), dpi, **kw)


def _mm(dpi: float) -> float:
    return dpi / 25.4


# ------------------------------------------------------------------ bubbles


@pytest.mark.parametrize(("dpi", "tol_mm"), [(300, 0.15), (150, 0.3)])
def test_every_printed_bubble_is_found_at_its_centre(dpi, tol_mm):
    img, to_px = a4_scan(dpi)
    before = img.copy()
    found = find_bubbles(img, _mm(dpi))
    find_registration(img, _mm(dpi), found)
    np.testing.assert_array_equal(img, before)  # the scan is never written to
    truth = to_px(np.concatenate([t.reshape(-1, 2) for t in a4_truth()]))
    assert len(found) == len(truth) == 477  # no label, box, line or mark taken for a bubble
    assert _match(found.xy, truth).max() < tol_mm * _mm(dpi)
    assert found.shape == "circle"
    np.testing.assert_allclose(np.median(found.size_mm, axis=0), 4.0, atol=0.1)
    np.testing.assert_allclose(found.size_mm, 4.0, atol=0.1 + 1 / _mm(dpi))  # whole pixels
    assert not found.filled.any()


@pytest.mark.parametrize("dpi", [300, 150])
@pytest.mark.parametrize(
    ("kind", "size"),
    [("ellipse", (5.0, 3.0)), ("rounded-rect", (5.0, 3.5)), ("circle", (3.0, 3.0))],
)
def test_bubble_kinds_with_letters_inside(kind, size, dpi):
    img, to_px = track_scan(dpi, kind=kind, size=size, degrees=1.0, blur=0.6, noise=5)
    found = find_bubbles(img, _mm(dpi))
    truth = to_px(np.array(track_sheet(kind=kind, size=size).bubbles))
    assert len(found) == 250  # the printed "A".."E" inside are not bubbles
    assert _match(found.xy, truth).max() < (0.15 if dpi == 300 else 0.3) * _mm(dpi)
    assert found.shape == kind
    np.testing.assert_allclose(np.median(found.size_mm, axis=0), size, atol=0.15)


def test_filled_partial_and_crossed_bubbles_are_found_and_flagged():
    sheet = a4_sheet(fills=True, letters=True)
    img, to_px = a4_scan(150, fills=True, letters=True, degrees=-1.5, blur=0.6, noise=5, jpeg=70)
    found = find_bubbles(img, _mm(150))
    truth = to_px(np.array(sheet.bubbles))
    assert len(found) == len(truth)
    marked = np.array([k in sheet.marks for k in range(len(truth))])
    nearest = np.linalg.norm(truth[:, None] - found.xy[None], axis=-1).argmin(axis=1)
    assert len(set(nearest.tolist())) == len(truth)
    np.testing.assert_array_equal(found.filled[nearest], marked)
    assert {"filled", "partial", "crossed"} == set(sheet.marks.values())


def test_a_page_of_text_has_no_bubble_grid_or_registration():
    sheet = Sheet()
    words = "OPTION 0 DO NOT WRITE OUTSIDE THE BOXES 80 Q0 BOOKLET ORDER 2024 o O @ 8 B D"
    rng = np.random.default_rng(1)
    y = 20.0
    for line in range(30):
        height = (2.5, 3.0, 4.0, 5.0, 7.0)[line % 5]
        sheet.text(
            " ".join(rng.choice(words.split(), 6)), (15, y), height, 0.25 + 0.05 * (line % 3)
        )
        y += 2.2 * height
    sheet.rect((105, 160), 190, 270, filled=False)
    for dpi in (300, 150):
        img, _ = scan(sheet.render(), dpi, noise=5)
        found = find_bubbles(img, _mm(dpi))
        assert len(found) == 0 and found.shape == ""
        assert find_grids(found, _mm(dpi)) == []
        assert find_registration(img, _mm(dpi), found).kind == "none"


@pytest.mark.parametrize(
    "gray",
    [
        np.full((400, 300), 240, np.uint8),
        np.zeros((400, 300), np.uint8),
        np.zeros((0, 0), np.uint8),
        np.random.default_rng(0).integers(0, 256, (300, 200)).astype(np.uint8),
    ],
    ids=["white", "black", "empty", "noise"],
)
def test_a_page_without_print_gives_empty_results(gray):
    found = find_bubbles(gray, 5.9)
    assert found.xy.shape == (0, 2) and found.size_mm.shape == (0, 2) and len(found.filled) == 0
    grids = find_grids(found, 5.9)
    assert grids == []
    assert np.isnan(estimate_skew(found, grids))
    reg = find_registration(gray, 5.9)
    assert reg.kind == "none" and reg.shape is None and reg.xy.shape == (0, 2)
    assert reg.tracks == () and reg.orientation_xy is None


def test_bad_input_is_a_programmer_error():
    with pytest.raises(ValueError, match="2-D array of uint8"):
        find_bubbles(np.zeros((10, 10, 3), np.uint8), 5.9)
    with pytest.raises(ValueError, match="2-D array of uint8"):
        find_registration(np.zeros((10, 10), np.float32), 5.9)
    with pytest.raises(ValueError, match="px_per_mm"):
        find_bubbles(np.zeros((10, 10), np.uint8), 0.0)


# ------------------------------------------------------------------ grids


def _bubbles(xy, size_mm=(4.0, 4.0)) -> FoundBubbles:
    xy = np.asarray(xy, float).reshape(-1, 2)
    return FoundBubbles(xy, np.tile(size_mm, (len(xy), 1)), "circle", np.zeros(len(xy), bool))


def _lattice(origin, rows, cols, col_step, row_step) -> np.ndarray:
    r, c = np.mgrid[0:rows, 0:cols]
    return (np.asarray(origin) + c[..., None] * col_step + r[..., None] * row_step).reshape(-1, 2)


def _assert_grids_match_a4(grids, to_px, dpi, tol_mm):
    assert [(g.rows, g.cols) for g in grids] == [(r, c) for _, r, c, _, _ in A4_GRIDS]
    for g, truth in zip(grids, a4_truth(), strict=True):
        expected = to_px(truth.reshape(-1, 2)).reshape(truth.shape)
        np.testing.assert_allclose(g.centres(), expected, atol=tol_mm * _mm(dpi))
        assert g.missing == ()


def test_grids_of_a_sheet_in_reading_order_with_least_squares_steps():
    dpi = 300
    img, to_px = a4_scan(dpi)
    grids = find_grids(find_bubbles(img, _mm(dpi)), _mm(dpi))
    _assert_grids_match_a4(grids, to_px, dpi, 0.05)
    answers = grids[4]  # 20 × 5, options 6 mm apart, questions 5.5 mm apart
    assert (answers.rows, answers.cols) == (20, 5)
    np.testing.assert_allclose(answers.col_step, [6.0 * _mm(dpi), 0.0], atol=0.01 * _mm(dpi))
    np.testing.assert_allclose(answers.row_step, [0.0, 5.5 * _mm(dpi)], atol=0.01 * _mm(dpi))
    assert answers.residual_px < 0.05 * _mm(dpi)
    proctor = grids[3]
    assert (proctor.rows, proctor.cols) == (1, 1)
    assert not proctor.col_step.any() and not proctor.row_step.any()
    booklet = grids[0]
    assert (booklet.rows, booklet.cols) == (1, 4) and not booklet.row_step.any()


def test_a_filled_turned_scan_gives_the_same_grids_as_the_blank():
    dpi = 150
    kw = dict(degrees=-1.5, blur=0.6, noise=5, jpeg=70)
    blank, to_px = a4_scan(dpi, **kw)
    filled, _ = a4_scan(dpi, fills=True, letters=True, **kw)  # as in the fill test above
    g_blank = find_grids(find_bubbles(blank, _mm(dpi)), _mm(dpi))
    g_filled = find_grids(find_bubbles(filled, _mm(dpi)), _mm(dpi))
    _assert_grids_match_a4(g_blank, to_px, dpi, 0.3)
    _assert_grids_match_a4(g_filled, to_px, dpi, 0.3)
    for a, b in zip(g_blank, g_filled, strict=True):
        np.testing.assert_allclose(a.centres(), b.centres(), atol=0.1 * _mm(dpi))


@pytest.mark.parametrize(("dpi", "degrees"), [(150, 2.0), (150, -1.5), (300, -3.0)])
def test_skew_of_a_turned_scan(dpi, degrees):
    img, _ = a4_scan(dpi, degrees=degrees, blur=0.6, noise=5, jpeg=70)
    found = find_bubbles(img, _mm(dpi))
    skew = estimate_skew(found, find_grids(found, _mm(dpi)))
    # cv2 turns the page by +degrees counter-clockwise on screen: rows then point at -degrees
    assert skew == pytest.approx(-degrees, abs=0.1)


def test_skew_and_steps_are_least_squares_fits_not_one_pair():
    rng = np.random.default_rng(3)
    turn = np.radians(1.3)
    rot = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    pts = _lattice((100, 200), 20, 5, np.array([70.9, 0]), np.array([0, 65.0])) @ rot.T
    noisy = pts + rng.normal(0, 1.0, pts.shape)  # 1 px of scatter on every centre
    (grid,) = find_grids(_bubbles(noisy), 11.81)
    np.testing.assert_allclose(grid.col_step, rot @ [70.9, 0], atol=0.25)  # ≪ 0.1 mm
    np.testing.assert_allclose(grid.row_step, rot @ [0, 65.0], atol=0.1)
    assert estimate_skew(_bubbles(noisy), [grid]) == pytest.approx(1.3, abs=0.1)
    assert grid.residual_px == pytest.approx(np.sqrt(2), rel=0.25)


def test_a_wider_gap_separates_two_grids_and_a_lost_bubble_is_a_missing_position():
    ppm = 11.81
    step = np.array([6.0 * ppm, 0]), np.array([0, 5.5 * ppm])
    left = _lattice((300, 400), 20, 5, *step)
    right = _lattice((300 + 12 * 6.0 * ppm, 400), 20, 5, *step)  # 42 mm gap
    keep = np.ones(len(left), bool)
    keep[7 * 5 + 2] = False  # row 7, column 2 lost to a pen stroke
    grids = find_grids(_bubbles(np.vstack([left[keep], right])), ppm)
    assert [(g.rows, g.cols) for g in grids] == [(20, 5), (20, 5)]
    assert grids[0].missing == ((7, 2),) and grids[1].missing == ()
    np.testing.assert_allclose(grids[0].origin, (300, 400), atol=1e-6)


def test_a_column_with_no_bubble_at_all_is_never_invented():
    ppm = 11.81
    pts = _lattice((300, 400), 10, 5, np.array([6.0 * ppm, 0]), np.array([0, 5.5 * ppm]))
    keep = np.arange(len(pts)) % 5 != 2  # column 2 gone entirely
    grids = find_grids(_bubbles(pts[keep]), ppm)
    assert [(g.rows, g.cols, g.missing) for g in grids] == [(10, 2, ()), (10, 2, ())]


def test_pitches_differ_between_grids_and_directions():
    ppm = 5.9  # 150 dpi
    digits = _lattice((100, 100), 10, 11, np.array([5.0 * ppm, 0]), np.array([0, 4.7 * ppm]))
    booklet = _lattice((500, 100), 1, 4, np.array([8.0 * ppm, 0]), np.zeros(2))
    single = np.array([[700.0, 100.0]])
    grids = find_grids(_bubbles(np.vstack([single, digits, booklet])), ppm)
    assert [(g.rows, g.cols) for g in grids] == [(10, 11), (1, 4), (1, 1)]  # reading order
    np.testing.assert_allclose(grids[0].col_step, [5.0 * ppm, 0], atol=1e-6)
    np.testing.assert_allclose(grids[0].row_step, [0, 4.7 * ppm], atol=1e-6)
    np.testing.assert_allclose(grids[1].col_step, [8.0 * ppm, 0], atol=1e-6)
    np.testing.assert_allclose(grids[2].origin, single[0])


# ------------------------------------------------------------------ registration


@pytest.mark.parametrize(("marks", "size"), [("square", 5.0), ("circle", 6.0), ("l-shape", 8.0)])
def test_corner_marks(marks, size):
    dpi = 150
    img, to_px = a4_scan(dpi, marks=marks, degrees=-1.5, blur=0.6, noise=5, jpeg=70)
    found = find_bubbles(img, _mm(dpi))
    reg = find_registration(img, _mm(dpi), found)
    assert (reg.kind, reg.shape, len(reg.xy), reg.tracks) == ("corner-marks", marks, 4, ())
    if marks == "l-shape":  # centre of each L's 8 mm box
        truth = [(6 + 4, 6 + 4), (204 - 4, 6 + 4), (6 + 4, 291 - 4), (204 - 4, 291 - 4)]
    else:
        truth = [(10, 10), (200, 10), (10, 287), (200, 287)]
    assert _match(reg.xy, to_px(truth)).max() < 0.3 * _mm(dpi)
    np.testing.assert_allclose(reg.size_mm, size, atol=0.4)
    if marks == "square":
        np.testing.assert_allclose(reg.orientation_xy, to_px([(20, 10)])[0], atol=0.3 * _mm(dpi))
    else:
        assert reg.orientation_xy is None


def test_no_registration_and_filled_bubbles_are_never_marks():
    img, _ = a4_scan(150, marks="none", fills=True, letters=True)
    assert find_registration(img, _mm(150)).kind == "none"


@pytest.mark.parametrize("dpi", [300, 150])
def test_timing_track_down_the_left_edge_and_along_the_top(dpi):
    img, to_px = track_scan(dpi, fills=True, degrees=2.0, blur=0.6, noise=5, jpeg=70)
    reg = find_registration(img, _mm(dpi))
    assert (reg.kind, reg.shape, reg.orientation_xy) == ("timing-track", None, None)
    left = to_px([(8.0, 40.0 + 6.0 * r) for r in range(25)])
    top = to_px(
        [(x0 + c * cs, 8.0) for (x0, _), _, cols, cs, _ in TRACK_GRIDS for c in range(cols)]
    )
    assert [len(t) for t in reg.tracks] == [25, 10]
    tol = (0.15 if dpi == 300 else 0.3) * _mm(dpi)
    np.testing.assert_allclose(reg.tracks[0], left, atol=tol)  # in order along the track
    np.testing.assert_allclose(reg.tracks[1], top, atol=tol)
    assert len(reg.xy) == 35
    np.testing.assert_allclose(reg.size_mm, (4.0, 1.5), atol=0.25)


def test_timing_track_alone_without_top_row():
    img, _ = track_scan(150, top=False)
    reg = find_registration(img, _mm(150))
    assert reg.kind == "timing-track" and [len(t) for t in reg.tracks] == [25]


def test_grid_rows_line_up_with_the_timing_track():
    dpi = 150
    img, _ = track_scan(dpi, degrees=-1.0)
    found = find_bubbles(img, _mm(dpi))
    grids = find_grids(found, _mm(dpi))
    reg = find_registration(img, _mm(dpi), found)
    assert [(g.rows, g.cols) for g in grids] == [(25, 5), (25, 5)]
    rows = grids[0].centres()[:, 0]  # first bubble of each row
    # each dash sits on the line of its row: dash-to-row vectors all parallel to the rows
    d = rows - reg.tracks[0]
    across = d @ (grids[0].row_step / np.linalg.norm(grids[0].row_step))
    assert np.abs(across).max() < 0.3 * _mm(dpi)


def test_pieces_of_one_lattice_cut_apart_by_lost_bubbles_are_one_grid():
    ppm = 5.9
    pts = _lattice((100, 100), 10, 3, np.array([5.0 * ppm, 0]), np.array([0, 4.7 * ppm]))
    lost = {3 * r + (r * 2) % 3 for r in range(10)}  # one filled digit per row lost
    keep = np.array([k not in lost for k in range(len(pts))])
    (grid,) = find_grids(_bubbles(pts[keep]), ppm)
    assert (grid.rows, grid.cols) == (10, 3)
    assert set(grid.missing) == {(r, (r * 2) % 3) for r in range(10)}
    np.testing.assert_allclose(grid.origin, (100, 100), atol=1e-6)


def test_pen_strokes_across_bubbles_leave_missing_positions_not_new_grids():
    master = _a4_master("square", "circle", (4.0, 4.0), True, False).copy()
    for (x0, y0), (x1, y1) in (((20, 130), (60, 140)), ((150, 160), (160, 150))):
        p0, p1 = (_px(x0), _px(y0)), (_px(x1), _px(y1))
        cv2.line(master, p0, p1, PENCIL, _px(0.6), cv2.LINE_AA)
    img, to_px = scan(master, 150, degrees=1.0)
    grids = find_grids(find_bubbles(img, _mm(150)), _mm(150))
    assert [(g.rows, g.cols) for g in grids] == [(r, c) for _, r, c, _, _ in A4_GRIDS]
    lost = sum(len(g.missing) for g in grids)
    assert 0 < lost <= 8  # only the bubbles under the two strokes
    for g, truth in zip(grids, a4_truth(), strict=True):
        expected = to_px(truth.reshape(-1, 2)).reshape(truth.shape)
        np.testing.assert_allclose(g.centres(), expected, atol=0.3 * _mm(150))
