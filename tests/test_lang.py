"""The language of what people read: the catalogue is complete and compiled, the rule holds."""

from __future__ import annotations

import pytest

from omr.i18n import _, activate, decimal, default_lang, translator
from omr.i18n.labels import REASONS, STATUS_KINDS, reason_text, status_label

build = pytest.importorskip("omr.i18n.build", reason="Babel (the test extra) is not installed")


def test_every_marked_message_has_a_turkish_translation():
    assert build.untranslated(build.read_catalog(), build.extract()) == []


def test_the_shipped_mo_is_compiled_from_the_po():
    mo = build.po_path().with_suffix(".mo")
    assert mo.read_bytes() == build.compiled(build.read_catalog())


def test_every_status_and_reason_reads_differently_in_turkish():
    tr = translator("tr")
    for text in [*STATUS_KINDS.values(), *REASONS.values()]:
        if text != "KR-20":
            assert tr(text) != text, text


@pytest.mark.parametrize(
    ("name", "courses", "lang"),
    [
        ("Vize sınavı", ["MAT101"], "tr"),
        ("Midterm", ["Türk Dili I"], "tr"),
        ("Midterm", ["Calculus I"], "en"),
        ("ARA SINAV", ["MATEMATİK"], "tr"),
    ],
)
def test_default_language_rule(name, courses, lang):
    assert default_lang(name, courses) == lang


def test_labels_follow_the_active_language():
    with activate("tr"):
        assert status_label("review:faint") == "incelemede"
        assert reason_text("review:faint") == "sorunun tek işareti soluk"
        assert reason_text("void:no-group") == "kitapçık türü kodlanmamış (madde 7.6)"
        assert reason_text("scored") == "" and reason_text("absent") == ""
        assert decimal(68.4211) == "68,42"
        with activate("en"):
            assert _("Summary") == "Summary" and decimal(68.4211) == "68.42"
        assert _("Summary") == "Özet"
    assert reason_text("review:something-new") == "something-new"  # never dropped


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="tr, en"), activate("de"):
        pass


def _pdf_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    return pdf[0].get_textpage().get_text_range()


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("tr", ["3 numaralı itiraza cevap", "soruya itiraz, 7. soru", "kabul edildi", "Gerekçe"]),
        ("en", ["Answer to objection 3", "question objection, item 7", "accepted", "Reason"]),
    ],
)
def test_objection_answer_in_both_languages(lang, words):
    from omr.answer_pdf import AnswerPage, answer_pdf

    page = AnswerPage(
        exam="Vize (2026-11-14)",
        number=3,
        student="2485240850",
        course="TUR101 Türk Dili I",
        kind="question",
        item=7,
        filed_on="2026-11-16",
        deadline="2026-11-18",
        text="B ve D ikisi de doğru",
        sheet="stack-01.pdf:1",
        group="C",
        answers="BCCBE",
        key="C",
        before="40.0000",
        after="45.0000",
        decision="accepted",
        change="key v2",
        by="hoca",
        why="D de doğru",
        decided_at="2026-11-17",
    )
    text = " ".join(_pdf_text(answer_pdf(page, lang=lang)).split())
    for word in words:
        assert word in text, (word, text)


def test_review_detail_reads_in_the_active_language():
    from dataclasses import replace

    from records import make_read
    from test_checks import _exam

    from omr.export import review_rows
    from omr.records import ItemRead, ItemState
    from omr.score.checks import score_session

    exam = _exam()  # two booklets, course C1 on course1, 20 questions
    read = make_read(answers="ABCDE" * 4)
    items = list(read.fields["course1"].items)
    items[6] = ItemRead("", ItemState.unsure, 0.0, "A", "faint")
    read.fields["course1"] = replace(read.fields["course1"], items=tuple(items))
    rows = score_session([read], exam)
    (english,) = review_rows([read], rows, exam)
    assert english["detail"] == "q7 (faint): marked none, unsure A"
    assert english["reason"] == "a question's only mark is faint"
    with activate("tr"):
        (turkish,) = review_rows([read], rows, exam)
    assert turkish["detail"] == "7. soru (faint): işaretli yok, belirsiz A"
    assert turkish["reason"] == "sorunun tek işareti soluk"
    assert turkish["status"] == "review:faint"  # the code stays
