"""A whole simulated exam session: roster, exam, marked sheets, the scanned stack and the truth.

Each sheet draws from its own generator, ``np.random.default_rng([seed, index])``,
so a session is the same whatever the number of worker processes. The roster
and the exam draw from the session stream ``[seed, SESSION_STREAM]``.
"""

from __future__ import annotations

import concurrent.futures
import csv
import json
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import yaml

from omr.forms import Form
from omr.render import render_form_pdf
from omr.simulate.candidates import (
    ROSTER_COLUMNS,
    Candidate,
    make_exam,
    make_roster,
    plan_sheet,
    sheet_status,
)
from omr.simulate.marks import draw_digits, draw_marks, draw_signature
from omr.simulate.profile import PROFILES, Profile
from omr.simulate.scanner import MM_PER_INCH, draw_scan_params, encode_jpeg, scan_page, scan_size
from omr.simulate.writer import open_stack

RENDER_DPI = 300
SESSION_STREAM = 2**32 - 1  # no sheet index reaches it
TRUTH_FORMAT = 1


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


def _to_px(xy_mm, dpi: float = RENDER_DPI) -> np.ndarray:
    """Millimetres to pixel coordinates (pixel centres at integers)."""
    return np.asarray(xy_mm, dtype=float) * dpi / MM_PER_INCH - 0.5


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

    def _write_ins(self) -> Iterator[tuple[str, np.ndarray]]:
        """Write-in boxes above each digit grid, (x, y, w, h) in pixels (as render.py draws)."""
        r = self.form.bubble_diameter / 2
        k = RENDER_DPI / MM_PER_INCH
        for name, field in self.form.identity:
            if field is None:
                continue
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

    def __call__(self, index: int) -> tuple[bytes, dict]:
        """JPEG bytes of the scan of sheet ``index`` and its truth record."""
        form, p = self.form, self.profile
        candidate = self.roster[index]
        plan_rng, ink_rng, scan_rng = np.random.default_rng([self.seed, index]).spawn(3)
        plan = plan_sheet(form, self.exam, candidate, plan_rng, p)

        layout = form.layout
        bubbles = np.array([m.bubble for m in plan.marks], dtype=int)
        k = RENDER_DPI / MM_PER_INCH
        page, covered = draw_marks(
            self.blank,
            _to_px(layout.centers_xy[bubbles]),
            layout.radius[bubbles] * k,
            darkness=np.array([m.darkness for m in plan.marks]),
            coverage=np.array([m.coverage for m in plan.marks]),
            shape=plan.shape,
            grain=plan.grain,
            rng=ink_rng,
            softness=p.softness_px,
            max_extent=p.mark_max_extent,
        )
        height = (p.handwriting_height_mm[0] * k, p.handwriting_height_mm[1] * k)
        for name, boxes in self._write_ins():
            page = draw_digits(
                page,
                plan.identity[name],
                boxes,
                darkness=plan.darkness,
                rng=ink_rng,
                height_px=height,
                thickness=p.handwriting_thickness_px,
                grain=plan.grain,
            )
        if form.signature is not None:
            s = form.signature
            rect = (*_to_px(s.origin), s.size[0] * k, s.size[1] * k)
            page = draw_signature(
                page, rect, darkness=plan.darkness, rng=ink_rng, thickness=p.signature_thickness_px
            )

        params = draw_scan_params(p, scan_rng)
        page_mm = (form.page.width, form.page.height)
        scan = scan_page(page, params, page_mm=page_mm, source_dpi=RENDER_DPI, rng=scan_rng)
        jpeg = encode_jpeg(scan, quality=params.jpeg_quality, dpi=params.dpi)

        truth = {
            "candidate": candidate.student_number,
            "intended_group": candidate.group,
            "group_marks": plan.group_marks,
            "status": sheet_status(plan.group_marks),
            "identity": dict(plan.identity),
            "boxes": {name: False for name, box in form.boxes if box is not None},
            "answers": {block: list(marked) for block, marked in plan.answers.items()},
            "marks": [
                {
                    "field": m.field,
                    "item": m.item,
                    "option": m.option,
                    "medium": "pencil",
                    "darkness": m.darkness,
                    "coverage": round(float(c), 3),
                }
                for m, c in zip(plan.marks, covered, strict=True)
            ],
            "scan": params.to_truth(),
        }
        return jpeg, truth


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
    profile: str = "standard",
    image_format: str = "pdf",
    jobs: int = 1,
    per_file: int | None = None,
) -> dict:
    """Simulate an exam session with known truth and write it to ``out``.

    Writes ``out/scans/stack.pdf`` (or ``stack.tif`` with ``image_format="tiff"``),
    ``out/exam.yaml``, ``out/roster.csv`` and ``out/truth.json``. The same
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
    profile : str
        Name of a profile in :data:`omr.simulate.PROFILES`.
    image_format : str
        ``"pdf"`` or ``"tiff"``.
    per_file : int, optional
        Split the stack into files of at most this many sheets
        (``stack-01.pdf``, ``stack-02.pdf``, …), as centres scan hall by hall.
    jobs : int
        Worker processes drawing sheets (spawned: a script calling this with
        ``jobs > 1`` needs an ``if __name__ == "__main__":`` guard).

    Returns
    -------
    dict
        The truth, as written to ``truth.json``.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose from {', '.join(PROFILES)}")
    if sheets < 1:
        raise ValueError(f"a session needs at least one sheet, got {sheets}")
    prof = PROFILES[profile]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    session_rng = np.random.default_rng([seed, SESSION_STREAM])
    roster = make_roster(form, sheets, session_rng, prof)
    exam = make_exam(form, session_rng, prof, name=f"Simulated exam, {form.name}, seed {seed}")
    maker = SheetMaker(form, prof, seed, exam, roster, render_blank(form))

    page_mm = (form.page.width, form.page.height)
    records: dict[str, dict] = {}
    per = per_file or sheets
    n_files = -(-sheets // per)
    made = _sheets(maker, sheets, jobs)
    for part in range(n_files):
        name = "stack" if n_files == 1 else f"stack-{part + 1:02d}"
        count = min(per, sheets - part * per)
        with open_stack(out / "scans", image_format, page_mm, name) as stack:
            for page_number in range(1, count + 1):
                jpeg, truth = next(made)
                scan = truth["scan"]
                stack.add_page(
                    jpeg,
                    dpi=scan["dpi"],
                    size_px=scan_size(page_mm, scan["dpi"]),
                    colour=scan["colour"] == "colour",
                )
                records[f"{stack.path.name}:{page_number}"] = truth
    made.close()  # shuts the worker pool down

    truth = {
        "format": TRUTH_FORMAT,
        "form": form.name,
        "seed": seed,
        "profile": profile,
        "sheets": records,
    }
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
