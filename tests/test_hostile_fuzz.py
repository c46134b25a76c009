"""Fuzzing, bounded in time: mutated bytes of real PNG, JPEG, TIFF and PDF pages through the
page loader, and random text and structures through the exam, form and roster readers.
Anything raised that is not the project's own typed error is a failure; what a fuzzer
found is kept below as an ``@example``."""

from __future__ import annotations

import io
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import yaml
from hostile import files
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from omr.errors import InputFileError, InvalidExamError, InvalidFormError, OmrError
from omr.exam import load_exam
from omr.forms import find_form
from omr.pages import PageLoadError, find_pages, load_page
from omr.score.identity import load_roster

# 120 draws a test by default (8.8 s of CPU for the file); the explore profile's own count
# (1,000) when it is loaded: a count written here would override the profile's.
FUZZ = settings(
    max_examples=max(120, settings.default.max_examples),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@cache
def _seeds() -> dict[str, bytes]:
    """Small real pages of each kind a stack holds."""
    page = files.sheet_grey(200, (240, 330))
    page[100:140, 60:200] = 40
    img = Image.fromarray(page)
    out = {}
    for name, kw in {
        "png": {"format": "PNG"},
        "jpg": {"format": "JPEG", "quality": 80},
        "tif": {"format": "TIFF", "compression": "tiff_deflate", "dpi": (150, 150)},
        "pdf": {"format": "PDF", "resolution": 50.0},
    }.items():
        buf = io.BytesIO()
        img.save(buf, **kw)
        out[name] = buf.getvalue()
    out["tif2"] = files.tiff([files.tiff_page(page), files.tiff_page(page[::-1].copy())])
    return out


@st.composite
def mutated(draw) -> tuple[str, bytes]:
    """A seed page with a few bytes changed, a piece cut out or put in, or cut short."""
    kind = draw(st.sampled_from(sorted(_seeds())))
    data = bytearray(_seeds()[kind])
    for _ in range(draw(st.integers(1, 6))):
        how = draw(st.sampled_from(["flip", "flip", "cut", "insert", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if how == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif how == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[max(at, 8) :]
    return kind, bytes(data)


def _through_loader(kind: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"page.{kind.rstrip('2')}"
        path.write_bytes(data)
        refs, problems = find_pages([Path(folder)])
        assert len(refs) + len(problems) >= 1  # never left out silently
        for ref in refs:
            try:
                page = load_page(ref)
            except PageLoadError as exc:
                assert str(exc)
                continue
            assert page.pixels.dtype == np.uint8 and page.pixels.ndim in (2, 3)


@given(mutated())
@FUZZ
def test_mutated_pages_load_or_are_refused_with_a_reason(case):
    _through_loader(*case)


@given(st.binary(max_size=2048), st.sampled_from(["pdf", "tif", "png", "jpg", "gif", "bin"]))
@FUZZ
@example(b"II*\x00\x08\x00\x00\x00\x00\x00", "tif")  # a page directory with no entries
@example(b"%PDF-1.7\n", "bin")
def test_random_bytes_under_any_name_are_refused_with_a_reason(data, kind):
    _through_loader(kind, data)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.dates(),
)
_trees = st.recursive(
    _scalars,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=5)
    ),
    max_leaves=20,
)
REPO = Path(__file__).resolve().parents[1]
BASES = {
    "form": yaml.safe_load((REPO / "forms" / "quiz-a5.yaml").read_text(encoding="utf-8")),
    "exam": yaml.safe_load((REPO / "samples" / "demo" / "exam.yaml").read_text(encoding="utf-8")),
}


@st.composite
def broken_definition(draw) -> tuple[str, object]:
    """A real form or exam definition with a few values, anywhere in it, replaced."""
    kind = draw(st.sampled_from(sorted(BASES)))
    data = yaml.safe_load(yaml.safe_dump(BASES[kind]))  # a deep copy
    for _ in range(draw(st.integers(1, 3))):
        node = data
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            if isinstance(node[key], (dict, list)) and node[key] and draw(st.booleans()):
                node = node[key]
                continue
            node[key] = draw(_trees)
            break
    return kind, data


@given(broken_definition())
@FUZZ
@example(("form", {"name": "x", "group": {"options": ["A", "B"], "option_step": {}}}))
def test_broken_exam_and_form_files_are_refused_with_their_problems(case):
    kind, data = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{kind}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        try:
            find_form(str(path)) if kind == "form" else load_exam(path)
        except (InvalidExamError, InvalidFormError) as exc:
            assert exc.problems
        except OmrError as exc:
            assert str(exc)


@given(st.binary(max_size=512) | st.text(max_size=300).map(lambda t: t.encode("utf-8")))
@FUZZ
@example(b"\xff\xfe\x00")  # neither UTF-8 nor Windows-1254 (0x81 is unassigned there too)
@example(b"\x81")
def test_random_yaml_and_roster_bytes_are_refused_with_a_reason(data):
    with tempfile.TemporaryDirectory() as folder:
        exam, roster = Path(folder) / "exam.yaml", Path(folder) / "roster.csv"
        exam.write_bytes(data)
        roster.write_bytes(data)
        try:
            load_exam(exam)
        except InvalidExamError as exc:
            assert exc.problems
        try:
            load_roster(roster)
        except InputFileError as exc:
            assert "roster" in str(exc)


def _roster_workbook() -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    for row in [
        ("student_number", "national_id", "ad", "soyad"),
        (61058800, "77397071944", "Ümit", "Çağlar"),
    ]:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


ROSTER_XLSX = _roster_workbook()


@given(st.lists(st.tuples(st.integers(0, len(ROSTER_XLSX) - 1), st.integers(0, 255)), max_size=8))
@FUZZ
def test_a_mutated_excel_roster_is_read_or_refused_with_a_reason(flips):
    data = bytearray(ROSTER_XLSX)
    for at, value in flips:
        data[at] = value
    with tempfile.TemporaryDirectory() as folder:
        roster = Path(folder) / "roster.xlsx"
        roster.write_bytes(bytes(data))
        try:
            load_roster(roster)
        except InputFileError as exc:
            assert "roster" in str(exc)
