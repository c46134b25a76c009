"""A JPEG scan with two bytes flipped in its coded data: held for a person or read right,
never read wrong with confidence.

A flip the Huffman code still accepts decodes with no warning from libjpeg (nor Pillow,
OpenCV or simplejpeg's strict decode) and shifts the level of every block after it, a darker
band over the rest of the page; of 12 such files from one quiz-a5 sheet, one was scored with
4 marked answers read blank before ``omr/jpeg_damage.py``.
"""

from __future__ import annotations

import csv
import io
import json
import shutil

import numpy as np
import pytest
from conftest import shared_data
from hostile import files
from PIL import Image

from omr.evaluate import evaluate_run
from omr.forms import find_form
from omr.jpeg_damage import MIN_STEP, band_step
from omr.pages import PageRef, load_page
from omr.pipeline import run_session
from omr.simulate import simulate_session

FLIPS = 12


class NotTheCase(RuntimeError):
    """The files made are not the damaged decodes this test is about."""


def test_a_jpeg_with_two_bytes_flipped_is_never_read_wrong_with_confidence(tmp_path):
    root = tmp_path / "S"
    simulate_session(find_form("quiz-a5"), 1, 4, root, profile="clean", jobs=1)
    scans = root / "scans"
    page = load_page(PageRef(scans / "stack.pdf", 0, "stack.pdf"))
    buf = io.BytesIO()
    Image.fromarray(page.pixels).save(buf, format="JPEG", quality=90, dpi=(page.dpi,) * 2)
    clean = buf.getvalue()
    scan_at = clean.index(b"\xff\xda") + 20  # past the scan header: the coded data
    truth = json.loads((root / "truth.json").read_text(encoding="utf-8"))
    sheet = truth["sheets"]["stack.pdf:1"]
    rng = np.random.default_rng(0)
    damaged = 0
    for k in range(FLIPS):
        data = bytearray(clean)
        for at in rng.integers(scan_at, len(data) - 2, 2):
            data[at] ^= 0xFF if data[at] else 0x0F
        (scans / f"flip-{k:02d}.jpg").write_bytes(bytes(data))
        decoded = np.asarray(Image.open(io.BytesIO(bytes(data))).convert("L"), dtype=int)
        damaged += np.abs(decoded - np.asarray(Image.open(buf).convert("L"), dtype=int)).max() > 30
        if k == 8:  # the one read wrong before, also as a PDF scanner's page
            pdf = files.PdfPage(
                (420, 595), b"q 420 0 0 595 0 0 cm /Im0 Do Q", image_filter="DCTDecode"
            )
            pdf.images["Im0"] = (*page.pixels.shape[::-1], 8, bytes(data))
            (scans / "flip-08.pdf").write_bytes(files.pdf([pdf]))
    if damaged < FLIPS // 2 or page.pixels.ndim != 2:
        raise NotTheCase(f"only {damaged} of {FLIPS} files decode damaged, or not grey")
    (scans / "stack.pdf").unlink()
    truth["sheets"] = {f"flip-{k:02d}.jpg:1": sheet for k in range(FLIPS)}
    truth["sheets"]["flip-08.pdf:1"] = sheet
    (root / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    shutil.rmtree(root / "out", ignore_errors=True)
    run_session(root, jobs=1)
    report = evaluate_run(root / "out", root / "truth.json")
    assert report["sheets"] == FLIPS + 1
    assert report["silent_errors"] == 0, report["errors"]
    with (root / "out" / "review.csv").open(encoding="utf-8", newline="") as fh:
        refused = [r for r in csv.DictReader(fh) if "damaged JPEG data" in r["detail"]]
    assert {r["status"] for r in refused} == {"review:unreadable-page"}
    assert {"flip-08.jpg:1", "flip-08.pdf:1"} <= {r["sheet"] for r in refused}  # wrong before


def test_real_jpeg_scans_and_photos_are_not_taken_for_damaged():
    folder = shared_data("")
    if not folder.is_dir():
        pytest.skip("no ../shared/data")
    photos = sorted(p for p in folder.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg"})
    assert len(photos) >= 20
    for path in photos:
        gray = np.asarray(Image.open(path).convert("L"))
        for turned in (False, True):
            assert band_step(gray.T if turned else gray)[0] < MIN_STEP / 2, path.name
