"""Registration on copies of a picture the user supplies (``kind: marker-image``).

Each copy is found by normalised template matching (``cv2.matchTemplate``,
``TM_CCOEFF_NORMED``) over a few scales and the four quarter turns of the
picture, first near where a page in any quarter turn would put it, then, when
fewer than three are found there, over the whole page. The turn each copy is
found in tells the page's when the picture is not the same turned; a picture
that is (a bullseye) leaves the way up to the printed bubble outlines.
"""

from __future__ import annotations

import cv2
import numpy as np

from omr.detect.register.geometry import fit_on_nearest, initial_guess, match_nearest, spread
from omr.detect.register.outlines import way_up_by_outlines
from omr.detect.register.result import RegistrationFailed
from omr.detect.sampling import apply_transform, sample_image
from omr.forms import Form

# The page may come out a little larger or smaller than its image's size says
# (a scan cropped, a photo): copies are looked for at these shares of the size.
SCALES = (0.8, 0.9, 1.0, 1.12, 1.25)
# A photo's sheet may fill half its frame or less: its copies are looked for smaller.
PHOTO_SCALES = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.12)
MIN_MATCH = 0.5  # least normalised correlation of a copy
WORSE_THAN_BEST = 0.2  # a copy matching this much worse than the page's best is left out
TURN_TELLS = 0.2  # the page's turn fits the copies this much better than any other turn


def _templates(marker: np.ndarray, size_px: tuple[float, float], scales=SCALES) -> dict:
    """(scale, turns) -> the picture at ``size_px`` times scale, turned like a page by ``turns``.

    A page turned by ``turns`` quarter turns clockwise (as
    :func:`~omr.detect.register.geometry.initial_guess` turns it) shows its
    marker turned so too.
    """
    out = {}
    for s in scales:
        w, h = max(4, round(size_px[0] * s)), max(4, round(size_px[1] * s))
        upright = cv2.resize(marker, (w, h), interpolation=cv2.INTER_AREA)
        for t in range(4):
            out[s, t] = np.ascontiguousarray(np.rot90(upright, -t))
    return out


def _best_in(window: np.ndarray, templates: dict) -> tuple[float, tuple, np.ndarray] | None:
    """The best match in ``window``: (score, (scale, turns), centre (x, y) in the window)."""
    best = None
    for key, tpl in templates.items():
        th, tw = tpl.shape
        if window.shape[0] < th or window.shape[1] < tw or tpl.std() == 0:
            continue
        res = cv2.matchTemplate(window, tpl, cv2.TM_CCOEFF_NORMED)
        _, score, _, (x, y) = cv2.minMaxLoc(res)
        if best is None or score > best[0]:
            best = (float(score), key, np.array([x + (tw - 1) / 2, y + (th - 1) / 2]))
    return best


def _window(img: np.ndarray, centre, reach: float) -> tuple[np.ndarray, np.ndarray]:
    """The part of ``img`` within ``reach`` pixels of ``centre`` and its top-left corner."""
    h, w = img.shape
    x0, y0 = (max(0, int(c - reach)) for c in centre)
    x1, y1 = min(w, int(centre[0] + reach) + 1), min(h, int(centre[1] + reach) + 1)
    return img[y0:y1, x0:x1], np.array([x0, y0], dtype=float)


def _turn_scores(img: np.ndarray, centre, templates: dict, scale: float) -> np.ndarray:
    """The best correlation of each quarter turn of the picture right at ``centre`` (4,)."""
    out = np.full(4, -1.0)
    for t in range(4):
        tpl = templates[scale, t]
        reach = max(tpl.shape) / 2 + 2
        win, _ = _window(img, centre, reach)
        if win.shape[0] >= tpl.shape[0] and win.shape[1] >= tpl.shape[1]:
            out[t] = float(cv2.matchTemplate(win, tpl, cv2.TM_CCOEFF_NORMED).max())
    return out


def find_marker_copies(
    small: np.ndarray, marker: np.ndarray, size_px, spots, reach_px: float
) -> list[tuple[np.ndarray, float, tuple, np.ndarray]]:
    """Copies of ``marker`` on ``small``: (centre (x, y), score, (scale, turns), turn scores).

    ``spots`` (K, 2) are where copies are expected; each is searched within
    ``reach_px``; with fewer than three found there, the whole page is
    searched. A copy matching ``WORSE_THAN_BEST`` below the best is left out
    (a copy cut by the page's edge matched 0.5-0.56 where whole ones matched
    0.95-0.98, and put the fit off by millimetres).
    """
    templates = _templates(marker, size_px)
    found = []
    # A half turn of a symmetric layout puts its copies where the upright one
    # does: each spot is searched once.
    unique: list[np.ndarray] = []
    for spot in np.asarray(spots, dtype=float):
        if all(np.abs(spot - u).max() > 0.5 for u in unique):
            unique.append(spot)
    for spot in unique:
        win, corner = _window(small, spot, reach_px + max(size_px) * 0.7)
        best = _best_in(win, templates)
        if best is not None and best[0] >= MIN_MATCH:
            centre = corner + best[2]
            if all(np.hypot(*(centre - c[0])) > 0.5 * min(size_px) for c in found):
                found.append((centre, best[0], best[1]))
    if len(found) < 3:
        found = _whole_page(small, templates, min(size_px))
    if found:
        # Copies of one picture printed and scanned together match alike: one
        # matching far worse is cut by the page's edge, torn or not a copy.
        best = max(s for _, s, _ in found)
        found = [c for c in found if c[1] >= best - WORSE_THAN_BEST]
    return [(c, s, k, _turn_scores(small, c, templates, k[0])) for c, s, k in found]


def _whole_page(small: np.ndarray, templates: dict, side_px: float, most: int = 16) -> list:
    """The ``most`` best copies anywhere on the page, none within a marker of another."""
    best = np.full(small.shape, -1.0, dtype=np.float32)
    for tpl in templates.values():
        th, tw = tpl.shape
        if small.shape[0] < th or small.shape[1] < tw or tpl.std() == 0:
            continue
        res = cv2.matchTemplate(small, tpl, cv2.TM_CCOEFF_NORMED)
        y0, x0 = (th - 1) // 2, (tw - 1) // 2
        view = best[y0 : y0 + res.shape[0], x0 : x0 + res.shape[1]]
        np.maximum(view, res, out=view)
    k = max(3, int(side_px) | 1)
    peaks = (best >= MIN_MATCH) & (best == cv2.dilate(best, np.ones((k, k), np.uint8)))
    ys, xs = np.nonzero(peaks)
    order = np.argsort(-best[ys, xs])[:most]
    out = []
    for i in order:
        centre = np.array([xs[i], ys[i]], dtype=float)
        win, corner = _window(small, centre, side_px)
        got = _best_in(win, templates)
        if got is not None:
            out.append((corner + got[2], got[0], got[1]))
    return out


def same_half_turned(marker: np.ndarray, alike: float = 1 - TURN_TELLS) -> bool:
    """Whether the picture correlates with itself half turned ``alike`` or better (a bullseye).

    Then the copies found do not tell a page's half turn: the printed bubbles must.
    """
    a = marker.astype(np.float32)
    b = np.ascontiguousarray(np.rot90(a, 2))
    # Shifted as far as a tenth of its size: a bullseye drawn off the picture's
    # centre is still the same half turned on paper, where its margin is paper.
    py, px = (max(1, d // 10) for d in a.shape)
    edge = float(np.median(np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])))
    padded = cv2.copyMakeBorder(a, py, py, px, px, cv2.BORDER_CONSTANT, value=edge)
    return float(cv2.matchTemplate(padded, b, cv2.TM_CCOEFF_NORMED).max()) >= alike


def marker_quad(gray: np.ndarray, form: Form, work_px_per_mm: float = 4.0):
    """Centres of the outermost copies on a photo, top-left, top-right, bottom-right,
    bottom-left as seen (4, 2) px; None when fewer than four copies are found.

    The copies are looked for over the whole frame at :data:`PHOTO_SCALES`;
    the quad they make straightens the photo as the corner squares' quad does.
    """
    from omr.detect.photo import order_corners

    reg = form.registration
    scale0 = max(gray.shape) / max(form.page.width, form.page.height)
    f = min(1.0, work_px_per_mm / scale0)
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else gray
    size = (reg.mark_size[0] * scale0 * f, reg.mark_size[1] * scale0 * f)
    templates = _templates(form.marker_gray, size, PHOTO_SCALES)
    found = _whole_page(small, templates, PHOTO_SCALES[0] * min(size))
    if found:
        best = max(sc for _, sc, _ in found)
        found = [c for c in found if c[1] >= best - WORSE_THAN_BEST]
    if len(found) < 4:
        return None
    return order_corners(np.array([c for c, _, _ in found]) / f)


def refine_copy(gray: np.ndarray, centre, marker: np.ndarray, size_px, scale: float, turns: int):
    """The copy's centre on the full-resolution page, to a fraction of a pixel."""
    w, h = max(4, round(size_px[0] * scale)), max(4, round(size_px[1] * scale))
    tpl = np.rot90(cv2.resize(marker, (w, h), interpolation=cv2.INTER_AREA), -turns)
    tpl = np.ascontiguousarray(tpl)
    reach = max(tpl.shape) / 2 + max(3.0, 0.1 * max(tpl.shape))
    win, corner = _window(gray, centre, reach)
    if win.shape[0] < tpl.shape[0] + 2 or win.shape[1] < tpl.shape[1] + 2:
        return centre
    res = cv2.matchTemplate(win, tpl, cv2.TM_CCOEFF_NORMED)
    _, _, _, (x, y) = cv2.minMaxLoc(res)
    dx = dy = 0.0
    if 0 < x < res.shape[1] - 1:
        a, b, c = res[y, x - 1], res[y, x], res[y, x + 1]
        dx = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) < 0 else 0.0
    if 0 < y < res.shape[0] - 1:
        a, b, c = res[y - 1, x], res[y, x], res[y + 1, x]
        dy = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) < 0 else 0.0
    th, tw = tpl.shape
    return corner + np.array([x + dx + (tw - 1) / 2, y + dy + (th - 1) / 2])


def _dark_points_mm(marker: np.ndarray, size_mm, most: int = 200) -> np.ndarray:
    """Points (P, 2), mm from the marker's centre, where the picture is dark (its ink)."""
    h, w = marker.shape
    lo, hi = float(marker.min()), float(marker.max())
    ys, xs = np.nonzero(marker < lo + 0.3 * (hi - lo))
    step = max(1, len(xs) // most)
    pts = np.column_stack([(xs[::step] + 0.5) / w - 0.5, (ys[::step] + 0.5) / h - 0.5])
    return pts * np.asarray(size_mm, dtype=float)


def fit_marker_image(gray, small, f, form: Form, scale0, search_mm, paper, darkest, max_share):
    """Fit the form on the copies of its marker found on the page, in the best quarter turn.

    Returns the fit tuple (turn score, matrix, copies used, residual mm, ink,
    spread mm) that :func:`omr.detect.register.register_page` proves, or
    :class:`RegistrationFailed`.
    """
    reg = form.registration
    marker = form.marker_gray
    marks_mm = reg.landmarks_mm()
    size_small = (reg.mark_size[0] * scale0 * f, reg.mark_size[1] * scale0 * f)
    guesses = [initial_guess(form, small.shape, t, scale0 * f) for t in range(4)]
    spots = np.vstack([apply_transform(m, marks_mm) for m in guesses])
    copies = find_marker_copies(small, marker, size_small, spots, search_mm * scale0 * f)
    if len(copies) < 3:
        return RegistrationFailed(
            "marks-not-found",
            f"found {len(copies)} copies of the marker image (normalised match "
            f"{MIN_MATCH} or better): not this form, a blank or back page, or cut off",
        )
    size_full = (reg.mark_size[0] * scale0, reg.mark_size[1] * scale0)
    # Under each quarter turn of the page the picture is printed so turned: each
    # copy is centred with the picture in that turn (a bullseye drawn off its
    # picture's centre matches in every turn, but centred only in the page's).
    found_in = {
        t: np.array([refine_copy(gray, c / f, marker, size_full, k[0], t) for c, _, k, _ in copies])
        for t in range(4)
    }
    turn_scores = np.array([ts for *_, ts in copies])
    symmetric = same_half_turned(marker)
    fits = {}
    for t in range(4):
        fit = _fit_turn(form, gray, found_in[t], turn_scores, t, scale0, search_mm, symmetric)
        if fit is not None:
            fits[t] = fit
    if not fits:
        return RegistrationFailed(
            "marks-not-found",
            f"found {len(copies)} copies of the marker image but not in this form's layout",
        )
    turns = max(fits, key=lambda t: fits[t][0])
    if (symmetric or fits[turns][0] < TURN_TELLS) and (turns + 2) % 4 in fits:
        # The picture looks the same half turned: the printed bubbles tell.
        pair = (fits[turns], fits[(turns + 2) % 4])
        up = way_up_by_outlines(
            gray, (pair[0][1], pair[1][1]), form, paper=paper, ink=darkest, max_share=max_share
        )
        if up is None:
            return RegistrationFailed(
                "orientation-unknown",
                "nothing on the page tells which way up it is (the marker image looks the "
                "same half turned, and the printed bubbles fit both ways up)",
            )
        turns = turns if up == 0 else (turns + 2) % 4
    score, matrix, src = fits[turns]
    found = found_in[turns]
    dst = found[match_nearest(apply_transform(matrix, src), found, np.inf)]
    px_per_mm = np.sqrt(abs(np.linalg.det(matrix[:2, :2])))
    resid = apply_transform(matrix, src) - dst
    residual_mm = float(np.sqrt((resid**2).sum(axis=1).mean()) / px_per_mm)
    ink_at = (src[:, None] + _dark_points_mm(marker, reg.mark_size)[None]).reshape(-1, 2)
    ink = float(np.median(sample_image(gray, apply_transform(matrix, ink_at))))
    return score, matrix, len(src), residual_mm, ink, spread(src)


def _fit_turn(form, gray, found, turn_scores, turns, scale0, search_mm, symmetric=False):
    """(turn score, matrix, form centres used) under one quarter turn, or None if none fit.

    The score is how much better the copies match in this turn than in any
    other; for a picture the same half turned, than in the quarter turns only.
    """
    marks_mm = form.registration.landmarks_mm()
    fit = fit_on_nearest(form, marks_mm, found, gray.shape, turns, scale0, search_mm)
    if fit is None:
        return None
    matrix, idx, ok = fit
    scores = turn_scores[idx[ok]]
    drop = [turns, (turns + 2) % 4] if symmetric else [turns]
    others = np.delete(scores, drop, axis=1).max(axis=1)
    return float(np.mean(scores[:, turns] - others)), matrix, marks_mm[ok]
