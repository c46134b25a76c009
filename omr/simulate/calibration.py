"""Scans of the scanner calibration sheet, every block filled with a known pen.

The calibration sheet (``calibration/calibration-sheet.yaml``) has one answer
block per pen; a person fills every bubble of a block with the pen its label
names and scans the sheet on the scanner to calibrate. This module does the
same with the simulator's pen models (:mod:`omr.simulate.pens`) and the
scanner of a profile, so that a calibration can be fitted on synthetic scans
of, say, ``ink-scanner-b`` and shown to help on that scanner's sessions.

Each sheet draws from ``np.random.default_rng([seed, CALIBRATION_STREAM])``:
several seeds give several sheets (other hands, other scans).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from omr.forms import Form
from omr.simulate.candidates import pen_darkness
from omr.simulate.marks import MarkShape, draw_marks
from omr.simulate.pens import INK, PENCIL, pen_by_name
from omr.simulate.profile import PROFILES, Profile
from omr.simulate.scanner import (
    MM_PER_INCH,
    draw_scan_extras,
    draw_scan_params,
    draw_scan_response,
    encode_bilevel_png,
    encode_jpeg,
    scan_page,
    scan_size,
    to_bilevel,
)
from omr.simulate.session import (
    RENDER_DPI,
    TRUTH_FORMAT,
    _to_px,
    _write_text,
    lost_to_threshold,
    render_blank,
)
from omr.simulate.writer import open_stack

CALIBRATION_STREAM = 2**32 - 2  # no sheet index reaches it, nor the session stream

CALIBRATION_BLOCKS: dict[str, tuple[str, str] | None] = {
    "hb": ("HB", "normal"),
    "b2": ("2B", "normal"),
    "pencil_light": ("HB", "light"),
    "pencil_heavy": ("2B", "heavy"),
    "black_ballpoint": ("black-ballpoint", "normal"),
    "blue_ballpoint": ("blue-ballpoint", "normal"),
    "red_ballpoint": ("red-ballpoint", "normal"),
    "green_ballpoint": ("green-ballpoint", "normal"),
    "black_gel": ("black-gel", "normal"),
    "blue_gel": ("blue-gel", "normal"),
    "felt_tip": ("felt-tip", "normal"),
    "empty": None,
}
"""Pen and hand (``light``, ``normal``, ``heavy``) of each block; ``empty`` stays blank."""


def _hand_range(profile: Profile, hand: str) -> tuple[float, float]:
    return {
        "light": profile.hand_light,
        "normal": profile.hand_normal,
        "heavy": profile.hand_heavy,
    }[hand]


def _check_blocks(form: Form) -> None:
    unknown = [b for b in form.answer_blocks if b not in CALIBRATION_BLOCKS]
    if unknown:
        raise ValueError(
            f"form {form.name!r} has blocks no pen is known for: {', '.join(unknown)}; "
            f"a calibration sheet's blocks are {', '.join(CALIBRATION_BLOCKS)}"
        )


def simulate_calibration_scan(form: Form, profile: str, seed: int, out: Path) -> dict:
    """Fill a calibration sheet with its pens, scan it with ``profile``'s scanner.

    Every bubble of each block is filled (a full fill, the usual blob
    irregularity) with the block's pen (see :data:`CALIBRATION_BLOCKS`); a
    block's hand is drawn from the profile's ``hand_light``, ``hand_normal``
    or ``hand_heavy``, each mark's darkness jitters around it. The scanner is
    the profile's (resolution, placement, colour or grey, paper, noise, JPEG,
    lid shadow, 1-bit storage, colour response); the sheet is kept flat (no
    folds) and is never photographed.

    Parameters
    ----------
    form : Form
        The calibration sheet (``calibration/calibration-sheet.yaml``, or any
        form whose answer blocks are named as in :data:`CALIBRATION_BLOCKS`).
    profile : str
        Name of a profile in :data:`omr.simulate.PROFILES`: the scanner, the
        pen catalogue and the hands.
    seed : int
        Seed of every random draw; the same seed gives the same files.
    out : Path
        Folder (created if missing) for ``scan.pdf`` (one page) and ``truth.json``.

    Returns
    -------
    dict
        The truth, as written to ``truth.json``: ``format``, ``form``,
        ``profile``, ``seed``, ``marks`` (one per filled bubble, in block,
        question and option order: ``field``, ``item`` (0-based), ``option``,
        ``medium``, ``pen``, ``hand``, ``darkness``, ``coverage``, ``kind``
        ``fill``, and ``"visible": false`` when a thresholded 1-bit scan lost
        it) and ``scan`` (as in a session's truth).
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose from {', '.join(PROFILES)}")
    _check_blocks(form)
    p = PROFILES[profile]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plan_rng, draw_rng, scan_rng, extra_rng, response_rng = np.random.default_rng(
        [seed, CALIBRATION_STREAM]
    ).spawn(5)

    layout = form.layout
    k = RENDER_DPI / MM_PER_INCH
    blocks = [(name, CALIBRATION_BLOCKS[name]) for name in form.answer_blocks]
    ink = any(spec is not None and pen_by_name(p.pens, spec[0]).medium == INK for _, spec in blocks)
    blank = render_blank(form)
    page = np.repeat(blank[..., None], 3, axis=2) if ink else blank
    records = []
    for name, spec in blocks:
        if spec is None:
            continue
        pen = pen_by_name(p.pens, spec[0])
        hand = float(plan_rng.uniform(*_hand_range(p, spec[1])))
        base = pen_darkness(pen.density, hand)
        field = layout.fields[name]
        bubbles = field.index.ravel()
        n = len(bubbles)
        if pen.medium == PENCIL:
            dark = np.clip(base + plan_rng.normal(0.0, p.darkness_jitter, n), *p.darkness_limits)
        else:
            dark = np.clip(base + plan_rng.normal(0.0, p.ink_darkness_jitter, n), *pen.density)
        dark = np.round(dark, 3)
        cover = np.round(plan_rng.uniform(*p.full_coverage, n), 3)
        offset = np.clip(
            plan_rng.normal(0, p.mark_offset_sd, (n, 2)), -p.mark_offset_max, p.mark_offset_max
        )
        shape = MarkShape(
            offset_xy=offset,
            size=plan_rng.uniform(*p.mark_size, n),
            cut_angle=plan_rng.uniform(0, 2 * np.pi, n),
            wobble=plan_rng.uniform(0, p.mark_wobble, (n, 3)),
            phase=plan_rng.uniform(0, 2 * np.pi, (n, 3)),
        )
        grain = float(plan_rng.uniform(*pen.grain))
        page, covered = draw_marks(
            page,
            _to_px(layout.centers_xy[bubbles]),
            layout.radius[bubbles] * k,
            darkness=dark,
            coverage=cover,
            shape=shape,
            grain=grain,
            rng=draw_rng,
            softness=p.softness_px,
            max_extent=p.mark_max_extent,
            pens=[pen] * n,
            px_per_mm=k,
        )
        for j, (item, opt) in enumerate(np.ndindex(field.index.shape)):
            records.append(
                (
                    {
                        "field": name,
                        "item": int(item),
                        "option": field.option_labels[opt],
                        "medium": pen.medium,
                        "pen": pen.name,
                        "hand": spec[1],
                        "darkness": float(dark[j]),
                        "coverage": round(float(covered[j]), 3),
                        "kind": "fill",
                    },
                    pen.grey_darkness(float(dark[j])),
                    grain if pen.medium == PENCIL else pen.grain[1],
                )
            )

    page_mm = (form.page.width, form.page.height)
    params = draw_scan_params(p, scan_rng)
    params = draw_scan_extras(params, replace(p, p_fold=0.0), extra_rng, page_mm=page_mm)
    params = draw_scan_response(params, p, response_rng)
    scan = scan_page(page, params, page_mm=page_mm, source_dpi=RENDER_DPI, rng=scan_rng)
    if params.bilevel:
        white = to_bilevel(scan, threshold=params.bilevel_threshold, dither=params.dither)
        data = encode_bilevel_png(white, dpi=params.dpi)
    else:
        data = encode_jpeg(scan, quality=params.jpeg_quality, dpi=params.dpi)
    with open_stack(out, "pdf", page_mm, "scan") as stack:
        stack.add_page(
            data,
            dpi=params.dpi,
            size_px=scan_size(page_mm, params.dpi),
            colour=params.colour == "colour",
            bilevel=params.bilevel,
        )

    marks = []
    for record, grey, grain in records:
        if lost_to_threshold(grey, params, grain):
            record["visible"] = False
        marks.append(record)
    truth = {
        "format": TRUTH_FORMAT,
        "form": form.name,
        "profile": profile,
        "seed": seed,
        "marks": marks,
        "scan": params.to_truth(),
    }
    _write_text(
        out / "truth.json",
        json.dumps(truth, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
    )
    return truth
