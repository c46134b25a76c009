"""Propose a form definition from one scan of a sheet: ``omr forms fit``.

The scan is straightened, its bubbles are found and grouped into grids, its
registration features (corner marks, timing track, or none: then the scan
itself becomes the reference image) are read, and every grid gets a guessed
role (booklet group, digit grid, answer block). A person confirms the overlay
and names the fields in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from string import ascii_uppercase

import cv2
import numpy as np
import yaml

from omr.definitions import validate
from omr.detect.layout import (
    FoundBubbles,
    FoundRegistration,
    Grid,
    estimate_skew,
    find_bubbles,
    find_grids,
    find_marker_image,
    find_registration,
)
from omr.detect.layout.ink import _prepare
from omr.detect.layout.recover import recover_on_lattices
from omr.detect.photo import find_page_quad
from omr.errors import InvalidFormError
from omr.forms import Form, check_geometry

MIN_CORNER_MARKS = 4


def form_name(stem: str) -> str:
    """A valid form name made from a file's stem: ``S_1 scan134`` -> ``s-1-scan134``.

    Lower case, every run of other characters one ``-``, no ``-`` at either
    end (the pattern ``^[a-z0-9][a-z0-9-]*$`` of the form's ``name``); ``form``
    when nothing is left.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return slug or "form"


@dataclass(frozen=True)
class FieldGuess:
    """One proposed field: where it goes in the form file and what was found."""

    section: str  # "group", "identity", "score_fields" or "answer_blocks"
    name: str
    data: dict
    rows: int
    cols: int
    top_left_mm: tuple[float, float]

    def describe(self) -> str:
        """What was found, in words: ``40 questions x 5 options (2 columns)``."""
        d = self.data
        if self.section == "answer_blocks":
            columns = -(-d["questions"] // d.get("per_column", d["questions"]))
            more = f" ({columns} columns)" if columns > 1 else ""
            return f"{d['questions']} questions x {len(d['options'])} options{more}"
        if self.section == "group":
            return f"{len(d['options'])} options"
        return f"{d['digits']} digits"


@dataclass(frozen=True)
class FormProposal:
    """A proposed form definition, its notes for the person, and the straightened scan."""

    data: dict
    fields: list[FieldGuess]
    notes: list[str] = field(default_factory=list)
    page: np.ndarray | None = None  # the straightened scan (M, N) uint8
    px_per_mm: float = 0.0
    skew_deg: float = 0.0
    bubbles: FoundBubbles | None = None  # what was found on ``page``, for the overlay
    grids: list[Grid] = field(default_factory=list)
    registration: FoundRegistration | None = None
    # What the fit itself found wrong, (key path, message), beside validation's.
    problems: list[tuple[str, str]] = field(default_factory=list)

    def yaml_text(self) -> str:
        """The form file, with a header that tells the person what to check and name."""
        lines = [
            f"# Proposed by `omr forms fit` from one scan ({self.px_per_mm * 25.4:.0f} dpi).",
            "# Check the overlay picture: every green outline must sit on a printed bubble.",
            "# Then name the fields: the booklet group, identity digit grids, and each",
            "# answer block by its course (the names an exam.yaml uses). Fields found:",
        ]
        for f in self.fields:
            x, y = f.top_left_mm
            lines.append(f"#   {f.section}.{f.name}: {f.describe()}, from ({x:.1f}, {y:.1f}) mm")
        lines += [f"# NOTE: {n}" for n in self.notes]
        body = yaml.safe_dump(self.data, allow_unicode=True, sort_keys=False, width=100)
        return "\n".join(lines) + "\n" + body


def straighten(gray: np.ndarray, px_per_mm: float) -> tuple[np.ndarray, float]:
    """The scan turned so its bubble rows are level, and the angle it was turned by (degrees)."""
    bubbles = find_bubbles(gray, px_per_mm)
    grids = find_grids(bubbles, px_per_mm)
    angle = estimate_skew(bubbles, grids)
    if not np.isfinite(angle) or abs(angle) < 0.02:
        return gray, 0.0
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    turned = cv2.warpAffine(
        gray, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return turned, angle


def propose_form(
    gray: np.ndarray,
    px_per_mm: float,
    *,
    name: str,
    reference_name: str | None = None,
    marks: bool = True,
    marker: tuple[np.ndarray, str] | None = None,
) -> FormProposal:
    """A form definition for the sheet scanned in ``gray`` (M, N) uint8 at ``px_per_mm``.

    Parameters
    ----------
    name : str
        The form's name (lower case, digits, ``-``).
    reference_name : str, optional
        File name the straightened scan will be saved under when the sheet has
        no marks and must be aligned on it; default ``NAME.png``.
    marks : bool
        Look for registration marks; False aligns on the scan itself.
    marker : (picture (H, W) uint8, file name), optional
        A picture printed as registration marks: its copies are looked for
        first, and, when at least four are found, the form registers on them.
    """
    marker = marker if marks else None
    proposal = _propose(gray, px_per_mm, name, reference_name, marks, marker)
    if not proposal.problems:
        return proposal
    # Bubbles off an even grid: a photo in perspective. Flattened to the
    # page's four corners, its grids may come out even.
    flat = flatten_to_page(gray)
    if flat is None:
        return proposal
    again = _propose(flat, px_per_mm, name, reference_name, marks, marker)
    if len(again.problems) >= len(proposal.problems) or not again.fields:
        return proposal
    again.notes.insert(
        0,
        "the photo's bubbles lay off an even grid (taken at an angle): the page was "
        "flattened to its four corners first, and its reference image is the flattened page",
    )
    return again


def flatten_to_page(gray: np.ndarray) -> np.ndarray | None:
    """The sheet of a photo warped from its four corners to an upright rectangle, or None.

    The rectangle's sides are the longer of each pair of the page's opposite
    edges, so the scale stays about the photo's; None when no page quadrilateral
    stands out from the background.
    """
    quad = find_page_quad(gray)
    if quad is None:
        return None
    tl, tr, br, bl = quad
    w = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    h = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    if min(w, h) < 50:
        return None
    target = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    size = (int(round(w)), int(round(h)))
    return cv2.warpPerspective(gray, m, size, flags=cv2.INTER_LINEAR, borderValue=255)


def _propose(gray, px_per_mm, name, reference_name, marks, marker=None) -> FormProposal:
    """:func:`propose_form` on the scan as it is."""
    page, skew = straighten(gray, px_per_mm)
    bubbles = find_bubbles(page, px_per_mm)
    if len(bubbles) == 0:
        return FormProposal(
            {}, [], ["no bubbles found on this scan"], page, px_per_mm, skew, bubbles
        )
    grids = find_grids(bubbles, px_per_mm)
    notes: list[str] = []
    found = None
    if marker is not None:
        lattices = [g.centres().reshape(-1, 2) for g in grids if g.rows * g.cols > 1]
        in_grids = np.vstack(lattices or [np.empty((0, 2))])
        found = _marker_copies(page, px_per_mm, marker, in_grids, notes)
    if found is None and marks:
        found = find_registration(page, px_per_mm, bubbles)
    if found is None:
        found = FoundRegistration("none", None, np.empty((0, 2)), np.zeros(2), (), None)
    bubbles, recovered = recover_on_lattices(
        page,
        bubbles,
        grids,
        px_per_mm,
        keep_off=found.xy,
        keep_off_px=0.5 * float(np.max(found.size_mm, initial=0.0)) * px_per_mm,
    )
    if recovered:
        grids = find_grids(bubbles, px_per_mm)
        notes.append(
            f"{recovered} bubble(s) the finder missed taken where the grids' lattices put one "
            "and its printed outline shows (pale or broken outlines, digits inside touching "
            "the line): check them on the overlay"
        )

    def mm(xy) -> list[float]:
        return [round(float(v), 2) for v in (np.asarray(xy, dtype=float) + 0.5) / px_per_mm]

    h, w = page.shape
    data: dict = {
        "format": 1,
        "name": name,
        "title": {"tr": name, "en": name},
        "page": {"width": round(w / px_per_mm, 1), "height": round(h / px_per_mm, 1)},
    }
    data.update(_bubble_entry(bubbles))
    data["registration"] = _registration_entry(
        found, page, px_per_mm, mm, reference_name or f"{name}.png", notes, marker
    )
    kept, solid = _drop_solid_grids(grids, bubbles, px_per_mm, mm, notes)
    kept = _drop_example_rows(kept, solid, page, bubbles, px_per_mm, mm, notes)
    chains = _merge_columns(kept, px_per_mm)
    fields = _guess_fields(chains, mm, px_per_mm, notes)
    problems = _uneven_fields(fields, chains, mm)
    _propose_digit_orders(fields, chains, page, bubbles, px_per_mm, mm, notes)
    fields = _lone_line_as_questions(fields, notes)
    _field_sizes(fields, chains, bubbles, px_per_mm, mm)
    _side_by_side(fields, notes)
    for f in fields:
        if f.section == "group":
            data["group"] = f.data
        else:
            data.setdefault(f.section, {})[f.name] = f.data
    if "group" not in data:
        notes.append(
            "no booklet group proposed: the form has one version (one key per course, "
            "article 7.6 not applicable); add a `group:` entry if the sheet has one"
        )
    for size, xy in bubbles.other_sizes:
        x, y = mm(xy.min(axis=0))
        notes.append(
            f"{len(xy)} bubbles of {size:.1f} mm in line from ({x:.1f}, {y:.1f}) mm left out: a "
            "solid dot of their size stands among them, as in a printed example ('mark like "
            "this'); if they are a field, fit a blank sheet to have it proposed"
        )
    ignored = sum(1 for g in grids if g.rows * g.cols == 1)
    if ignored:
        notes.append(f"{ignored} lone bubble(s) left out (a proctor box? add it under boxes:)")
    return FormProposal(data, fields, notes, page, px_per_mm, skew, bubbles, grids, found, problems)


SIZE_OWN = 0.08  # a field whose bubbles differ from the form's by this share gets its own size


def _field_sizes(fields, chains, bubbles: FoundBubbles, px_per_mm: float, mm) -> None:
    """Give a field its own ``bubble_diameter`` (or ``bubble``) where its bubbles differ.

    Real sheets print group, ID and answer bubbles at different sizes; the
    outlines of a field are checked at the size it is given.
    """
    sheet = np.median(bubbles.size_mm, axis=0)
    reach = 0.5 * float(np.min(sheet)) * px_per_mm
    grids = {tuple(mm(c[0].origin)): c for c in chains}
    for f in fields:
        chain = grids.get(tuple(f.top_left_mm))
        if chain is None:
            continue
        centres = np.vstack([g.centres().reshape(-1, 2) for g in chain])
        d = np.hypot(*(centres[:, None, :] - bubbles.xy[None, :, :]).transpose(2, 0, 1))
        at = d.argmin(axis=1)[d.min(axis=1) < reach]
        rings = at[~bubbles.filled[at]]
        use = rings if len(rings) >= 2 else at
        sizes = bubbles.size_mm[use]
        # Two bubbles (a booklet group A/B) will do when they measure alike.
        if len(use) < 2 or (len(use) == 2 and np.ptp(sizes) > SIZE_OWN * sizes.mean()):
            continue
        own = np.median(sizes, axis=0)
        if np.all(np.abs(own / sheet - 1) < SIZE_OWN):
            continue
        if bubbles.shape == "circle":
            f.data["bubble_diameter"] = round(float(own.mean()), 2)
        else:
            f.data["bubble"] = {"shape": bubbles.shape, "size": [round(float(v), 2) for v in own]}


def _side_by_side(fields: list[FieldGuess], notes) -> None:
    """A note where two answer blocks line up row by row, close: perhaps one block.

    A wider gap between two columns of options (OMRChecker's sample4 prints
    two "power" bubbles beside each question's four) cuts a grid in two. Whether
    they are one question's options or two fields only the sheet's wording
    says: the note gives the ``option_offsets`` that would join them.
    """
    blocks = [f for f in fields if f.section == "answer_blocks" and "per_column" not in f.data]
    for a in blocks:
        for b in blocks:
            da, db = a.data, b.data
            if a is b or da["questions"] != db["questions"] or da["questions"] < 2:
                continue
            qa, qb = np.asarray(da["question_step"]), np.asarray(db["question_step"])
            oa = np.asarray(da["option_step"])
            if np.linalg.norm(qa - qb) > 0.03 * np.linalg.norm(qa) or abs(oa[1]) > abs(oa[0]):
                continue  # questions must run down alike, options across
            gap = np.asarray(db["origin"]) - np.asarray(da["origin"])
            last = (len(da["options"]) - 1) * oa
            if abs(gap[1]) > 0.3 * np.linalg.norm(qa) or not (
                0 < gap[0] - last[0] < 2.5 * abs(oa[0])
            ):
                continue
            ob = np.asarray(db["option_step"])
            offsets = [round(float(k * oa[0]), 2) for k in range(len(da["options"]))]
            offsets += [round(float(gap[0] + k * ob[0]), 2) for k in range(len(db["options"]))]
            notes.append(
                f"answer_blocks.{b.name} continues the rows of {a.name} a little apart: if "
                f"they are one question's options, make them one block with option_offsets: "
                f"{offsets}"
            )


def _bubble_entry(bubbles: FoundBubbles) -> dict:
    size = np.median(bubbles.size_mm, axis=0)
    if bubbles.shape == "circle":
        return {"bubble_diameter": round(float(size.mean()), 2)}
    return {"bubble": {"shape": bubbles.shape, "size": [round(float(v), 2) for v in size]}}


def _marker_copies(page, px_per_mm, marker, bubbles_xy, notes) -> FoundRegistration | None:
    """The marker picture's copies on the sheet when there are four or more, else None."""
    found = find_marker_image(page, px_per_mm, marker[0], bubbles_xy)
    if found is not None and len(found.xy) >= MIN_MARKER_COPIES:
        return found
    n = 0 if found is None else len(found.xy)
    notes.append(
        f"the marker image {marker[1]} was found {n} time(s) on the sheet (a registration "
        f"needs {MIN_MARKER_COPIES} copies matching 0.5 or better): registered otherwise"
    )
    return None


MIN_MARKER_COPIES = 4


def _registration_entry(
    found: FoundRegistration, page, px_per_mm, mm, reference_name: str, notes, marker=None
) -> dict:
    if found.kind == "marker-image":
        w, h = (round(float(v), 2) for v in found.size_mm)
        return {
            "kind": "marker-image",
            "image": marker[1],
            "mark_size": w if abs(w - h) < 0.1 else [w, h],
            "marks": [mm(p) for p in found.xy],
        }
    if found.kind == "timing-track" and found.tracks:
        return {
            "kind": "timing-track",
            "dash": [round(float(v), 2) for v in found.size_mm],
            "tracks": [
                {"first": mm(t[0]), "last": mm(t[-1]), "count": len(t)} for t in found.tracks
            ],
        }
    if found.kind == "corner-marks" and found.shape == "bullseye":
        entry = {
            "kind": "corner-marks",
            "shape": "bullseye",
            "mark_size": round(float(found.size_mm[0]), 2),
            "ring_size": round(float(found.size_mm[1]), 2),
            "marks": [mm(p) for p in found.xy],
        }
        if found.orientation_xy is not None:
            entry["orientation_mark"] = mm(found.orientation_xy)
            entry["orientation_size"] = round(_blob_side(page, found.orientation_xy, px_per_mm), 2)
        return entry
    if found.kind == "corner-marks" and len(found.xy) >= MIN_CORNER_MARKS:
        entry = {
            "kind": "corner-marks",
            "shape": found.shape,
            "mark_size": round(float(np.max(found.size_mm)), 2),
            "marks": [mm(p) for p in found.xy],
        }
        if found.shape == "l-shape":
            entry["l_thickness"] = round(_l_thickness(page, found, px_per_mm), 2)
        if found.shape == "ring":
            entry["ring_width"] = round(found.ring_width_mm, 2)
        if found.orientation_xy is not None:
            entry["orientation_mark"] = mm(found.orientation_xy)
            entry["orientation_size"] = round(_blob_side(page, found.orientation_xy, px_per_mm), 2)
        return entry
    if found.kind == "corner-marks":
        notes.append(
            f"only {len(found.xy)} corner mark(s) found: aligning on the reference image instead"
        )
    return {"kind": "reference-image", "image": reference_name, "dpi": round(px_per_mm * 25.4, 2)}


def _blob_mask(page: np.ndarray, xy, px_per_mm: float, reach_mm: float) -> np.ndarray:
    """The dark blob under ``xy`` (a window's Otsu threshold, the component at the centre)."""
    r = int(reach_mm * px_per_mm)
    x, y = int(round(xy[0])), int(round(xy[1]))
    win = page[max(y - r, 0) : y + r + 1, max(x - r, 0) : x + r + 1]
    _, dark = cv2.threshold(win, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    _, labels = cv2.connectedComponents(dark)
    cy, cx = min(y, r), min(x, r)
    label = labels[cy, cx]
    if label == 0:  # an L's centre is paper: take the biggest blob instead
        counts = np.bincount(labels.ravel())
        counts[0] = 0
        label = int(counts.argmax())
    return labels == label


def _blob_side(page: np.ndarray, xy, px_per_mm: float) -> float:
    """Side, mm, of the solid square under ``xy`` (from its area)."""
    return float(np.sqrt(_blob_mask(page, xy, px_per_mm, 6.0).sum()) / px_per_mm)


def _l_thickness(page: np.ndarray, found: FoundRegistration, px_per_mm: float) -> float:
    """Arm thickness, mm, of the L-shaped marks: ``2 a t - t**2`` is an L's area."""
    a = float(np.max(found.size_mm))
    areas = [_blob_mask(page, p, px_per_mm, 0.75 * a).sum() / px_per_mm**2 for p in found.xy]
    area = float(np.median(areas))
    return a - np.sqrt(max(a * a - area, 0.0))


def _close(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    return bool(np.linalg.norm(np.asarray(a) - np.asarray(b)) <= tol)


DIGIT_ORDERS = ("0123456789", "1234567890")
MIN_DIGIT_CORRELATION = 0.6  # and the other order at least 0.3 below


def _digit_ink() -> dict[str, float]:
    """Ink of each digit 0-9 in the middle of a bubble, printed in DejaVu Sans."""
    from PIL import Image, ImageDraw, ImageFont

    from omr.resources import font_path

    font = ImageFont.truetype(str(font_path()), 48)
    yy, xx = np.mgrid[0:80, 0:80]
    disc = (xx - 40) ** 2 + (yy - 40) ** 2 <= 20**2
    out = {}
    for d in "0123456789":
        image = Image.new("L", (80, 80), 0)
        ImageDraw.Draw(image).text((40, 40), d, fill=255, font=font, anchor="mm")
        out[d] = float(np.asarray(image)[disc].mean())
    return out


def _propose_digit_orders(fields, chains, page, bubbles, px_per_mm, mm, notes) -> None:
    """Set each digit grid's ``order`` from the digits printed inside its bubbles.

    The ink inside the middle of each row's bubbles (filled ones left out) is
    matched against the ink of the digits themselves (``1`` and ``7`` light,
    ``8`` and ``0`` heavy), in the order 0-9 and in the order 1-9 then 0: the
    order that matches clearly better is proposed. Where neither does (the
    digits printed beside the grid, or none), the order stays 0-9 and a note
    says to check it.
    """
    grids = {tuple(mm(c[0].origin)): c[0] for c in chains}
    r = 0.3 * float(np.min(np.median(bubbles.size_mm, axis=0))) * px_per_mm
    ink_of = None
    for f in fields:
        g = grids.get(tuple(f.top_left_mm))
        if f.section not in {"identity", "score_fields"} or g is None:
            continue
        across = g.rows == 10
        centres = g.centres() if across else g.centres().transpose(1, 0, 2)
        ink = _inside_ink(page, centres, bubbles, r)
        seen = np.isfinite(ink).any(axis=1)  # a row filled throughout tells nothing
        rows = np.full(len(ink), np.nan)
        rows[seen] = np.nanmedian(ink[seen], axis=1)
        where = f"{f.section}.{f.name}"
        if seen.sum() >= 8 and np.nanstd(rows[seen]) > 0:
            ink_of = ink_of or _digit_ink()
            corr = {
                order: float(
                    np.corrcoef(rows[seen], [ink_of[d] for d in np.array(list(order))[seen]])[0, 1]
                )
                for order in DIGIT_ORDERS
            }
            best = max(corr, key=corr.get)
            other = min(corr.values())
            if corr[best] >= MIN_DIGIT_CORRELATION and corr[best] - other >= 0.3:
                if best != DIGIT_ORDERS[0]:
                    f.data["order"] = best
                notes.append(
                    f"{where}: digits printed {best} (the digits seen inside the bubbles: "
                    f"match {corr[best]:.2f}, the other order {other:.2f}); check it on the overlay"
                )
                continue
        notes.append(
            f"{where}: digit order not seen, written as 0-9; if the grid is printed "
            '1-9 then 0, add `order: "1234567890"`'
        )


def _inside_ink(page, centres, bubbles, r) -> np.ndarray:
    """(10, K) darkness inside each bubble's middle (0-255); NaN for filled ones."""
    h, w = page.shape
    out = np.full(centres.shape[:2], np.nan)
    for i in range(centres.shape[0]):
        for j in range(centres.shape[1]):
            x, y = centres[i, j]
            d = np.hypot(*(bubbles.xy - (x, y)).T)
            if len(d) and d.min() < 2 * r and bubbles.filled[d.argmin()]:
                continue
            x0, x1 = max(int(x - r), 0), min(int(x + r) + 1, w)
            y0, y1 = max(int(y - r), 0), min(int(y + r) + 1, h)
            if x1 <= x0 or y1 <= y0:
                continue
            yy, xx = np.mgrid[y0:y1, x0:x1]
            inside = (xx - x) ** 2 + (yy - y) ** 2 <= r * r
            out[i, j] = 255.0 - page[yy[inside], xx[inside]].astype(float).mean()
    return out


MAX_UNEVEN = 0.08  # RMS distance of a grid's bubbles from its lattice, in pitches


def _uneven_fields(fields: list[FieldGuess], chains: list[list[Grid]], mm) -> list:
    """(key path, message) for every field whose bubbles stray from an even lattice.

    A lattice fitted to bubbles that do not lie on one (a phone photo taken at
    an angle, a curled page) puts its ends off the printed bubbles: read so,
    marks there would go unseen. Flat scans measure 0.02-0.04 of a pitch, a
    photo in perspective 0.15.
    """
    worst = {}
    for chain in chains:
        key = tuple(mm(chain[0].origin))
        for g in chain:
            steps = [np.hypot(*v) for v, n in ((g.col_step, g.cols), (g.row_step, g.rows)) if n > 1]
            if steps and min(steps) > 0:
                worst[key] = max(worst.get(key, 0.0), g.residual_px / min(steps))
    out = []
    for f in fields:
        u = worst.get(tuple(f.top_left_mm), 0.0)
        if u > MAX_UNEVEN:
            path = "group" if f.section == "group" else f"{f.section}.{f.name}"
            out.append(
                (
                    path,
                    f"its bubbles lie off an even grid ({u:.2f} of a pitch, more than "
                    f"{MAX_UNEVEN}): a photo taken at an angle or a curled page, where these "
                    "positions miss the bubbles at its ends. Scan the sheet flat",
                )
            )
    return out


def _drop_solid_grids(grids: list[Grid], bubbles: FoundBubbles, px_per_mm, mm, notes):
    """The grids of two or more bubbles less those whose every bubble is filled.

    No field is marked in every bubble: such a grid is print (a QR code's
    finder squares, a row of solid dots in the instructions), not a field.
    """
    out, solid = [], []
    reach = 0.5 * float(np.min(np.median(bubbles.size_mm, axis=0))) * px_per_mm
    for g in grids:
        if g.rows * g.cols < 2:
            out.append(g)
            continue
        c = g.centres().reshape(-1, 2)
        d = np.hypot(*(c[:, None, :] - bubbles.xy[None, :, :]).transpose(2, 0, 1))
        near = d.min(axis=1) < reach
        at = d.argmin(axis=1)[near]
        if len(at) >= 2 and bubbles.filled[at].all():
            x, y = mm(g.origin)
            notes.append(
                f"{len(at)} solid bubble-sized marks at ({x:.1f}, {y:.1f}) mm left out: "
                "every one is dark, so they are print (a code, an example), not a field"
            )
            solid.append(g)
            continue
        out.append(g)
    return out, solid


def _line_of(g: Grid) -> tuple[np.ndarray, np.ndarray] | None:
    """A one-line grid of 2-6 bubbles: its centres (n, 2) px and its step; else None."""
    if min(g.rows, g.cols) != 1 or not 2 <= g.rows * g.cols <= 6:
        return None
    return g.centres().reshape(-1, 2), (g.col_step if g.cols > 1 else g.row_step)


def _drop_example_rows(grids, solid, page, bubbles: FoundBubbles, px_per_mm, mm, notes):
    """The grids less printed examples ("mark like this"), each said in a note.

    A line of 2-6 bubbles is an example when a solid dot of a bubble's size
    continues it one step past an end (the printed "filled" sample), or when
    a line of as many bubbles, all marked (already left out as print: the
    "wrong ways" sample), lies just above or below it, over the same span.
    """
    d_px = float(np.max(np.median(bubbles.size_mm, axis=0))) * px_per_mm
    ink = _prepare(page, px_per_mm, 25.0)
    marked = [line for g in solid if (line := _line_of(g)) is not None]
    out = []
    for g in grids:
        line = _line_of(g)
        if line is None or ink is None:
            out.append(g)
            continue
        pts, step = line
        pitch = float(np.hypot(*step))
        dot = any(_solid_dot(ink, p, d_px) for p in (pts[0] - step, pts[-1] + step))
        beside = any(
            abs(len(m) - len(pts)) <= 1
            and abs(np.mean(m[:, 1]) - np.mean(pts[:, 1])) < 4 * pitch
            and abs(np.mean(m[:, 0]) - np.mean(pts[:, 0])) < 0.5 * pitch
            for m, _ in marked
        )
        if not (dot or beside):
            out.append(g)
            continue
        x, y = mm(g.origin)
        why = "a solid dot continues it" if dot else "a line of marked samples lies beside it"
        notes.append(
            f"a line of {len(pts)} bubbles at ({x:.1f}, {y:.1f}) mm left out: a printed "
            f"example ('mark like this': {why}); add it by hand if it is a field"
        )
    return out


def _solid_dot(ink: np.ndarray, xy, d_px: float) -> bool:
    """Whether a solid blob about ``d_px`` across, no bigger, is centred at ``xy``."""
    m, n = ink.shape
    r = int(np.ceil(0.95 * d_px))
    x, y = int(round(xy[0])), int(round(xy[1]))
    if x - r < 0 or y - r < 0 or x + r >= n or y + r >= m:
        return False
    win = ink[y - r : y + r + 1, x - r : x + r + 1] > 0
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    dist = np.hypot(xx, yy)
    core = win[dist <= 0.3 * d_px].mean()
    ring = win[(dist >= 0.8 * d_px) & (dist <= 0.95 * d_px)].mean()
    return bool(core > 0.9 and ring < 0.3)


def _merge_columns(grids: list[Grid], px_per_mm: float) -> list[list[Grid]]:
    """Grids that continue one another (equal steps, side by side or one under another).

    A long block printed in columns is found as one grid per column; the
    columns go back together when all but the last hold the same number of
    rows and they are evenly spaced.
    """
    tol = 0.3 * px_per_mm
    # Top to bottom (rows of grids level within a millimetre), then left to right.
    remaining = sorted(
        (g for g in grids if g.rows * g.cols > 1),
        key=lambda g: (round(g.origin[1] / px_per_mm), g.origin[0]),
    )
    groups: list[list[Grid]] = []
    while remaining:
        first = remaining.pop(0)
        chain = [first]
        for g in list(remaining):  # grids hold arrays: remove by identity, never by ==
            last = chain[-1]
            same = (
                g.cols == first.cols
                and g.rows <= first.rows
                and last.rows == first.rows
                # the grids' spans agree within tol (steps within tol over the steps)
                and _close(g.col_step, first.col_step, tol / max(first.cols - 1, 1))
                and _close(g.row_step, first.row_step, tol / max(first.rows - 1, 1))
            )
            if not same:
                if (g.rows, g.cols) == (first.rows, first.cols) and _close(
                    g.origin[1:], last.origin[1:], tol
                ):
                    break  # a like grid level with the chain and not in it: never jump it
                continue
            step = g.origin - last.origin
            if len(chain) > 1 and not _close(step, chain[1].origin - chain[0].origin, tol):
                continue
            level = abs(step[1]) < tol or abs(step[0]) < tol
            unit = step / max(np.linalg.norm(step), 1e-9)
            extent = abs(np.dot((first.cols - 1) * first.col_step, unit)) + abs(
                np.dot((first.rows - 1) * first.row_step, unit)
            )
            clear = np.linalg.norm(step) > extent  # the next grid starts past this one
            if level and clear and (first.cols <= 6 or first.rows <= 6):
                chain.append(g)
                remaining = [r for r in remaining if r is not g]
        groups.append(chain)
    return groups


def _guess_fields(groups: list[list[Grid]], mm, px_per_mm: float, notes) -> list[FieldGuess]:
    """A role per grid (or chain of column grids), by shape: group, digits or answers."""
    out: list[FieldGuess] = []
    n_blocks = n_digits = 0
    has_group = False
    for chain in groups:
        g = chain[0]
        rows, cols = g.rows, g.cols
        origin = mm(g.origin)
        top_left = (origin[0], origin[1])
        col_step = [round(float(v), 3) for v in g.col_step / px_per_mm]
        row_step = [round(float(v), 3) for v in g.row_step / px_per_mm]
        if len(chain) == 1 and min(rows, cols) == 1 and 2 <= max(rows, cols) <= 6 and not has_group:
            has_group = True
            n = max(rows, cols)
            step = col_step if cols > 1 else row_step
            data = {
                "label": {"tr": "Kitapçık", "en": "Booklet"},
                "origin": origin,
                "options": list(ascii_uppercase[:n]),
                "option_step": step,
            }
            out.append(FieldGuess("group", "group", data, rows, cols, top_left))
            continue
        if len(chain) == 1 and (rows == 10 and cols >= 3 or cols == 10 and rows >= 3):
            n_digits += 1
            across = rows == 10
            digits = cols if across else rows
            name = "national_id" if digits == 11 else "student_number"
            section = "identity"
            if any(f.name == name for f in out):
                name, section = f"digits-{n_digits}", "score_fields"
            data = {
                "label": {"tr": name, "en": name},
                "origin": origin,
                "digits": digits,
                "digit_step": col_step if across else row_step,
                "option_step": row_step if across else col_step,
            }
            out.append(FieldGuess(section, name, data, rows, cols, top_left))
            continue
        if min(rows, cols) == 1 and len(chain) > 1 and _lines_alike(chain):
            # Lines of bubbles evenly spaced, each one question's options (rows
            # farther apart than the options, so never linked into one grid).
            n_blocks += 1
            name = f"block-{n_blocks}"
            across = rows == 1
            step = (chain[1].origin - chain[0].origin) / px_per_mm
            data = {
                "label": {"tr": name, "en": name},
                "origin": origin,
                "questions": len(chain),
                "options": list(ascii_uppercase[: max(rows, cols)]),
                "option_step": col_step if across else row_step,
                "question_step": [round(float(v), 3) for v in step],
            }
            out.append(FieldGuess("answer_blocks", name, data, rows, cols, top_left))
            continue
        if min(rows, cols) == 1:  # a line: its bubbles are one question's options, or nothing
            n = max(rows, cols)
            if len(chain) > 1 or n > 10:
                x, y = top_left
                notes.append(
                    f"a line of {n} bubbles at ({x:.1f}, {y:.1f}) mm left out: one option per "
                    "question is no answer block (add it by hand if it is a field)"
                )
                continue
            n_blocks += 1
            name = f"block-{n_blocks}"
            step = col_step if cols > 1 else row_step
            data = {
                "label": {"tr": name, "en": name},
                "origin": origin,
                "questions": 1,
                "options": list(ascii_uppercase[:n]),
                "option_step": step,
                "question_step": [round(-step[1], 3), round(step[0], 3)],  # unused: one question
            }
            out.append(FieldGuess("answer_blocks", name, data, rows, cols, top_left))
            continue
        n_blocks += 1
        name = f"block-{n_blocks}"
        options_across = cols <= rows
        n_options = cols if options_across else rows
        per = rows if options_across else cols
        questions = sum((c.rows if options_across else c.cols) for c in chain)
        label = {"tr": name, "en": name}
        data = {
            "label": label,
            "origin": origin,
            "questions": questions,
            "options": list(ascii_uppercase[:n_options]),
            "option_step": col_step if options_across else row_step,
            "question_step": row_step if options_across else col_step,
        }
        if len(chain) > 1:
            step = (chain[1].origin - chain[0].origin) / px_per_mm
            data["per_column"] = per
            data["column_step"] = [round(float(v), 3) for v in step]
        out.append(FieldGuess("answer_blocks", name, data, rows, cols, top_left))
        if n_options > 6:
            notes.append(f"{name} has {n_options} options per question: check its direction")
    return out


def _lone_line_as_questions(fields: list[FieldGuess], notes) -> list[FieldGuess]:
    """With no answer block found, the line taken for the group is one bubble per question.

    A questionnaire prints one bubble beside each statement (marked: yes); a
    form needs an answer block, and a group alone scores nothing.
    """
    if any(f.section == "answer_blocks" for f in fields):
        return fields
    out = []
    for f in fields:
        if f.section != "group":
            out.append(f)
            continue
        d = f.data
        step = d["option_step"]
        data = {
            "label": {"tr": "block-1", "en": "block-1"},
            "origin": d["origin"],
            "questions": len(d["options"]),
            "options": ["A"],
            "option_step": [round(-step[1], 3), round(step[0], 3)],  # unused: one option
            "question_step": step,
        }
        out.append(FieldGuess("answer_blocks", "block-1", data, f.rows, f.cols, f.top_left_mm))
        notes.append(
            f"the only line of bubbles is taken as {len(d['options'])} questions of one "
            "bubble each (a questionnaire); make it `group:` if it is the booklet group"
        )
    return out


def _lines_alike(chain: list[Grid]) -> bool:
    """Whether a chain of grids is lines of 2-10 bubbles, all alike, one after another.

    Each line must lie across the chain's step (rows stepping down, columns
    stepping across), so that it is one question's options.
    """
    first = chain[0]
    n = max(first.rows, first.cols)
    if not 2 <= n <= 10 or any((g.rows, g.cols) != (first.rows, first.cols) for g in chain):
        return False
    line = first.col_step if first.rows == 1 else first.row_step
    step = chain[1].origin - chain[0].origin
    cos = abs(np.dot(line, step)) / max(np.linalg.norm(line) * np.linalg.norm(step), 1e-9)
    return bool(cos < 0.2)


def check_proposal(proposal: FormProposal) -> list[tuple[str, str]]:
    """Problems the proposed definition has as a form (missing group, overlaps, …).

    One ``(key path, message)`` pair per problem, as ``omr forms check`` and
    :func:`omr.forms.load_form` report them (``group``, ``answer_blocks.block-1.options``).
    """
    try:
        form = validate(proposal.data, Form, "proposal", InvalidFormError)
    except InvalidFormError as exc:
        return list(proposal.problems) + list(exc.problems)
    return list(proposal.problems) + check_geometry(form)


YELLOW, BLUE, RED = (230, 160, 0), (0, 90, 230), (220, 0, 0)


def draw_found(proposal: FormProposal) -> np.ndarray:
    """The straightened scan (RGB) with what the finder found, whether or not it makes a form.

    Every found bubble is ringed (yellow; filled ones crossed), every grid
    framed with its field's name (blue), every registration mark or dash
    boxed (red).
    """
    page = proposal.page
    out = cv2.cvtColor(page, cv2.COLOR_GRAY2RGB)
    px = proposal.px_per_mm
    thick = max(1, round(0.15 * px))
    b = proposal.bubbles
    if b is not None and len(b):
        for (x, y), (w, h), filled in zip(b.xy, b.size_mm * px / 2, b.filled, strict=True):
            c, axes = (round(x), round(y)), (max(1, round(w)), max(1, round(h)))
            cv2.ellipse(out, c, axes, 0, 0, 360, YELLOW, thick, cv2.LINE_AA)
            if filled:
                cv2.line(out, (c[0] - axes[0], c[1]), (c[0] + axes[0], c[1]), YELLOW, thick)
    names = {f.top_left_mm: f"{f.section}.{f.name}" for f in proposal.fields}
    size = np.median(b.size_mm, axis=0) * px if b is not None and len(b) else np.array([px, px])
    for g in proposal.grids:
        if g.rows * g.cols < 2:
            continue
        corners = g.centres()[[0, 0, -1, -1], [0, -1, -1, 0]]
        centre = corners.mean(axis=0)
        grow = corners - centre
        grow = grow / np.maximum(np.linalg.norm(grow, axis=1, keepdims=True), 1e-9)
        poly = (corners + grow * 0.75 * size.max()).round().astype(np.int32)
        cv2.polylines(out, [poly], True, BLUE, thick, cv2.LINE_AA)
        key = tuple(round(float(v), 2) for v in (g.origin + 0.5) / px)
        label = names.get(key, f"{g.rows}x{g.cols}")
        org = (int(poly[:, 0].min()), int(max(poly[:, 1].min() - 3, 10)))
        cv2.putText(out, label, org, cv2.FONT_HERSHEY_SIMPLEX, 0.1 * px, BLUE, 1, cv2.LINE_AA)
    reg = proposal.registration
    if reg is not None and len(reg.xy):
        half = np.asarray(reg.size_mm) * px / 2 + 2
        for x, y in reg.xy:
            p0 = (round(x - half[0]), round(y - half[1]))
            p1 = (round(x + half[0]), round(y + half[1]))
            cv2.rectangle(out, p0, p1, RED, thick, cv2.LINE_AA)
    return out
