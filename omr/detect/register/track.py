"""Registration on timing tracks: the dashes hardware readers clock rows by."""

from __future__ import annotations

import numpy as np

from omr.detect.landmarks import chain_tracks, find_dashes, refine_centres
from omr.detect.register.geometry import fit_affine, fit_similarity, initial_guess, spread
from omr.detect.register.outlines import outline_contrasts, rows_on_outlines
from omr.detect.register.result import RegistrationFailed
from omr.detect.sampling import apply_transform, sample_image, square_pattern


def fit_track(gray, small, f, form, scale0, search_mm, paper, darkest):
    """Fit on the form's timing tracks under every quarter turn; the outlines choose among fits.

    Returns the fit tuple of :func:`_fit_hypothesis` (in :mod:`.marks`), or
    :class:`RegistrationFailed`.
    """
    reg = form.registration
    size = np.asarray(reg.dash) * scale0 * f
    found, upright = find_dashes(small, (size[0], size[1]))
    # The window must take in one whole dash and none of its neighbours.
    found = refine_centres(gray, found / f, (0.5 * max(reg.dash) + 0.3 * min(reg.dash)) * scale0)
    pitches = [
        np.linalg.norm(np.subtract(t.last, t.first)) / (t.count - 1) * scale0 for t in reg.tracks
    ]
    chains = chain_tracks(found, (0.8 * min(pitches), 1.2 * max(pitches)), upright)
    what = "timing-track dashes"
    if len(found) < 3:  # three fix an affine transform; a fourth landmark must check it
        return RegistrationFailed(
            "marks-not-found",
            f"found {len(found)} {what}: not this form, a blank or back page, or cut off",
        )
    candidates = [
        fit
        for t in range(4)
        for fit in _fit_track_hypotheses(form, gray, chains, t, scale0, search_mm)
    ]
    if not candidates:
        return RegistrationFailed(
            "marks-not-found", f"found {len(found)} {what} but no track of this form's layout"
        )
    best = _choose_by_outlines(gray, form, candidates, paper, darkest)
    if best and best[5] < 0.1 * min(form.page.width, form.page.height):
        best = _refine_across_track(gray, form, best, paper, darkest)
    return best


def _choose_by_outlines(gray, form, candidates, paper, darkest):
    """The one candidate fit under which clearly more rows of printed bubbles sit on their outlines.

    Fits one dash apart put most bubbles on their neighbours' outlines (the
    grid is regular); they differ by whole rows at the ends of every field.
    """
    if len(candidates) == 1:
        return candidates[0]
    rows = [rows_on_outlines(gray, c[1], form, paper=paper, ink=darkest) for c in candidates]
    order = np.argsort(rows)[::-1]
    n_rows = sum(len(f.index) for f in form.layout.fields.values())
    if rows[order[0]] - rows[order[1]] < 2 or rows[order[0]] < 0.9 * n_rows:
        return RegistrationFailed(
            "registration-weak",
            f"the timing track fits the page {len(candidates)} ways and the printed "
            "bubbles are too faint to tell which (dashes cut off, or the sheet turned)",
        )
    return candidates[order[0]]


def _refine_across_track(gray, form, fit, paper, darkest, *, span: float = 0.015):
    """Fix the scale across a single track (which only fixes its own) on the bubble outlines.

    Dashes in one line give the turn, the shift and the scale along the line;
    scanners stretch the two directions slightly differently, so the scale
    across is searched (within ``span``) where the printed outlines fit best.
    """
    score, matrix, n, residual_mm, ink, spread = fit
    dashes = form.registration.landmarks_mm()
    along = dashes[-1] - dashes[0]
    along /= np.linalg.norm(along)
    normal = np.array([-along[1], along[0]])
    origin = dashes.mean(axis=0)

    def stretched(factor: float) -> np.ndarray:
        # p -> p + (factor - 1) * ((p - origin) . normal) * normal, in form mm
        t = np.eye(3)
        t[:2, :2] += (factor - 1) * np.outer(normal, normal)
        t[:2, 2] = -(factor - 1) * np.outer(normal, normal) @ origin
        return matrix @ t

    def fit_of(factor: float) -> float:
        per = outline_contrasts(gray, stretched(factor), form, paper=paper, ink=darkest)
        return float(per.mean())

    lo, hi = 1 - span, 1 + span
    golden = (np.sqrt(5) - 1) / 2
    a, b = hi - golden * (hi - lo), lo + golden * (hi - lo)
    fa, fb = fit_of(a), fit_of(b)
    for _ in range(18):
        if fa >= fb:
            hi, b, fb = b, a, fa
            a = hi - golden * (hi - lo)
            fa = fit_of(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + golden * (hi - lo)
            fb = fit_of(b)
    factor = (lo + hi) / 2
    if fit_of(factor) <= fit_of(1.0):
        return fit
    return score, stretched(factor), n, residual_mm, ink, spread


def _fit_track_hypotheses(form, gray, chains, turns, scale0, search_mm) -> list[tuple]:
    """Fits of the timing tracks under one quarter turn, one per way the dashes may correspond.

    Each track of the form is matched to the longest chain of dashes found on
    the page that lies where the turned page puts it and runs the same way.
    A whole chain corresponds dash for dash; a chain short of some dashes (a
    scanner cut the end of the track) may sit anywhere along the track, so
    every placement gives a candidate and the bubble outlines choose. Returns
    tuples as :func:`_fit_hypothesis` gives (score 0).
    """
    reg = form.registration
    guess = initial_guess(form, gray.shape, turns, scale0)
    options = []
    used = set()
    for track in reg.tracks:
        expected = apply_transform(guess, track.centres())
        e_dir = expected[-1] - expected[0]
        best, best_key = None, None
        for k, chain in enumerate(chains):
            if k in used or len(chain) > track.count or len(chain) < 0.6 * track.count:
                continue
            c = chain if np.dot(chain[-1] - chain[0], e_dir) > 0 else chain[::-1]
            c_dir = c[-1] - c[0]
            cos = np.dot(c_dir, e_dir) / (np.linalg.norm(c_dir) * np.linalg.norm(e_dir))
            unit = e_dir / np.linalg.norm(e_dir)
            off = c.mean(axis=0) - expected[0]
            line_gap = abs(unit[0] * off[1] - unit[1] * off[0])  # distance from the track's line
            if cos > 0.97 and line_gap < search_mm * scale0:
                key = (len(c), -line_gap)
                if best_key is None or key > best_key:
                    best, best_key = (k, c), key
        if best is None:
            return []
        used.add(best[0])
        chain = best[1]
        offsets = range(track.count - len(chain) + 1)
        options.append([(track.centres()[o : o + len(chain)], chain) for o in offsets])
    fits = []
    for combo in _combinations(options, limit=24):
        src_xy = np.concatenate([src for src, _ in combo])
        dst_xy = np.concatenate([dst for _, dst in combo])
        fits.append(_fit_dashes(form, gray, src_xy, dst_xy))
    return fits


def _combinations(options: list[list], *, limit: int) -> list[tuple]:
    """Every choice of one option per list, at most ``limit`` of them."""
    combos: list[tuple] = [()]
    for choices in options:
        combos = [c + (o,) for c in combos for o in choices][:limit]
    return combos


def _fit_dashes(form, gray, src_xy, dst_xy) -> tuple:
    """Fit dash centres in mm (K, 2) to their pixels (K, 2), as :func:`_fit_hypothesis` returns."""
    reg = form.registration
    spread_mm = spread(src_xy)
    if spread_mm < 0.1 * min(form.page.width, form.page.height):
        matrix = fit_similarity(src_xy, dst_xy)  # dashes in one line: turn and one scale
    else:
        matrix = fit_affine(src_xy, dst_xy)
    px_per_mm = np.sqrt(abs(np.linalg.det(matrix[:2, :2])))
    resid = apply_transform(matrix, src_xy) - dst_xy
    residual_mm = float(np.sqrt((resid**2).sum(axis=1).mean()) / px_per_mm)
    pattern = square_pattern(half=0.3 * min(reg.dash))
    ink = float(np.median(sample_image(gray, apply_transform(matrix, src_xy[:, None] + pattern))))
    return -0.001 * residual_mm, matrix, len(src_xy), residual_mm, ink, spread_mm
