"""Hostile files through the page loader: bombs and absurd pages refused before decoding,
broken and odd files refused with a reason, odd but good images read right."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hostile import files
from PIL import Image

from omr.pages import MAX_PAGE_PIXELS, PageLoadError, find_pages, load_page


def _grey(value: int = 200, size=(300, 420)) -> np.ndarray:
    page = np.full(size[::-1], value, np.uint8)
    page[20:60, 20:60] = 0
    return page


def _only_page(path):
    refs, problems = find_pages([path])
    assert problems == [], problems
    (ref,) = refs
    return ref


@pytest.mark.parametrize(
    ("name", "make", "what"),
    [
        ("bomb.png", lambda: files.png_bomb(30_000, 30_000), "page 1 of bomb.png"),
        ("wide.png", lambda: files.png_bomb(15_000, 15_000), "page 1 of wide.png"),
        ("bomb.tif", lambda: files.tiff([files.tiff_bomb_page(30_000, 30_000)]), "page 1"),
        ("scan.pdf", lambda: files.pdf_image_bomb(30_000, 30_000), "the scan on page 1"),
        ("page.pdf", lambda: files.pdf([files.PdfPage((14_400, 14_400))]), "(5,080 × 5,080 mm)"),
    ],
)
def test_a_bomb_or_an_absurd_page_is_refused_as_oversized_before_decoding(
    tmp_path, name, make, what
):
    path = tmp_path / name
    path.write_bytes(make())
    assert path.stat().st_size < 1_000_000  # a few hundred KB on disk at most
    with pytest.raises(PageLoadError, match="oversized") as refused:
        load_page(_only_page(path))
    assert what in str(refused.value) and "refused without decoding it" in str(refused.value)


def test_a_huge_image_drawn_small_on_a_vector_page_is_refused(tmp_path):
    # Rendering the page would decode the whole image first (PDFium), whatever its drawn size.
    stream = files.deflate_rows(b"\xff" * (30_000 // 8), 30_000)
    content = b"q 100 0 0 100 0 0 cm /Im0 Do Q 0 0 m 500 500 l S"
    page = files.PdfPage((595, 842), content, {"Im0": (30_000, 30_000, 1, stream)})
    path = tmp_path / "mixed.pdf"
    path.write_bytes(files.pdf([page]))
    with pytest.raises(PageLoadError, match="an image on page 1 of mixed.pdf .* oversized"):
        load_page(_only_page(path))


def test_a_page_just_under_the_limit_is_still_read(tmp_path):
    side = int(MAX_PAGE_PIXELS**0.5) - 1
    path = tmp_path / "big.png"
    path.write_bytes(files.png_bomb(side, side))
    assert load_page(_only_page(path)).gray.shape == (side, side)


def test_a_pdf_page_with_a_large_user_unit_is_refused_as_oversized_with_its_size(tmp_path):
    # an A4 box times /UserUnit 75 is a page 15.8 m wide: no scanned sheet. PDFium ignores
    # the unit (it would render the box); the loader finds it in the file and refuses.
    path = tmp_path / "unit.pdf"
    path.write_bytes(files.pdf([files.PdfPage((595, 842), extra="/UserUnit 75")]))
    with pytest.raises(PageLoadError, match="oversized") as caught:
        load_page(_only_page(path))
    assert "15,743 × 22,278 mm, its box times /UserUnit 75" in str(caught.value)


def test_a_pdf_page_with_a_small_user_unit_is_still_read(tmp_path):
    path = tmp_path / "unit.pdf"
    path.write_bytes(files.pdf([files.PdfPage((595, 842), extra="/UserUnit 1.5")]))
    assert load_page(_only_page(path)).gray.shape == (2339, 1653)  # its box, as PDFium draws


def test_a_multipage_tiff_with_a_bomb_or_a_damaged_page_in_the_middle_reads_the_others(tmp_path):
    good = [files.tiff_page(_grey(v)) for v in (90, 160)]
    damaged = files.TiffPage(300, 420, _grey().tobytes(), drop={256, 257})  # no dimensions
    for name, middle, why in [
        ("bomb.tif", files.tiff_bomb_page(50_000, 50_000), "oversized"),
        ("damaged.tif", damaged, "Missing dimensions"),
        ("odd-mode.tif", files.TiffPage(300, 420, _grey().tobytes(), bits=5), "unknown pixel mode"),
    ]:
        path = tmp_path / name
        path.write_bytes(files.tiff([good[0], middle, good[1]]))
        refs, problems = find_pages([path])
        assert problems == [] and [r.sheet_id for r in refs] == [f"{name}:{k}" for k in (1, 2, 3)]
        assert int(np.median(load_page(refs[0]).gray)) == 90
        with pytest.raises(PageLoadError, match=f"page 2 of {name}.*{why}"):
            load_page(refs[1])
        assert int(np.median(load_page(refs[2]).gray)) == 160


def test_a_tiff_whose_page_chain_loops_counts_each_page_once(tmp_path):
    data = bytearray(files.tiff([files.tiff_page(_grey(v)) for v in (90, 160)]))
    first = int.from_bytes(data[4:8], "little")
    last_link = len(data) - 4
    data[last_link:] = first.to_bytes(4, "little")  # page 2 points back at page 1
    path = tmp_path / "loop.tif"
    path.write_bytes(bytes(data))
    refs, _ = find_pages([path])
    assert len(refs) == 2
    assert int(np.median(load_page(refs[1]).gray)) == 160


def test_an_encrypted_pdf_is_refused_saying_so(tmp_path):
    (tmp_path / "locked.pdf").write_bytes(files.encrypted_pdf())
    refs, (problem,) = find_pages([tmp_path])
    assert refs == [] and problem.name == "locked.pdf"
    assert "encrypted (password-protected) PDF" in problem.message


def test_a_pdf_with_no_pages_is_a_problem_not_silence(tmp_path):
    (tmp_path / "empty.pdf").write_bytes(files.pdf([]))
    (tmp_path / "lying.pdf").write_bytes(files.pdf([], count=3))  # says 3 pages, has none
    refs, (problem,) = find_pages([tmp_path])
    assert problem.name == "empty.pdf" and "cannot open empty.pdf" in problem.message
    assert [r.sheet_id for r in refs] == ["lying.pdf:1", "lying.pdf:2", "lying.pdf:3"]
    for ref in refs:
        with pytest.raises(PageLoadError, match=f"cannot decode page {ref.index + 1} of lying"):
            load_page(ref)


def test_16_bit_grey_png_and_tiff_keep_their_tones(tmp_path):
    deep = (_grey(128).astype(np.uint16) * 257).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    (tmp_path / "deep.tif").write_bytes(files.tiff([files.tiff_page(deep)]))
    for ref in find_pages([tmp_path])[0]:
        gray = load_page(ref).gray
        assert gray.dtype == np.uint8
        assert int(np.median(gray)) == 128 and int(gray[30, 30]) == 0, ref.name


def test_a_cmyk_jpeg_is_read_in_rgb(tmp_path):
    rgb = np.stack([_grey(200)] * 3, axis=2)
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    page = load_page(_only_page(tmp_path / "cmyk.jpg"))
    assert page.pixels.shape[2] == 3
    assert int(np.median(page.gray)) == pytest.approx(200, abs=6)
    assert int(page.gray[30, 30]) < 30


def test_an_animated_gif_is_refused_as_no_scan(tmp_path):
    frames = [Image.fromarray(_grey(v)) for v in (50, 150, 250)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    refs, (problem,) = find_pages([tmp_path])
    assert refs == [] and "an animated image (3 frames)" in problem.message


def test_a_one_pixel_image_is_refused_as_too_small(tmp_path):
    Image.new("L", (1, 1), 255).save(tmp_path / "dot.png")
    with pytest.raises(PageLoadError, match="1 × 1 px: too small"):
        load_page(_only_page(tmp_path / "dot.png"))


def test_a_png_with_a_broken_chunk_fails_with_a_reason(tmp_path):
    (tmp_path / "bad.png").write_bytes(files.png_with_broken_chunk(Image.fromarray(_grey())))
    refs, problems = find_pages([tmp_path])
    if problems:
        assert problems[0].name == "bad.png"
        return
    with pytest.raises(PageLoadError, match="bad.png"):
        load_page(refs[0])


def test_a_scan_with_no_or_another_extension_is_read_by_its_content(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(_grey(120)).save(buf, format="PNG")
    (tmp_path / "scan-0001").write_bytes(buf.getvalue())
    (tmp_path / "scan-0002.dat").write_bytes(buf.getvalue())
    refs, problems = find_pages([tmp_path])
    assert problems == []
    assert [r.sheet_id for r in refs] == ["scan-0001:1", "scan-0002.dat:1"]
    assert all(int(np.median(load_page(r).gray)) == 120 for r in refs)


def test_links_pipes_and_unreadable_files_in_a_folder_are_each_reported(tmp_path):
    scans, elsewhere = tmp_path / "scans", tmp_path / "elsewhere"
    (elsewhere / "hall-b").mkdir(parents=True)
    scans.mkdir()
    Image.fromarray(_grey(100)).save(scans / "a.png")
    Image.fromarray(_grey(110)).save(elsewhere / "hall-b" / "b.png")
    (scans / "hall-b").symlink_to(elsewhere / "hall-b")  # a linked folder: read
    (scans / "loop.png").symlink_to(scans / "loop.png")  # a link to itself
    (scans / "gone.pdf").symlink_to(tmp_path / "nowhere.pdf")  # dangling
    (elsewhere / "hall-b" / "up").symlink_to(scans)  # a folder link back up: read once
    os.mkfifo(scans / "feed.tif")  # reading a pipe would wait for ever
    locked = scans / "locked.png"
    Image.fromarray(_grey(120)).save(locked)
    locked.chmod(0)
    refs, problems = find_pages([scans])
    names = [r.sheet_id for r in refs]
    assert names[:2] == ["a.png:1", "hall-b/b.png:1"]
    reasons = {p.name: p.message for p in problems}
    assert "a link that is broken or loops" in reasons["loop.png"]
    assert "a link that is broken or loops" in reasons["gone.pdf"]
    assert "a pipe (FIFO), not a file" in reasons["feed.tif"]
    assert "a link to a folder already read" in reasons["hall-b/up"]
    if os.geteuid() == 0:  # root reads a file whatever its mode
        assert names[2:] == ["locked.png:1"]
    else:
        assert "permission denied" in reasons["locked.png"]


def test_a_tiff_tag_pointing_past_the_end_is_no_warning_and_no_crash(tmp_path):
    # Found by the fuzzer (test_hostile_fuzz): Pillow warned "Tag data larger than file"
    # and "Corrupt EXIF data", which the suite (and a strict caller) takes for errors.
    data = bytearray(files.tiff([files.tiff_page(_grey(120))]))
    ifd = int.from_bytes(data[4:8], "little")
    for k in range(int.from_bytes(data[ifd : ifd + 2], "little")):
        at = ifd + 2 + 12 * k
        if int.from_bytes(data[at : at + 2], "little") == 282:  # XResolution
            data[at + 8 : at + 12] = (len(data) + 4096).to_bytes(4, "little")
    path = tmp_path / "tag.tif"
    path.write_bytes(bytes(data))
    try:
        page = load_page(_only_page(path))
    except PageLoadError as exc:
        assert "tag.tif" in str(exc)
    else:
        assert int(np.median(page.gray)) == 120


FIND_AS_NOBODY = """
import os, sys
from PIL import Image
from omr.pages import find_pages
Image.init()  # every plugin loaded while Python's own files can still be read
os.setgid(65534)
os.setuid(65534)  # a scanning clerk's account, not root
from pathlib import Path
refs, problems = find_pages([Path(sys.argv[1])])
import json
print(json.dumps([[r.sheet_id for r in refs], {p.name: p.message for p in problems}]))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="as another user the test above sees it")
def test_a_file_the_user_may_not_read_is_reported_permission_denied():
    with tempfile.TemporaryDirectory() as tmp:  # under /tmp: the other user may enter it
        scans = Path(tmp) / "scans"
        scans.mkdir()
        Path(tmp).chmod(0o755)
        scans.chmod(0o755)
        Image.fromarray(_grey(100)).save(scans / "a.png")
        Image.fromarray(_grey(120)).save(scans / "locked.png")
        (scans / "a.png").chmod(0o644)
        (scans / "locked.png").chmod(0)
        repo = Path(__file__).resolve().parents[1]
        done = subprocess.run(
            [sys.executable, "-c", FIND_AS_NOBODY, str(scans)],
            env={**os.environ, "PYTHONPATH": str(repo)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    refs, problems = json.loads(done.stdout)
    assert refs == ["a.png:1"]
    assert "permission denied" in problems["locked.png"], problems
