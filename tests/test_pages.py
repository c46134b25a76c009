"""Loading stacks: PDFs of scans, vector PDFs, multi-page TIFFs, image folders, bad files."""

from __future__ import annotations

import io
import os
import time

import numpy as np
import pytest
from PIL import Image

from omr.pages import PageLoadError, find_pages, load_page
from omr.render import render_form_pdf


def _page(value: int, size=(170, 240)) -> Image.Image:
    arr = np.full(size[::-1], value, np.uint8)
    arr[10:20, 10:20] = 0
    return Image.fromarray(arr)


def test_pdf_of_scans_gives_each_embedded_image_at_its_dpi(tmp_path):
    pages = [_page(200), _page(220, (340, 480)).convert("RGB")]
    path = tmp_path / "stack.pdf"
    pages[0].save(path, save_all=True, append_images=pages[1:], resolution=20.0)
    refs, problems = find_pages([tmp_path])
    assert problems == []
    assert [r.sheet_id for r in refs] == ["stack.pdf:1", "stack.pdf:2"]
    first, second = load_page(refs[0]), load_page(refs[1])
    assert first.pixels.shape == (240, 170) and first.dpi == pytest.approx(20.0, rel=0.01)
    assert second.pixels.shape[:2] == (480, 340) and second.dpi == pytest.approx(20.0, rel=0.01)
    assert int(np.median(first.gray)) == pytest.approx(200, abs=3)


def test_a_colour_scan_in_a_pdf_keeps_its_channels_in_rgb_order(tmp_path):
    # PDFium hands colour over as BGR: red ink must stay red (article 7.7 reads hue).
    red = Image.new("RGB", (160, 120), (200, 60, 30))
    red.save(tmp_path / "red.pdf", resolution=50.0)
    (ref,), _ = find_pages([tmp_path / "red.pdf"])
    pixels = load_page(ref).pixels
    assert pixels.shape == (120, 160, 3)
    assert np.abs(np.median(pixels.reshape(-1, 3), axis=0) - (200, 60, 30)).max() <= 4


def test_vector_pdf_page_is_rendered(tmp_path, quiz):
    (tmp_path / "blank.pdf").write_bytes(render_form_pdf(quiz))
    refs, _ = find_pages([tmp_path / "blank.pdf"])
    page = load_page(refs[0])
    assert page.dpi == 200
    assert page.gray.shape == pytest.approx(
        (round(210 / 25.4 * 200), round(148 / 25.4 * 200)), abs=2
    )


def test_multipage_tiff_pages_load_one_by_one(tmp_path):
    frames = [_page(v) for v in (100, 150, 250)]
    frames[0].save(tmp_path / "stack.tif", save_all=True, append_images=frames[1:], dpi=(150, 150))
    refs, _ = find_pages([tmp_path])
    assert [r.sheet_id for r in refs] == ["stack.tif:1", "stack.tif:2", "stack.tif:3"]
    assert int(np.median(load_page(refs[2]).gray)) == 250
    assert load_page(refs[1]).dpi == 150


def test_folder_of_images_in_name_order_and_exif_rotation(tmp_path):
    _page(90).save(tmp_path / "b.png")
    img = _page(180)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    (tmp_path / "a.jpg").write_bytes(buf.getvalue())
    refs, _ = find_pages([tmp_path])
    assert [r.sheet_id for r in refs] == ["a.jpg:1", "b.png:1"]
    assert load_page(refs[0]).pixels.shape == (170, 240)  # turned upright from 240×170


def test_corrupt_file_is_a_problem_not_a_crash(tmp_path):
    _page(90).save(tmp_path / "good.png")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    (tmp_path / "notes.txt").write_text("not a scan")
    (tmp_path / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # hidden: what file managers leave
    refs, problems = find_pages([tmp_path])
    assert [r.sheet_id for r in refs] == ["good.png:1"]
    assert [p.name for p in problems] == ["broken.pdf", "notes.txt"]
    assert "cannot open" in problems[0].message
    assert "not a PDF, TIFF or image file (.txt); left out" in problems[1].message


def test_truncated_image_fails_on_load_with_a_reason(tmp_path):
    buf = io.BytesIO()
    _page(90, (400, 400)).save(buf, format="PNG")
    (tmp_path / "cut.png").write_bytes(buf.getvalue()[:200])
    refs, problems = find_pages([tmp_path])
    if problems:  # some decoders notice at open time already
        assert problems[0].name == "cut.png"
        return
    with pytest.raises(PageLoadError, match="cut.png"):
        load_page(refs[0])


def test_a_long_pdf_is_reopened_every_few_pages_and_reads_the_same(tmp_path, monkeypatch):
    # PDFium keeps decoded scans until the document closes: a stack kept open grew
    # a worker by a megabyte a page. Reopening must not change what is read.
    from omr import pages as pages_module

    monkeypatch.setattr(pages_module, "PAGES_PER_OPENING", 2)
    images = [_page(100 + 20 * k) for k in range(5)]
    path = tmp_path / "stack.pdf"
    images[0].save(path, save_all=True, append_images=images[1:], resolution=20.0)
    refs, _ = find_pages([path])
    for doc, _uses in pages_module._OPEN_PDF.values():
        doc.close()
    pages_module._OPEN_PDF.clear()  # start from a closed document
    opened = []
    real = pages_module.pdfium.PdfDocument
    monkeypatch.setattr(pages_module.pdfium, "PdfDocument", lambda p: opened.append(p) or real(p))
    for ref in refs:
        median = int(np.median(load_page(ref).gray))
        assert median == pytest.approx(100 + 20 * ref.index, abs=3)
    assert len(opened) == 3  # five pages, two per opening


def test_a_stack_scanned_again_at_the_same_path_is_read_anew(tmp_path):
    # A long-lived worker (a Dask cluster's) keeps a document open between pages:
    # a PDF or TIFF replaced at the same path must not be read from the old file.
    for suffix in (".pdf", ".tif"):
        path = tmp_path / f"stack{suffix}"
        first = [_page(100), _page(120)]
        first[0].save(path, save_all=True, append_images=first[1:], resolution=20.0)
        refs, _ = find_pages([path])
        assert int(np.median(load_page(refs[0]).gray)) == pytest.approx(100, abs=3)
        again = [_page(200), _page(180), _page(160)]
        again[0].save(path, save_all=True, append_images=again[1:], resolution=20.0)
        os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))  # a later time, surely
        refs, _ = find_pages([path])
        got = [int(np.median(load_page(r).gray)) for r in refs]
        assert got == pytest.approx([200, 180, 160], abs=3), suffix


def test_a_page_stored_one_bit_is_known_as_one_and_reads_as_counted(tmp_path):
    # A group-4 page says it is 1-bit; read_page then skips counting its pixels,
    # which would have said the same (only 0 and 255); a grey page does not.
    from omr.detect.read import is_bilevel
    from omr.pages import PageRef

    rng = np.random.default_rng(1)
    page = ((rng.random((420, 300)) > 0.6) * 255).astype(np.uint8)
    Image.fromarray(page).convert("1").save(tmp_path / "g4.tif", compression="group4")
    Image.fromarray(page // 2 + 60).save(tmp_path / "grey.png")
    one = load_page(PageRef(tmp_path / "g4.tif", 0, "g4.tif"))
    grey = load_page(PageRef(tmp_path / "grey.png", 0, "grey.png"))
    assert one.one_bit and set(np.unique(one.gray)) <= {0, 255} and is_bilevel(one.gray)
    assert not grey.one_bit and not is_bilevel(grey.gray)
