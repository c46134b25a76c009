"""results.xlsx as offices use it: typed cells, number formats, frozen and filtered headers,
the sheets in the session's language, roster candidates with no sheet, and no names."""

from __future__ import annotations

import csv

import openpyxl
import pytest
import yaml
from simhelpers import quiz_session, session_copy

from omr.pipeline import rebuild_reports

ABSENT_NUMBER = "99999999"  # a roster candidate who handed in no sheet
ABSENT_NATIONAL = "10000000146"  # valid check digits


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    absent = [ABSENT_NUMBER, ABSENT_NATIONAL, "Gülşen", "Çelikkaya", "076", "099"]
    return quiz_session(tmp_path_factory.mktemp("xlsx") / "session", 8, roster_rows=[absent])


@pytest.fixture
def session(ran, tmp_path):
    return session_copy(ran, tmp_path)


def _book(out):
    return openpyxl.load_workbook(out / "results.xlsx")


def _column(ws, header):
    """The cells (below the header) of the column headed ``header``."""
    heads = [c.value for c in ws[1]]
    assert header in heads, heads
    index = heads.index(header) + 1
    return [r[0] for r in ws.iter_rows(min_row=2, min_col=index, max_col=index)]


def test_turkish_exam_gives_turkish_sheets_and_headers(ran):
    book = _book(ran / "out")
    assert book.sheetnames == [
        "Özet",
        "TUR101",
        "İnceleme",
        "Uyarılı",
        "Maddeler",
        "İtiraz süreleri",
    ]
    heads = [c.value for c in book["TUR101"][1]]
    assert heads[:6] == [
        "kâğıt",
        "öğrenci no",
        "T.C. kimlik no (maskeli)",
        "kitapçık",
        "durum",
        "neden",
    ]
    assert "puan" in heads and "puan (yuvarlanmış)" in heads
    summary = [c.value for c in book["Özet"][1]]
    assert summary[:3] == ["ders", "ad", "kâğıt"]
    assert "ortalama puan" in summary and "puanın SS'si" in summary


def test_english_with_lang_en_and_the_choice_is_kept(session):
    out = session / "out"
    rebuild_reports(out, lang="en")
    book = _book(out)
    assert book.sheetnames == [
        "Summary",
        "TUR101",
        "Review",
        "Flagged",
        "Items",
        "Objection windows",
    ]
    heads = [c.value for c in book["TUR101"][1]]
    assert heads[:6] == [
        "sheet",
        "student number",
        "national ID (masked)",
        "booklet",
        "status",
        "reason",
    ]
    rebuild_reports(out)  # no --lang: the one given before holds
    assert _book(out).sheetnames[0] == "Summary"


def test_lang_in_exam_yaml(session):
    data = yaml.safe_load((session / "exam.yaml").read_text(encoding="utf-8"))
    data["lang"] = "en"
    (session / "exam.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rebuild_reports(session / "out")
    assert _book(session / "out").sheetnames[0] == "Summary"


def test_scores_are_numbers_with_two_decimals_and_counts_whole_numbers(ran):
    ws = _book(ran / "out")["TUR101"]
    statuses = [c.value for c in _column(ws, "durum kodu")]
    scored = [i for i, s in enumerate(statuses) if s == "scored"]
    assert scored
    score = _column(ws, "puan")
    rounded = _column(ws, "puan (yuvarlanmış)")
    correct = _column(ws, "doğru")
    for i in scored:
        assert score[i].data_type == "n" and isinstance(score[i].value, int | float)
        assert score[i].number_format == "0.00"
        assert rounded[i].data_type == "n" and rounded[i].number_format == "0"
        assert correct[i].data_type == "n" and correct[i].number_format == "0"
        assert rounded[i].value == int(score[i].value + 0.5)
    # The national ID stays text (leading digits, masked), the student number too.
    assert all(c.data_type == "s" for c in _column(ws, "öğrenci no"))


def test_every_sheet_has_a_frozen_filtered_header_and_fitted_widths(ran):
    book = _book(ran / "out")
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title
        assert ws.auto_filter.ref.endswith(str(ws.max_row)), ws.title
        widths = [ws.column_dimensions[c.column_letter].width for c in ws[1]]
        assert all(w and 6 <= w <= 80 for w in widths), (ws.title, widths)
    ws = book["TUR101"]
    answers = _column(ws, "okunan cevaplar")
    letter = answers[0].column_letter
    assert ws.column_dimensions[letter].width >= max(len(c.value or "") for c in answers)


def test_summary_gives_mean_and_sd_of_the_score_and_the_raw_counts(ran):
    ws = _book(ran / "out")["Özet"]
    heads = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(heads, ws[2], strict=True)}
    with (ran / "out" / "results.csv").open(encoding="utf-8") as fh:
        scores = [float(r["score"]) for r in csv.DictReader(fh) if r["status"] == "scored"]
    mean = sum(scores) / len(scores)
    sd = (sum((s - mean) ** 2 for s in scores) / len(scores)) ** 0.5
    assert row["ortalama puan"].value == pytest.approx(mean, abs=1e-3)
    assert row["puanın SS'si"].value == pytest.approx(sd, abs=1e-3)
    assert row["ortalama puan"].number_format == "0.00"
    assert row["kâğıt"].value == 8 and row["kâğıdı yok"].value == 1
    assert row["ortalama doğru"].value < 51  # the raw count, 50 questions


def test_objection_windows_are_dates(ran):
    ws = _book(ran / "out")["İtiraz süreleri"]
    deadline = _column(ws, "son gün")
    assert deadline[0].is_date and deadline[0].number_format == "dd.mm.yyyy"
    assert deadline[0].value.date().isoformat() == "2026-11-18"


def test_items_sheet_has_numeric_statistics(ran):
    ws = _book(ran / "out")["Maddeler"]
    p = _column(ws, "güçlük p")
    assert all(c.data_type == "n" and c.number_format == "0.00" for c in p if c.value is not None)
    heads = [c.value for c in ws[1]]
    assert "boş" in heads and "üst %27: A" in heads


def test_roster_candidate_without_a_sheet_is_listed_as_no_sheet(ran):
    with (ran / "out" / "results.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["student_id"] == ABSENT_NUMBER]
    assert [(r["sheet"], r["status"], r["national_id"]) for r in rows] == [
        ("", "no-sheet", "100******46")
    ]
    assert rows[0]["reason"] == "listede var, ama adaya ait kâğıt yok"
    ws = _book(ran / "out")["TUR101"]
    numbers = [c.value for c in _column(ws, "öğrenci no")]
    assert ABSENT_NUMBER in numbers
    assert _column(ws, "durum")[numbers.index(ABSENT_NUMBER)].value == "kâğıdı yok"


def test_posted_exports_carry_no_name_and_no_full_national_id(ran):
    with (ran / "roster.csv").open(encoding="utf-8") as fh:
        people = list(csv.DictReader(fh))
    book = _book(ran / "out")
    cells = {
        str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value
    }
    text = (ran / "out" / "results.csv").read_text(encoding="utf-8")
    for person in people:
        for secret in (person["last_name"], person["national_id"]):
            assert secret not in text
            assert not any(secret in c for c in cells), secret


def test_names_hall_and_seat_only_in_the_internal_workbook(session):
    from click.testing import CliRunner

    from omr.cli import cli

    out = session / "out"
    args = ["report", str(out), "--internal", "--by", "ofis", "--why", "registry match"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 10), result.output
    book_path = out / "internal" / "results-internal.xlsx"
    assert book_path.stat().st_mode & 0o777 == 0o600
    ws = openpyxl.load_workbook(book_path)["İç sonuçlar"]
    heads = [c.value for c in ws[1]]
    assert heads[:6] == [
        "öğrenci no",
        "T.C. kimlik no",
        "ad soyad (liste)",
        "kâğıttaki ad",
        "salon",
        "sıra",
    ]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    absent = rows[ABSENT_NUMBER]
    assert absent[1:3] == (ABSENT_NATIONAL, "Gülşen Çelikkaya") and absent[4:6] == ("076", "099")
    assert absent[heads.index("durum")] == "kâğıdı yok"
    score = next(r for r in ws.iter_rows(min_row=2) if r[heads.index("puan")].value is not None)
    assert score[heads.index("puan")].number_format == "0.00"
    posted = {
        str(c.value) for s in _book(out).worksheets for row in s.iter_rows() for c in row if c.value
    }
    assert not any("Çelikkaya" in c or ABSENT_NATIONAL in c for c in posted)
    assert not any(h in {"salon", "sıra"} for h in [c.value for c in _book(out)["TUR101"][1]])
