"""A mixed stack: good simulated sheets, each kind of bad input beside them, and what a run
must make of every one.

:func:`mixed_session` simulates a session whose sheets are one-page PDFs, keeps a few as
they are, turns others into odd but readable pages (rotated, CMYK, 16-bit, torn, fed
together, in a TIFF around a damaged page) and adds files no reader can use. It returns
:class:`Expect`: the truth of every page that holds a candidate's sheet (to compare the
run with) and, for every other page or file, the reason ``review.csv`` must give.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from omr.forms import find_form
from omr.pages import PageRef, load_page
from omr.simulate import simulate_session

from . import files

FORM = "quiz-a5"


@dataclass
class Expect:
    """What the run must give: ``truth`` per sheet id that holds a candidate's sheet
    (``exact`` of them read exactly; the others read right or held for a person),
    ``refused`` sheet id -> (status, words of the reason), ``held`` sheet ids that must be
    in review whatever the reason (no sheet of this exam, or not the whole of one)."""

    truth: dict[str, dict] = field(default_factory=dict)
    exact: set[str] = field(default_factory=set)
    refused: dict[str, tuple[str, str]] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)


def _pixels(path: Path) -> tuple[np.ndarray, float]:
    page = load_page(PageRef(path, 0, path.name))
    return page.pixels, page.dpi or 150.0


def _save(pixels: np.ndarray, path: Path, dpi: float, **kw) -> None:
    Image.fromarray(pixels).save(path, dpi=(dpi, dpi), **kw)


def _grey(pixels: np.ndarray) -> np.ndarray:
    return pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)


def _torn(pixels: np.ndarray) -> np.ndarray:
    """The top-left corner torn off (the scanner's white lid shows) over its mark."""
    h, w = pixels.shape[:2]
    out = pixels.copy()
    rng = np.random.default_rng(1)
    edge = [(0, 0), (int(w * 0.16), 0)]
    steps = 12
    for k in range(1, steps):
        t = k / steps
        jag = rng.uniform(-0.01, 0.01) * w
        edge.append((int(w * 0.16 * (1 - t) + jag), int(h * 0.11 * t + jag)))
    edge.append((0, int(h * 0.11)))
    cv2.fillPoly(out, [np.array(edge, np.int32)], (255,) * (1 if out.ndim == 2 else 3))
    return out


def _double_feed(top: np.ndarray, under: np.ndarray, dpi: float) -> np.ndarray:
    """Two sheets pulled together: ``top`` offset by 20 × 35 mm over ``under``."""
    dx, dy = round(20 / 25.4 * dpi), round(35 / 25.4 * dpi)
    top, under = _grey(top), _grey(under)
    h, w = top.shape
    out = cv2.resize(under, (w, h), interpolation=cv2.INTER_AREA)  # scanned at another dpi
    out[dy:, dx:] = top[: h - dy, : w - dx]
    return out


def _bleed_through(pixels: np.ndarray) -> np.ndarray:
    """The back of a sheet: its front seen through the paper, mirrored and faint."""
    grey = _grey(pixels)[:, ::-1].astype(np.float32)
    return (255 - 0.12 * (255 - grey)).astype(np.uint8)


def mixed_session(root: Path, work: Path) -> Expect:
    """Write a session at ``root`` (``work`` holds what lives outside it) and return what a
    run of it must give."""
    simulate_session(find_form(FORM), 14, 7, root, profile="clean", jobs=1, per_file=1)
    truth = json.loads((root / "truth.json").read_text(encoding="utf-8"))["sheets"]
    scans = root / "scans"
    stack = {k: scans / f"stack-{k:02d}.pdf" for k in range(1, 15)}
    sheet = {k: truth[f"stack-{k:02d}.pdf:1"] for k in range(1, 15)}
    expect = Expect()

    def keep(sheet_id: str, k: int, *, exact: bool) -> None:
        expect.truth[sheet_id] = sheet[k]
        if exact:
            expect.exact.add(sheet_id)

    for k in range(1, 5):
        keep(f"stack-{k:02d}.pdf:1", k, exact=True)

    # A hall scanned into a folder elsewhere, linked into scans/.
    hall = work / "hall-b"
    hall.mkdir(parents=True)
    stack[5].rename(hall / "stack-05.pdf")
    (scans / "hall-b").symlink_to(hall)
    keep("hall-b/stack-05.pdf:1", 5, exact=True)
    (hall / "back-to-scans").symlink_to(scans)  # a folder link that loops
    expect.refused["hall-b/back-to-scans:1"] = (
        "unreadable-file",
        "a link to a folder already read",
    )

    # A file nobody may read (root reads it anyway).
    locked = scans / "locked.pdf"
    stack[6].rename(locked)
    locked.chmod(0)
    if os.geteuid() == 0:
        keep("locked.pdf:1", 6, exact=True)
    else:
        expect.refused["locked.pdf:1"] = ("unreadable-file", "permission denied")

    # Odd but readable pages of one candidate each.
    pixels, dpi = _pixels(stack[7])
    _save(np.ascontiguousarray(np.rot90(pixels)), scans / "rotated-90.png", dpi)
    keep("rotated-90.png:1", 7, exact=False)
    pixels, dpi = _pixels(stack[8])
    rgb = pixels if pixels.ndim == 3 else cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB)
    Image.fromarray(rgb).convert("CMYK").save(scans / "cmyk.jpg", quality=92, dpi=(dpi, dpi))
    keep("cmyk.jpg:1", 8, exact=False)
    pixels, dpi = _pixels(stack[9])
    deep = _grey(pixels).astype(np.uint16) * 257
    _save(deep, scans / "grey-16bit.png", dpi)
    keep("grey-16bit.png:1", 9, exact=False)
    pixels, dpi = _pixels(stack[10])
    _save(_torn(pixels), scans / "torn-corner.png", dpi)
    keep("torn-corner.png:1", 10, exact=False)

    # A multi-page TIFF with a damaged page directory between two good pages.
    (p11, dpi), (p12, _) = _pixels(stack[11]), _pixels(stack[12])
    damaged = files.TiffPage(300, 420, files.sheet_grey().tobytes(), drop={256, 257})
    pages = [
        files.tiff_page(_grey(p11), round(dpi)),
        damaged,
        files.tiff_page(_grey(p12), round(dpi)),
    ]
    (scans / "hall-c.tif").write_bytes(files.tiff(pages))
    keep("hall-c.tif:1", 11, exact=False)
    keep("hall-c.tif:3", 12, exact=False)
    expect.refused["hall-c.tif:2"] = ("unreadable-page", "Missing dimensions")

    # Two sheets fed together: what shows is the top one, offset, over the other.
    (p13, dpi), (p14, _) = _pixels(stack[13]), _pixels(stack[14])
    _save(_double_feed(p13, p14, dpi), scans / "double-feed.png", dpi)
    expect.held.add("double-feed.png:1")

    # The back of sheet 1, its front showing through; a sheet of another form.
    pixels, dpi = _pixels(stack[1])
    _save(_bleed_through(pixels), scans / "back-side.png", dpi)
    expect.held.add("back-side.png:1")
    other = work / "other"
    simulate_session(find_form("central-a4"), 1, 3, other, profile="clean", jobs=1)
    shutil.copy(other / "scans" / "stack.pdf", scans / "other-form.pdf")
    expect.held.add("other-form.pdf:1")
    # A sheet of this form from another exam's session: its candidate is not on the roster.
    simulate_session(find_form(FORM), 1, 8, work / "one", profile="clean", jobs=1)
    shutil.copy(work / "one" / "scans" / "stack.pdf", scans / "another-exam.pdf")
    expect.held.add("another-exam.pdf:1")

    # Files no reader can use.
    data = stack[14].read_bytes()
    (scans / "truncated.pdf").write_bytes(data[: len(data) // 2])
    for k in range(7, 15):
        stack[k].unlink()  # the odd pages above are these candidates' only sheets
    (scans / "zero.pdf").write_bytes(b"")
    (scans / "text.png").write_text("not a picture, a note\n", encoding="utf-8")
    (scans / "encrypted.pdf").write_bytes(files.encrypted_pdf())
    (scans / "no-pages.pdf").write_bytes(files.pdf([]))
    (scans / "bomb.png").write_bytes(files.png_bomb(30_000, 30_000))
    (scans / "bomb.tif").write_bytes(files.tiff([files.tiff_bomb_page(30_000, 30_000)]))
    (scans / "bomb-scan.pdf").write_bytes(files.pdf_image_bomb(30_000, 30_000))
    (scans / "huge-page.pdf").write_bytes(files.pdf([files.PdfPage((14_400, 14_400))]))
    (scans / "user-unit.pdf").write_bytes(
        files.pdf([files.PdfPage((420, 595), extra="/UserUnit 75")])
    )
    frames = [Image.fromarray(files.sheet_grey(v)) for v in (60, 160, 240)]
    frames[0].save(scans / "anim.gif", save_all=True, append_images=frames[1:])
    Image.new("L", (1, 1), 255).save(scans / "dot.png")
    buf = io.BytesIO()
    Image.fromarray(files.sheet_grey()).save(buf, format="PNG")
    (scans / "broken-chunk.png").write_bytes(files.png_with_broken_chunk(Image.open(buf)))
    (scans / "loop.pdf").symlink_to(scans / "loop.pdf")
    (scans / "gone.tif").symlink_to(work / "nowhere.tif")
    os.mkfifo(scans / "feed.pdf")
    (scans / "notes.docx").write_bytes(b"PK\x03\x04 not a scan")
    expect.refused.update(
        {
            "truncated.pdf:1": ("unreadable-file", "cannot open truncated.pdf"),
            "zero.pdf:1": ("unreadable-file", "cannot open zero.pdf"),
            "text.png:1": ("unreadable-file", "cannot open text.png"),
            "encrypted.pdf:1": ("unreadable-file", "encrypted (password-protected) PDF"),
            "no-pages.pdf:1": ("unreadable-file", "cannot open no-pages.pdf"),
            "bomb.png:1": ("unreadable-page", "oversized"),
            "bomb.tif:1": ("unreadable-page", "oversized"),
            "bomb-scan.pdf:1": ("unreadable-page", "oversized"),
            "huge-page.pdf:1": ("unreadable-page", "oversized"),
            "user-unit.pdf:1": ("unreadable-page", "oversized"),
            "anim.gif:1": ("unreadable-file", "an animated image (3 frames)"),
            "dot.png:1": ("unreadable-page", "too small"),
            "broken-chunk.png:1": ("unreadable-", "broken-chunk.png"),
            "loop.pdf:1": ("unreadable-file", "a link that is broken or loops"),
            "gone.tif:1": ("unreadable-file", "a link that is broken or loops"),
            "feed.pdf:1": ("unreadable-file", "a pipe (FIFO)"),
            "notes.docx:1": ("unreadable-file", "not a PDF, TIFF or image file"),
        }
    )
    return expect
