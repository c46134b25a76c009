"""Read one page image against a form: register, measure, decide."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import cv2
import numpy as np

from omr.calibration import Calibration
from omr.detect.decide import decide_fields
from omr.detect.evidence import evidence_png
from omr.detect.measure import (
    bubble_points,
    ink_share,
    inner_zones,
    measure_bubbles,
    rect_points,
    ring_mask,
    ring_points,
)
from omr.detect.medium import (
    UNKNOWN,
    classify_grey,
    classify_media,
    grey_colour,
    is_colour,
    mark_colour,
    neutralise,
    paper_colour,
)
from omr.detect.once import once_per
from omr.detect.photo import find_mark_quad, find_page_quad, order_corners, rectify_page
from omr.detect.reference import form_reference
from omr.detect.register import Registration, RegistrationFailed, register_page
from omr.detect.register.marker import marker_quad
from omr.detect.rounding import rounded
from omr.forms import CornerMarks, Form, MarkerImage
from omr.records import FieldRead, ItemRead, ItemState, SheetRead
from omr.score.scoring import national_id_digit_shown
from omr.stages import stage

PHOTO_RETRY = {"marks-not-found", "registration-weak", "orientation-unknown"}
SCAN_RESIDUAL_MM = 0.05  # a flat scan's marks fit within this; beyond it, try a perspective
SIGNED_SHARE = 0.005  # share of the signature box's samples inked for it to count as signed
# Photos (light evened out) and 1-bit scans (thresholded) keep no trustworthy
# halo, and their grain or residue leaves specks like a dot's: the rules that
# read a smudge's shape are off there, and a person decides instead.
NO_SHAPE_RULES = {
    "double_clean_ring": -1.0,  # no second mark is "drawn cleanly inside"
    "double_fill_share": 0.0,
    "double_smear_ring": 9.0,  # nor "smeared out"
    "residue_halo_share": 0.0,  # lightness alone sets residue aside
    "lone_median": -1.0,  # no dot or light tick is read alone
}

_POINTS: dict[int, tuple] = {}


def _points(form: Form) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    """Interior points, ring points, the ring's usable mask and the interior's zones,
    computed once per form."""

    def make() -> tuple:
        layout = form.layout
        ring, inside = ring_points(layout), bubble_points(layout)
        return inside, ring, ring_mask(layout, ring), inner_zones(inside)

    return once_per(form, _POINTS, make)


def register(gray: np.ndarray, form: Form):
    """:func:`register_page` with the form's reference features when it has them."""
    return register_page(gray, form, reference=form_reference(form))


def in_a_frame(gray: np.ndarray, *, share: float = 0.95) -> bool:
    """Whether the sheet lies inside a larger picture (a photo: desk around it).

    A scan's sheet fills its frame (its outline covers 99.7% of it on
    simulated scans; a photographed sheet 48–69%).
    """
    quad = find_page_quad(gray)
    if quad is None:
        return False
    area = cv2.contourArea(quad.astype(np.float32))
    return area < share * gray.shape[0] * gray.shape[1]


def _fits_better(a, b) -> bool:
    """Whether registration ``a`` finds more landmarks than ``b``, or as many more tightly."""
    if a.marks_found != b.marks_found:
        return a.marks_found > b.marks_found
    return a.residual_mm < b.residual_mm


def is_bilevel(gray: np.ndarray) -> bool:
    """True for a page of (nearly) only black and white pixels: a 1-bit scan."""
    # Every 16th row first: where half of them are grey, more than 2% of the
    # page is (a grey scan's paper is; 2.9 ms for the whole page, 0.2 for these).
    rows = gray[::16]
    some = cv2.calcHist([rows], [0], None, [256], [0, 256]).ravel()
    if some[8:248].sum() > 0.5 * some.sum():
        return False
    hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()
    return bool(hist[[0, 255]].sum() + hist[1:8].sum() + hist[248:255].sum() >= 0.98 * hist.sum())


def _outer_marks_mm(form: Form) -> np.ndarray:
    """The form's four outermost marks, ordered top-left, top-right, bottom-right, bottom-left."""
    marks = np.asarray(form.registration.marks, dtype=float)
    return order_corners(marks)


def _rectified_candidates(gray: np.ndarray, form: Form):
    """Straightened versions of a photo: from the corner marks, then from the sheet's edges.

    Each comes with the function that straightens another plane of the same
    photo (a colour channel) the same way.
    """
    reg = form.registration
    quad = find_mark_quad(gray) if isinstance(reg, CornerMarks) and reg.shape == "square" else None
    if isinstance(reg, MarkerImage):
        quad = marker_quad(gray, form)
    if quad is not None:
        corners = _outer_marks_mm(form)
        yield (
            rectify_page(gray, quad, form, corners_mm=corners),
            partial(rectify_page, quad=quad, form=form, corners_mm=corners),
        )
    quad = find_page_quad(gray)
    if quad is not None:
        yield rectify_page(gray, quad, form), partial(rectify_page, quad=quad, form=form)


def straighten_colour(colour: np.ndarray, straighten) -> np.ndarray:
    """A photo's colour planes straightened like its grey page, each evened out on its paper.

    Evening out each channel on the sheet's own paper is also its white
    balance: the paper comes out neutral whatever the light's colour, and a
    mark's absorbance stays relative to the paper around it.
    """
    return np.dstack([straighten(np.ascontiguousarray(colour[..., c])) for c in range(3)])


def mark_media(colour, matrix, inside, fields, form: Form, ink_model, gray=None) -> dict:
    """Medium (pencil, ink, unknown) of every marked or doubtful bubble, with its numbers.

    Without colour, the grey page ``gray`` (when given) still tells a marker
    or gel pen by its density and smoothness (:func:`classify_grey`).
    """
    layout = form.layout
    found = []
    for name, f in layout.fields.items():
        read = fields[name]
        for i, item in enumerate(read.items):
            for option in item.value + item.unsure:
                if option in f.option_labels:
                    found.append((name, i, option, int(f.index[i, f.option_labels.index(option)])))
    has_colour = is_colour(colour)
    out = {"colour": has_colour, "marks": []}
    if not found:
        return out
    if not has_colour and gray is None:
        out["marks"] = [
            {"field": n, "item": i, "option": o, "medium": UNKNOWN} for n, i, o, _ in found
        ]
        return out
    idx = np.array([b for *_, b in found])
    if has_colour:
        evidence = mark_colour(colour, matrix, inside[idx], paper_rgb=paper_colour(colour))
        medium, score = classify_media(evidence, ink_model)
        evidence = neutralise(evidence, ink_model)
    else:
        evidence = grey_colour(gray, matrix, inside[idx])
        medium, score = classify_grey(evidence, ink_model)
    numbers = {
        "score": rounded(score, 3),
        "saturation": rounded(evidence.saturation, 3),
        "hue": rounded(evidence.hue, 1),
        "density": rounded(evidence.density, 3),
        "chroma": rounded(evidence.chroma, 3),
        "texture": rounded(evidence.texture, 3),
    }
    columns = [medium.tolist()] + [v.tolist() for v in numbers.values()]
    for (n, i, o, _), (med, *values) in zip(found, zip(*columns, strict=True), strict=True):
        mark = {"field": n, "item": i, "option": o, "medium": str(med)}
        out["marks"].append(mark | dict(zip(numbers, values, strict=True)))
    return out


def _pictured(mark: dict, layout) -> bool:
    """False for a mark on a national-ID digit that the masked national ID hides."""
    if mark["field"] != "national_id":
        return True
    return national_id_digit_shown(mark["item"], len(layout.fields["national_id"].index))


def ink_evidence(colour: np.ndarray, matrix: np.ndarray, media: dict, form: Form) -> bytes:
    """PNG of the marks flagged as ink beside the sheet's most typical pencil mark; b"" if none.

    A national ID's digits the masked ID hides are not pictured (the bubble prints its
    digit); the whole sheet is in ``omr review show``.
    """
    layout = form.layout
    marks = [m for m in media.get("marks", []) if _pictured(m, layout)]
    flagged = [m for m in marks if m["medium"] == "ink"]
    if not flagged:
        return b""

    def centre(m):
        f = layout.fields[m["field"]]
        return layout.centers_xy[f.index[m["item"], f.option_labels.index(m["option"])]]

    def label(m):
        return f"{m['field']} {m['item'] + 1} {m['option']}"

    tiles = [
        (centre(m), f"INK {label(m)}", f"sat {m['saturation']:.2f} d {m['density']:.2f}")
        for m in flagged[:8]
    ]
    pencil = [m for m in marks if m["medium"] == "pencil"]
    if pencil:
        ref = sorted(pencil, key=lambda m: m["density"])[len(pencil) // 2]
        tiles.append(
            (
                centre(ref),
                f"pencil {label(ref)}",
                f"sat {ref['saturation']:.2f} d {ref['density']:.2f}",
            )
        )
    return evidence_png(colour, matrix, tiles)


class PlacedSheet(NamedTuple):
    """A page as it is read: the image (straightened when a photo), its registration."""

    gray: np.ndarray
    registration: Registration | RegistrationFailed
    photo: bool
    straighten: Callable | None  # straightens another plane of a photo the same way


def register_sheet(gray: np.ndarray, form: Form) -> PlacedSheet:
    """Register a page as :func:`read_page` does, a photo's perspective retry included.

    ``omr forms check`` calls this too, so that it passes exactly the pages
    ``omr run`` reads.
    """
    reg = register(gray, form)
    loose = (
        bool(reg)
        and (reg.residual_mm > SCAN_RESIDUAL_MM or reg.marks_found < reg.marks_expected)
        and in_a_frame(gray)
    )
    if (not reg and reg.reason in PHOTO_RETRY) or loose:
        # Perhaps a photo: the sheet lies somewhere in the frame, in perspective.
        # A photo's flat fit that is loose, or leaves marks out, is one too: its
        # perspective bends an affine fit by a tenth of a millimetre at the
        # marks found and by millimetres in between.
        for page, warp in _rectified_candidates(gray, form):
            again = register(page, form)
            if again and (not reg or _fits_better(again, reg)):
                return PlacedSheet(page, again, True, warp)
    return PlacedSheet(gray, reg, False, None)


def read_page(
    gray: np.ndarray,
    form: Form,
    calibration: Calibration,
    *,
    sheet_id: str = "",
    source: str = "",
    page: int = 0,
    dpi: float | None = None,
    colour: np.ndarray | None = None,
    jpeg_quality: int | None = None,
    one_bit: bool = False,
) -> SheetRead:
    """Everything that can be read from one page, or the reason it cannot.

    Parameters
    ----------
    gray : (M, N) ndarray of uint8
        The page in grey levels.
    colour : (M, N, 3) ndarray of uint8, optional
        The same page in colour, when it was scanned in colour: marks are then
        checked for ink (article 7.7); without it their medium is ``unknown``.
    jpeg_quality : int, optional
        Estimated JPEG quality of the page; below the calibration's
        ``min_jpeg_quality`` the colour is too damaged to judge ink by.
    one_bit : bool
        The file stored ``gray`` with one bit a pixel (only 0 and 255): a
        1-bit scan, known without counting its pixels (:func:`is_bilevel`).
    form, calibration
        What the sheet should look like and the scanner's thresholds.
    """
    base = {"sheet_id": sheet_id, "source": source, "page": page, "form": form.name, "dpi": dpi}
    with stage("register"):
        placed = register_sheet(gray, form)
    if not placed.registration:
        reg = placed.registration
        return SheetRead(
            **base, problem=reg.reason, message=reg.message, registration=dict(reg.proof)
        )
    gray, reg, photo, straighten = placed
    model = calibration.marks
    if photo:
        # Evening out a photo's light also flattens a smudge's halo, the sign of
        # an eraser: a light even fill there is shown to a person, not accepted.
        model = model.model_copy(
            update={**NO_SHAPE_RULES, "faint_accept": 1.0, "double_clean_share": 0.0}
        )
    with stage("measure"):
        bilevel = (one_bit and not photo) or is_bilevel(gray)
    if bilevel:
        # 1-bit scans: soften the pixel grain (a dither's isolated dots) so that
        # shares of dark samples measure marks, not halftone; blank bubbles are
        # pure white there, so a little black inside one is already evidence.
        with stage("measure"):
            gray = cv2.GaussianBlur(gray, (0, 0), 0.12 * reg.px_per_mm)
        # A light even grey there is an eraser's or a pencil's scatter of dots:
        # a clean faint fill counts only where its black clusters into strokes.
        model = model.model_copy(
            update={
                "empty_floor": model.bilevel_empty_floor,
                "faint_accept": model.bilevel_faint_accept,
                "faint_cover": model.bilevel_faint_cover,
                "trace_floor": model.bilevel_trace_floor,  # a few black pixels are a trace
                # A second answer only where its black clusters into solid strokes.
                "double_stroke_cover": model.bilevel_double_cover,
                **NO_SHAPE_RULES,
            }
        )
    inside, ring, ring_keep, zones = _points(form)
    with stage("measure"):
        measures = measure_bubbles(
            gray, reg.matrix, inside, ink=reg.ink, ring_mm=ring, ring_keep=ring_keep, zones=zones
        )
    with stage("decide"):
        fields, levels = decide_fields(measures, form.layout, model)
    if form.signature is not None:
        pts = rect_points(form.signature.origin, form.signature.size)
        with stage("measure"):
            share = ink_share(gray, reg.matrix, pts, paper=measures.paper, ink=reg.ink)
        signed = share >= SIGNED_SHARE
        item = ItemRead("x" if signed else "", ItemState.one if signed else ItemState.blank, 1.0)
        fields["signature"] = FieldRead("signature", (item,), ((round(share, 4),),))
    too_compressed = jpeg_quality is not None and jpeg_quality < calibration.ink.min_jpeg_quality
    with stage("medium"):
        if photo and colour is not None and colour.ndim == 3:
            colour = straighten_colour(colour, straighten)
        usable = colour if (colour is not None and not bilevel) else None
        if too_compressed:
            usable = None
        # Without colour, a grey page still shows a marker's solid fill; not a 1-bit
        # one (no grain left), a photo (its light evened out) or a JPEG too compressed.
        grey = gray if usable is None and not (bilevel or photo or too_compressed) else None
        media = mark_media(usable, reg.matrix, inside, fields, form, calibration.ink, gray=grey)
        if too_compressed and colour is not None:
            media["why"] = (
                f"JPEG quality about {jpeg_quality}: too compressed to tell ink by colour"
            )
        evidence = ink_evidence(usable, reg.matrix, media, form) if usable is not None else b""
    return SheetRead(
        **base,
        media=media,
        evidence=evidence,
        fields=fields,
        registration={**reg.summary(), "photo": photo},
        levels={**levels.as_dict(), "paper": round(measures.paper, 1), "ink": round(reg.ink, 1)},
    )
