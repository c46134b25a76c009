"""A whole simulated exam session: roster, exam, marked sheets, the scanned stack and the truth.

Each sheet draws from its own generator, ``np.random.default_rng([seed, index])``,
so a session is the same whatever the number of worker processes. The roster
and the exam draw from the session stream ``[seed, SESSION_STREAM]``. The
harder students and scanners (erasures, odd marks, strays, folds, shadows,
bilevel scans, photos) draw from ``[seed, index, EXTRA_STREAM]`` and whether a
sheet is photographed from ``[seed, index, PHOTO_STREAM]``; the pen models
(which pen each mark is in, and all drawing when they are on) from
``[seed, index, PEN_STREAM]`` and a scanner's colour response from
``[seed, index, RESPONSE_STREAM]`` and a page printed out of register (the
misregistration stress mode) from ``[seed, index, MISREGISTER_STREAM]``: a
profile without them draws exactly what it drew before they existed.
"""

from __future__ import annotations

import concurrent.futures
import csv
import json
import multiprocessing
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import yaml

from omr.forms import Form
from omr.render import render_form_pdf
from omr.simulate.candidates import (
    AMBIGUOUS_KINDS,
    ROSTER_COLUMNS,
    Candidate,
    PlannedMark,
    SheetPlan,
    make_exam,
    make_roster,
    miscode_group,
    plan_habits,
    plan_pens,
    plan_sheet,
    sheet_status,
)
from omr.simulate.marks import (
    SYMBOL_KINDS,
    MarkShape,
    draw_digits,
    draw_erasures,
    draw_marks,
    draw_signature,
    draw_strokes,
    draw_symbols,
)
from omr.simulate.misprint import Misprint, draw_misprint
from omr.simulate.pens import PENCIL, Pen, pen_by_name
from omr.simulate.photo import draw_photo, encode_photo, photograph_page
from omr.simulate.profile import PROFILES, Profile
from omr.simulate.scanner import (
    MM_PER_INCH,
    ScanParams,
    draw_scan_extras,
    draw_scan_params,
    draw_scan_response,
    encode_bilevel_png,
    encode_jpeg,
    placement_matrix,
    scan_page,
    scan_size,
    to_bilevel,
)
from omr.simulate.writer import open_stack
from omr.tracker import stop_resource_tracker, tracker_running

RENDER_DPI = 300
SESSION_STREAM = 2**32 - 1  # no sheet index reaches it
EXTRA_STREAM = 1  # third word of a sheet's seed: the harder students and scanners
PHOTO_STREAM = 2  # third word of a sheet's seed: photographed or scanned
LOST_BLACK_PIXELS = 2  # at most this many black pixels in a bubble's middle: the mark is lost
# The middle counted: a little inside the 0.72 radii a reader samples, so that
# a pixel of the printed outline's remains, a pixel off, is not taken for the mark.
LOST_INNER = 0.62
MISCODE_STREAM = 3  # third word of a sheet's seed: a mis-coded booklet group
PEN_STREAM = 4  # third word of a sheet's seed: pens, and all drawing with the pen models
RESPONSE_STREAM = 5  # third word of a sheet's seed: the scanner's colour response
MISREGISTER_STREAM = 6  # third word of a sheet's seed: a page printed out of register
PRINT_STREAM = 7  # third word of a sheet's seed: how dark its print came out
PRINTS_KEPT = 4  # blank renders of misregistered prints a sheet maker keeps (8.7 MB each on A4)
LEGACY_2B = 0.7  # a generic-pencil candidate this dark or darker is labelled 2B, else HB
TRUTH_FORMAT = 1
REACH_MARGIN = 0.05  # bubble radii kept clear of a neighbouring bubble's interior


def render_blank(form: Form, *, dpi: int = RENDER_DPI) -> np.ndarray:
    """The blank printed sheet as a grayscale ``(M, N)`` uint8 image at ``dpi``."""
    doc = pdfium.PdfDocument(render_form_pdf(form))
    try:
        bitmap = doc[0].render(scale=dpi / 72, grayscale=True)
        return np.array(bitmap.to_numpy(), dtype=np.uint8, copy=True).reshape(
            bitmap.height, bitmap.width
        )
    finally:
        doc.close()


def scan_blank(form: Form, seed: int, *, dpi: int = 200) -> np.ndarray:
    """One blank sheet of ``form`` printed and scanned (grey, ``dpi``): turned up to 1.5°,
    shifted up to 2 mm, a little blur and noise; what ``omr forms fit`` is given."""
    rng = np.random.default_rng([seed, SESSION_STREAM, 99])
    params = ScanParams(
        dpi=dpi,
        rotation_deg=float(rng.uniform(-1.5, 1.5)),
        shift_mm=(float(rng.uniform(-2, 2)), float(rng.uniform(-2, 2))),
        scale=1.0,
        upside_down=False,
        colour="grey",
        paper_white=float(rng.uniform(238, 250)),
        tint=(1.0, 1.0, 1.0),
        blur_sigma=0.5,
        noise_sigma=3.0,
        jpeg_quality=None,
    )
    return scan_page(
        render_blank(form), params, page_mm=(form.page.width, form.page.height), rng=rng
    )


def _to_px(xy_mm, dpi: float = RENDER_DPI) -> np.ndarray:
    """Millimetres to pixel coordinates (pixel centres at integers)."""
    return np.asarray(xy_mm, dtype=float) * dpi / MM_PER_INCH - 0.5


def is_photo(profile: Profile, seed: int, index: int) -> bool:
    """Whether sheet ``index`` is photographed rather than scanned (its own stream)."""
    if profile.p_photo <= 0:
        return False
    return bool(np.random.default_rng([seed, index, PHOTO_STREAM]).random() < profile.p_photo)


def free_reach(form: Form) -> np.ndarray:
    """How far pencil may spread around each bubble without entering another's interior.

    Returns
    -------
    (N,) ndarray
        Per bubble of ``form.layout``, in its own radii: the distance to the
        nearest other bubble's edge, less :data:`REACH_MARGIN`.
    """
    layout = form.layout
    xy, r = layout.centers_xy, layout.radius
    gap = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=-1) - r[None, :]
    np.fill_diagonal(gap, np.inf)
    return gap.min(axis=1) / r - REACH_MARGIN


def _subset(shape: MarkShape, index: np.ndarray) -> MarkShape:
    return MarkShape(
        offset_xy=shape.offset_xy[index],
        size=shape.size[index],
        cut_angle=shape.cut_angle[index],
        wobble=shape.wobble[index],
        phase=shape.phase[index],
    )


def lost_to_threshold(darkness: float, params: ScanParams, grain: float) -> bool:
    """Whether a thresholded 1-bit scan keeps nothing of a mark of ``darkness``.

    True when even the mark's darkest grain speck, two noise deviations
    darker, stays above the threshold: paper ``(1 - darkness (1 + grain))
    - 2 noise >= threshold``. Never true for grey, colour or dithered scans.
    """
    if not params.bilevel or params.dither:
        return False
    darkest = params.paper_white * (1.0 - darkness * (1.0 + grain)) - 2 * params.noise_sigma
    return bool(darkest >= params.bilevel_threshold)


def black_in_bubble(
    white: np.ndarray,
    params: ScanParams,
    page_mm: tuple[float, float],
    centre_mm: np.ndarray,
    radius_mm: float,
    *,
    inner: float = LOST_INNER,
) -> int:
    """Black pixels of a 1-bit scan inside the middle of a bubble (where a reader looks).

    Parameters
    ----------
    white : (M, N) ndarray of bool
        The 1-bit scan, True where white.
    """
    m = placement_matrix(params, page_mm)
    x, y = m @ np.array([centre_mm[0], centre_mm[1], 1.0])
    r = inner * radius_mm * params.dpi / 25.4 * params.scale
    x0, x1 = max(int(x - r), 0), min(int(x + r) + 2, white.shape[1])
    y0, y1 = max(int(y - r), 0), min(int(y + r) + 2, white.shape[0])
    if x0 >= x1 or y0 >= y1:
        return 0
    yy, xx = np.mgrid[y0:y1, x0:x1]
    disc = (xx - x) ** 2 + (yy - y) ** 2 <= r * r
    return int((~white[y0:y1, x0:x1] & disc).sum())


def pencil_label(plan: SheetPlan) -> str:
    """The candidate's graphite: their pen, or for the generic pencil ``HB``/``2B`` by darkness."""
    if plan.pencil is not None:
        return plan.pencil
    return "2B" if plan.darkness >= LEGACY_2B else "HB"


def _mark_truth(
    m: PlannedMark, covered: float, *, pen: Pen | None, pencil: str, lost: bool = False
) -> dict:
    record = {
        "field": m.field,
        "item": m.item,
        "option": m.option,
        "medium": pen.medium if pen is not None else PENCIL,
        "pen": pen.name if pen is not None else pencil,
        "darkness": m.darkness,
        "coverage": round(float(covered), 3),
        "kind": m.kind,
    }
    if m.kind in AMBIGUOUS_KINDS:
        record["ambiguous"] = True
    if lost:
        record["visible"] = False
    return record


class SheetMaker:
    """Draws and scans any sheet of a session; sent once to each worker process."""

    def __init__(
        self,
        form: Form,
        profile: Profile,
        seed: int,
        exam: dict,
        roster: list[Candidate],
        blank: np.ndarray,
    ) -> None:
        self.form = form
        self.profile = profile
        self.seed = seed
        self.exam = exam
        self.roster = roster
        self.blank = blank
        self.reach = free_reach(form)
        self._prints: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._printed: tuple[int, tuple[Misprint | None, Form]] = (-1, (None, form))

    def printed(self, index: int) -> tuple[Misprint | None, Form]:
        """How sheet ``index`` is printed: its misprint (None in register) and its print's form.

        The form is :attr:`form` for a page in register; for a misregistered
        one, the form whose bubbles sit where the page prints them (see
        :mod:`omr.simulate.misprint`). Draws only when the profile has
        ``p_misregister``.
        """
        if self.profile.p_misregister <= 0:
            return None, self.form
        if self._printed[0] != index:  # planned, then drawn: worked out once
            rng = np.random.default_rng([self.seed, index, MISREGISTER_STREAM])
            drawn = draw_misprint(self.form, self.profile, rng)
            self._printed = (index, (None, self.form) if drawn is None else drawn)
        return self._printed[1]

    def print_darkness(self, index: int) -> float:
        """The factor on the darkness of sheet ``index``'s printed ink (1: as rendered)."""
        lo, hi = self.profile.print_darkness
        if (lo, hi) == (1.0, 1.0):
            return 1.0
        rng = np.random.default_rng([self.seed, index, PRINT_STREAM])
        return round(float(rng.uniform(lo, hi)), 3)

    def _print_of(self, misprint: Misprint | None, printed: Form) -> tuple[np.ndarray, np.ndarray]:
        """The blank render of a print and the free reach of its bubbles (a few kept)."""
        if misprint is None:
            return self.blank, self.reach
        key = (misprint.kind, misprint.shift_mm, misprint.pitch_scale)
        if key not in self._prints:
            if len(self._prints) >= PRINTS_KEPT:
                self._prints.pop(next(iter(self._prints)))
            self._prints[key] = (render_blank(printed), free_reach(printed))
        return self._prints[key]

    @staticmethod
    def _write_ins(form: Form) -> Iterator[tuple[str, np.ndarray]]:
        """Write-in boxes above each digit grid, (x, y, w, h) in pixels (as render.py draws)."""
        k = RENDER_DPI / MM_PER_INCH
        for name, field in form.identity:
            if field is None:
                continue
            r = form.outline(name).radius
            x0, y0 = field.origin
            xs = x0 + np.arange(field.digits) * field.digit_step[0] - r - 0.3
            boxes = np.column_stack(
                [
                    _to_px(xs),
                    np.full(field.digits, _to_px(y0 - r - 6.5)),
                    np.full(field.digits, (2 * r + 0.6) * k),
                    np.full(field.digits, 5.5 * k),
                ]
            )
            yield name, boxes

    def plan(self, index: int) -> SheetPlan:
        """What the candidate of sheet ``index`` puts on it (as :meth:`__call__` draws it).

        No pixel is drawn: the first of the three generators spawned from each
        of the sheet's streams plans, the others draw and scan. A page
        printed out of register is planned on its print (:meth:`printed`).
        """
        form, p = self.printed(index)[1], self.profile
        plan_rng = np.random.default_rng([self.seed, index]).spawn(3)[0]
        habit_rng = np.random.default_rng([self.seed, index, EXTRA_STREAM]).spawn(3)[0]
        plan = plan_sheet(form, self.exam, self.roster[index], plan_rng, p)
        if p.pen_model:
            pen_rng = np.random.default_rng([self.seed, index, PEN_STREAM]).spawn(3)[0]
            plan = plan_pens(form, plan, pen_rng, p)
        plan = plan_habits(form, plan, habit_rng, p)
        if p.p_group_miscoded > 0:
            plan = miscode_group(
                form, plan, np.random.default_rng([self.seed, index, MISCODE_STREAM]), p
            )
        return plan

    def __call__(self, index: int) -> tuple[bytes, dict]:
        """Image bytes of sheet ``index`` and its truth record.

        The bytes are a JPEG scan, a 1-bit PNG when ``truth["scan"]["bilevel"]``,
        or a JPEG photo with EXIF when ``truth["scan"]["photo"]`` is set.
        """
        form, p = self.form, self.profile
        candidate = self.roster[index]
        misprint, printed = self.printed(index)
        plan = self.plan(index)
        _, ink_rng, scan_rng = np.random.default_rng([self.seed, index]).spawn(3)
        _, extra_ink_rng, extra_scan_rng = np.random.default_rng(
            [self.seed, index, EXTRA_STREAM]
        ).spawn(3)
        if p.pen_model:
            # with the pen models, the marks draw from the pens' stream
            _, ink_rng, extra_ink_rng = np.random.default_rng([self.seed, index, PEN_STREAM]).spawn(
                3
            )
        page, covered = self._draw_pencil(
            plan, ink_rng, extra_ink_rng, misprint, printed, index=index
        )

        params = draw_scan_params(p, scan_rng)
        page_mm = (form.page.width, form.page.height)
        photo = is_photo(p, self.seed, index)
        params = draw_scan_extras(params, p, extra_scan_rng, page_mm=page_mm, photo=photo)
        if p.colour_response and not photo:
            response_rng = np.random.default_rng([self.seed, index, RESPONSE_STREAM])
            params = draw_scan_response(params, p, response_rng)
        bilevel_page = None
        if photo:
            shot, turn = draw_photo(
                p, extra_scan_rng, page_mm=page_mm, upside_down=params.upside_down
            )
            params = replace(
                params,
                dpi=round(shot.dpi(page_mm)),
                rotation_deg=turn,
                shift_mm=(0.0, 0.0),
                scale=1.0,
                colour="colour",
                blur_sigma=shot.defocus_sigma,
                noise_sigma=shot.noise_sigma,
                jpeg_quality=shot.jpeg_quality,
                photo=shot,
            )
            if params.tint == (1.0, 1.0, 1.0):  # drawn as a grey scan: give the paper its tint
                params = replace(
                    params,
                    tint=(
                        1.0,
                        round(float(extra_scan_rng.uniform(*p.tint_green)), 3),
                        round(float(extra_scan_rng.uniform(*p.tint_blue)), 3),
                    ),
                )
            upright = photograph_page(
                page,
                shot,
                page_mm=page_mm,
                paper_white=params.paper_white,
                tint=params.tint,
                folds=params.fold,
                source_dpi=RENDER_DPI,
                rng=extra_scan_rng,
            )
            data = encode_photo(upright, shot)
        else:
            scan = scan_page(page, params, page_mm=page_mm, source_dpi=RENDER_DPI, rng=scan_rng)
            if params.bilevel:
                white = to_bilevel(scan, threshold=params.bilevel_threshold, dither=params.dither)
                data = encode_bilevel_png(white, dpi=params.dpi)
                bilevel_page = white
            else:
                data = encode_jpeg(scan, quality=params.jpeg_quality, dpi=params.dpi)

        pencil = pencil_label(plan)
        marks = []
        layout = printed.layout  # where the marks are: on the printed bubbles
        for m, c in zip(plan.marks + plan.erasures + plan.rings, covered, strict=True):
            pen = self._pen(m.pen)
            grey = m.darkness if pen is None else pen.grey_darkness(m.darkness)
            grain = plan.grain if pen is None or pen.medium == PENCIL else pen.grain[1]
            lost = lost_to_threshold(grey, params, grain)
            if not lost and bilevel_page is not None and not params.dither:
                # Measured, not only estimated: nothing black left where a reader looks.
                black = black_in_bubble(
                    bilevel_page,
                    params,
                    page_mm,
                    layout.centers_xy[m.bubble],
                    float(layout.radius[m.bubble]),
                )
                lost = black <= LOST_BLACK_PIXELS
            marks.append(_mark_truth(m, c, pen=pen, pencil=pencil, lost=lost))
            if m.kind == "ring":  # no answer, but a person may well be asked
                marks[-1]["ambiguous"] = True
        marks += [
            {
                "field": s.field,
                "item": s.item,
                "option": None,
                "medium": PENCIL,
                "pen": pencil,
                "darkness": s.darkness,
                "coverage": 0.0,
                "kind": "stray",
                "points_mm": s.points_mm.tolist(),
            }
            for s in plan.strays
        ]
        truth = {
            "candidate": candidate.student_number,
            "intended_group": candidate.group,
            "miscoded_group": len(plan.group_marks) == 1 and plan.group_marks != candidate.group,
            "group_marks": plan.group_marks,
            "status": sheet_status(plan.group_marks, grouped=form.group is not None),
            "identity": dict(plan.identity),
            "boxes": {name: False for name, box in form.boxes if box is not None},
            "answers": {block: list(marked) for block, marked in plan.answers.items()},
            "marks": marks,
            "ink": plan.ink or bool(plan.rings),
            "ink_use": plan.ink_use,
            "ink_pen": plan.ink_pen,
            "pencil": pencil,
            "hand": plan.hand,
            "writing_pen": plan.writing_pen or pencil,
            "scan": params.to_truth(),
        }
        if p.print_darkness != (1.0, 1.0):
            truth["print_darkness"] = self.print_darkness(index)
        if p.p_misregister > 0:
            truth["misregistered"] = None if misprint is None else misprint.to_truth()
        return data, truth

    def _pen(self, name: str | None) -> Pen | None:
        """The catalogue pen called ``name`` (None: the generic pencil)."""
        return None if name is None else pen_by_name(self.profile.pens, name)

    def _draw_pencil(
        self,
        plan: SheetPlan,
        ink_rng: np.random.Generator,
        extra_rng: np.random.Generator,
        misprint: Misprint | None = None,
        printed: Form | None = None,
        index: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The marked page at :data:`RENDER_DPI`, and the coverage of ``marks + erasures``.

        The page is the blank print of ``printed`` (the form by default), and
        every mark sits on its bubbles: a misregistered page is filled where it
        is printed.

        Fills (also faint and half) draw from ``ink_rng`` as they always did,
        then the digits and the signature; symbols, erasure residue and stray
        strokes draw from ``extra_rng``. Marks with a pen (the pen models) are
        drawn in it, on an RGB page when anything on the sheet is ink; the
        page stays grey otherwise.
        """
        p = self.profile
        form = self.form if printed is None else printed
        blank, reach = self._print_of(misprint, form)
        if index is not None and p.print_darkness != (1.0, 1.0):
            ink = (255.0 - blank.astype(np.float32)) * self.print_darkness(index)
            blank = np.clip(np.rint(255.0 - ink), 0, 255).astype(np.uint8)
        layout = form.layout
        k = RENDER_DPI / MM_PER_INCH
        pens = [self._pen(m.pen) for m in plan.marks] if p.pen_model else None
        canvas = blank
        if plan.ink or (p.pen_model and plan.rings):
            canvas = np.repeat(blank[..., None], 3, axis=2)
        bubbles = np.array([m.bubble for m in plan.marks], dtype=int)
        blobs = np.array([m.kind not in SYMBOL_KINDS for m in plan.marks], dtype=bool)
        centres = _to_px(layout.centers_xy[bubbles])
        radii = layout.radius[bubbles] * k
        covered = np.zeros(len(plan.marks))
        shape = plan.shape if blobs.all() else _subset(plan.shape, np.flatnonzero(blobs))
        page, covered[blobs] = draw_marks(
            canvas,
            centres[blobs],
            radii[blobs],
            darkness=np.array([m.darkness for m in plan.marks])[blobs],
            coverage=np.array([m.coverage for m in plan.marks])[blobs],
            shape=shape,
            grain=plan.grain,
            rng=ink_rng,
            softness=p.softness_px,
            max_extent=p.mark_max_extent,
            pens=None if pens is None else [pens[i] for i in np.flatnonzero(blobs)],
            px_per_mm=k,
            aspect=(layout.half_axes / layout.radius[:, None])[bubbles[blobs]],
        )
        width = extra_rng.uniform(*p.stroke_width_mm) * k if not blobs.all() or plan.strays else 0
        if not blobs.all():
            symbols = np.flatnonzero(~blobs)
            page, covered[symbols] = draw_symbols(
                page,
                centres[symbols],
                radii[symbols],
                kinds=[plan.marks[i].kind for i in symbols],
                darkness=np.array([plan.marks[i].darkness for i in symbols]),
                rng=extra_rng,
                width=width,
                reach=reach[bubbles[symbols]],
                circle_radius=p.circle_radius,
                dot_radius=p.dot_radius,
                grain=plan.grain,
                softness=p.softness_px,
                pens=None if pens is None else [pens[i] for i in symbols],
                px_per_mm=k,
                aspect=(layout.half_axes / layout.radius[:, None])[bubbles[symbols]],
            )
        erased = np.zeros(len(plan.erasures))
        if plan.erasures:
            e_bubbles = np.array([m.bubble for m in plan.erasures], dtype=int)
            n = len(plan.erasures)
            page, erased = draw_erasures(
                page,
                _to_px(layout.centers_xy[e_bubbles]),
                layout.radius[e_bubbles] * k,
                darkness=np.array([m.darkness for m in plan.erasures]),
                size=extra_rng.uniform(*p.erasure_size, n),
                streaks=extra_rng.uniform(*p.erasure_streaks, n),
                rng=extra_rng,
                reach=reach[e_bubbles],
                grain=plan.grain,
                softness=p.softness_px,
            )
        if plan.strays:
            page = draw_strokes(
                page,
                [_to_px(s.points_mm) for s in plan.strays],
                darkness=np.array([s.darkness for s in plan.strays]),
                width=width,
                rng=extra_rng,
                grain=plan.grain,
                softness=p.softness_px,
            )
        ringed = np.zeros(len(plan.rings))
        if plan.rings:
            r_bubbles = np.array([m.bubble for m in plan.rings], dtype=int)
            ring_pens = [self._pen(m.pen) for m in plan.rings]
            for i, (m, pen) in enumerate(zip(plan.rings, ring_pens, strict=True)):
                # one at a time: each ring has its own radius (``coverage`` until drawn)
                page, ringed[i : i + 1] = draw_symbols(
                    page,
                    _to_px(layout.centers_xy[r_bubbles[i : i + 1]]),
                    layout.radius[r_bubbles[i : i + 1]] * k,
                    kinds=["circle"],
                    darkness=np.array(
                        [m.darkness if p.pen_model else pen.grey_darkness(m.darkness)]
                    ),
                    rng=extra_rng,
                    width=extra_rng.uniform(*p.ring_width_mm) * k,
                    reach=reach[r_bubbles[i : i + 1]],
                    circle_radius=(m.coverage, m.coverage),
                    softness=p.softness_px,
                    pens=[pen] if p.pen_model else None,
                    px_per_mm=k,
                    aspect=(layout.half_axes / layout.radius[:, None])[r_bubbles[i : i + 1]],
                )
        height = (p.handwriting_height_mm[0] * k, p.handwriting_height_mm[1] * k)
        writer = self._pen(plan.writing_pen) if p.pen_model else None
        writing = plan.darkness if plan.writing_darkness is None else plan.writing_darkness
        for name, boxes in self._write_ins(form):
            page = draw_digits(
                page,
                plan.identity[name],
                boxes,
                darkness=writing,
                rng=ink_rng,
                height_px=height,
                thickness=p.handwriting_thickness_px,
                grain=plan.grain,
                pen=writer,
                px_per_mm=k,
            )
        if form.signature is not None:
            s = form.signature
            rect = (*_to_px(s.origin), s.size[0] * k, s.size[1] * k)
            page = draw_signature(
                page,
                rect,
                darkness=writing,
                rng=ink_rng,
                thickness=p.signature_thickness_px,
                pen=writer,
                grain=plan.grain,
                px_per_mm=k,
            )
        return page, np.concatenate([covered, erased, ringed])


_WORKER: SheetMaker | None = None


def _init_worker(maker: SheetMaker) -> None:
    global _WORKER
    cv2.setNumThreads(1)
    _WORKER = maker


def _make_sheet_in_worker(index: int) -> tuple[bytes, dict]:
    assert _WORKER is not None, "worker not initialised"
    return _WORKER(index)


def _sheets(maker: SheetMaker, n: int, jobs: int) -> Iterator[tuple[bytes, dict]]:
    """Sheets 0..n-1 in order, made here or by ``jobs`` worker processes."""
    if jobs <= 1 or n == 1:
        for index in range(n):
            yield maker(index)
        return
    # spawn, not fork: OpenCV's and numpy's threads make fork unsafe (and fork is
    # deprecated in threaded processes); scripts calling this need the usual
    # ``if __name__ == "__main__":`` guard
    tracker_before = tracker_running()  # the pool's queues start it, before any worker
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(maker,),
    )
    try:
        yield from pool.map(_make_sheet_in_worker, range(n))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if not tracker_before:  # the pool started it: it ends with the pool that finished
        stop_resource_tracker()


def _write_text(path: Path, text: str) -> None:
    part = path.with_name(path.name + ".part")
    part.write_text(text, encoding="utf-8", newline="\n")
    part.replace(path)


def simulate_session(
    form: Form,
    sheets: int,
    seed: int,
    out: Path,
    *,
    profile: str | Profile = "standard",
    image_format: str = "pdf",
    jobs: int = 1,
    per_file: int | None = None,
    misregister: float | None = None,
    exam_form: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Simulate an exam session with known truth and write it to ``out``.

    Writes ``out/scans/stack.pdf`` (or ``stack.tif`` with ``image_format="tiff"``),
    ``out/exam.yaml``, ``out/roster.csv`` and ``out/truth.json``; sheets the
    profile photographs go to ``out/scans/photo-0001.jpg``, … instead of the
    stack (sheet id ``photo-0001.jpg:1``), in sheet order. The same
    ``seed`` gives byte-identical ``exam.yaml``, ``roster.csv`` and
    ``truth.json`` (and the same scans) for any ``jobs``.

    Parameters
    ----------
    form : Form
        The answer-sheet design (see :func:`omr.forms.find_form`).
    sheets : int
        Number of candidates, one sheet each.
    seed : int
        Seed of every random draw.
    out : Path
        Session folder (created if missing).
    profile : str or Profile
        Name of a profile in :data:`omr.simulate.PROFILES`, or a profile
        (its ``name`` is recorded).
    image_format : str
        ``"pdf"`` or ``"tiff"``.
    per_file : int, optional
        Split the stack into files of at most this many sheets
        (``stack-01.pdf``, ``stack-02.pdf``, …), as centres scan hall by hall.
    jobs : int
        Worker processes drawing sheets (spawned: a script calling this with
        ``jobs > 1`` needs an ``if __name__ == "__main__":`` guard).
    misregister : float, optional
        Share of pages printed out of register, instead of the profile's
        ``p_misregister`` (the stress mode of :mod:`omr.simulate.misprint`);
        recorded in the truth as ``misregister``.
    exam_form : str, optional
        The form ``exam.yaml`` names, when the reader is to use another
        definition of the printed sheet than ``form`` (a path relative to
        ``out``, e.g. a reference-image form of :mod:`omr.simulate.reference`);
        the fields must be the same.
    progress : callable, optional
        Called with each sheet's index once it is drawn (a progress bar).

    Returns
    -------
    dict
        The truth, as written to ``truth.json``.
    """
    if isinstance(profile, Profile):
        prof, profile = profile, profile.name
    elif profile in PROFILES:
        prof = PROFILES[profile]
    else:
        raise ValueError(f"unknown profile {profile!r}: choose from {', '.join(PROFILES)}")
    if sheets < 1:
        raise ValueError(f"a session needs at least one sheet, got {sheets}")
    if misregister is not None:
        if not 0.0 <= misregister <= 1.0:
            raise ValueError(f"misregister is a share of pages, 0 to 1, got {misregister}")
        prof = replace(prof, p_misregister=float(misregister))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    session_rng = np.random.default_rng([seed, SESSION_STREAM])
    roster = make_roster(form, sheets, session_rng, prof)
    exam = make_exam(form, session_rng, prof, name=f"Simulated exam, {form.name}, seed {seed}")
    if exam_form is not None:
        exam["form"] = exam_form
    maker = SheetMaker(form, prof, seed, exam, roster, render_blank(form))

    page_mm = (form.page.width, form.page.height)
    photos = [is_photo(prof, seed, index) for index in range(sheets)]
    n_scanned = photos.count(False)
    per = per_file or max(n_scanned, 1)
    n_files = -(-n_scanned // per)
    scans = out / "scans"
    scans.mkdir(parents=True, exist_ok=True)
    records: dict[str, dict] = {}
    made = _sheets(maker, sheets, jobs)
    stack = None
    part = on_part = n_photos = 0
    try:
        for index, (data, truth) in enumerate(made):
            if progress is not None:
                progress(index)
            scan = truth["scan"]
            if photos[index]:
                n_photos += 1
                name = f"photo-{n_photos:04d}.jpg"
                part_path = scans / f"{name}.part"
                part_path.write_bytes(data)
                part_path.replace(scans / name)
                records[f"{name}:1"] = truth
                continue
            if stack is None:
                part += 1
                name = "stack" if n_files == 1 else f"stack-{part:02d}"
                stack = open_stack(scans, image_format, page_mm, name)
            stack.add_page(
                data,
                dpi=scan["dpi"],
                size_px=scan_size(page_mm, scan["dpi"]),
                colour=scan["colour"] == "colour",
                bilevel=scan["bilevel"],
            )
            on_part += 1
            records[f"{stack.path.name}:{on_part}"] = truth
            if on_part == per:
                stack.close()
                stack, on_part = None, 0
        if stack is not None:
            stack.close()
            stack = None
    finally:
        if stack is not None:
            stack.abort()
        made.close()  # shuts the worker pool down

    truth = {
        "format": TRUTH_FORMAT,
        "form": form.name,
        "seed": seed,
        "profile": profile,
        "sheets": records,
    }
    if misregister is not None:
        truth["misregister"] = float(misregister)
    _write_text(
        out / "exam.yaml",
        yaml.safe_dump(
            exam, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
        ),
    )
    with (out / "roster.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=ROSTER_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(c.roster_row() for c in roster)
    _write_text(
        out / "truth.json",
        json.dumps(truth, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
    )
    return truth
