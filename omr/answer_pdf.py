"""The one-page written answer to an objection (reportlab, DejaVu Sans for Turkish letters)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from omr.i18n import N_, _, activate, current
from omr.resources import font_path

FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
MM = 72 / 25.4


@dataclass(frozen=True)
class AnswerPage:
    """What the answer says; no name and no national ID (the student number identifies)."""

    exam: str
    number: int
    student: str
    course: str
    kind: str
    item: int | None
    filed_on: str
    deadline: str
    text: str
    sheet: str
    group: str
    answers: str
    key: str
    before: str
    after: str
    decision: str
    change: str
    by: str
    why: str
    decided_at: str
    picture: bytes | None = None
    note: str = ""


def _fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(font_path())))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(font_path(bold=True))))


#: Words for the codes an answer page carries.
_KINDS = {"question": N_("question objection"), "result": N_("result objection")}
_DECISIONS = {"accepted": N_("accepted"), "rejected": N_("rejected")}


def answer_pdf(page: AnswerPage, lang: str | None = None) -> bytes:
    """One A4 page: the objection, what was read, the key, the score before and after,
    the decision and its reason, and the annotated sheet; in ``lang`` (default: the
    active language, :mod:`omr.i18n`)."""
    with activate(lang or current()):
        return _answer_pdf(page)


def _answer_pdf(page: AnswerPage) -> bytes:
    _fonts()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(_("Objection {number}: answer").format(number=page.number))
    width, height = A4
    left, y = 18 * MM, height - 20 * MM
    c.setFont(FONT_BOLD, 13)
    c.drawString(left, y, _("Answer to objection {number}").format(number=page.number))
    y -= 6 * MM
    c.setFont(FONT, 9)
    c.drawString(left, y, page.exam)
    y -= 8 * MM
    what = _(_KINDS[page.kind]) if page.kind in _KINDS else page.kind
    if page.item:
        what += ", " + _("item {item}").format(item=page.item)
    decision = _(_DECISIONS[page.decision]) if page.decision in _DECISIONS else page.decision
    lines = [
        (_("Candidate"), _("student number {number}").format(number=page.student)),
        (_("Course"), page.course),
        (
            _("Objection"),
            _("{what}; filed {filed} (deadline {deadline})").format(
                what=what, filed=page.filed_on, deadline=page.deadline
            ),
        ),
        (_("Text"), page.text),
        (
            _("Sheet"),
            _("{sheet}, booklet group {group}").format(sheet=page.sheet, group=page.group),
        ),
        (_("Read"), page.answers),
        (_("Key"), page.key),
        (
            _("Score"),
            _("before {before}, after {after}").format(before=page.before, after=page.after),
        ),
        (_("Decision"), decision + (f": {page.change}" if page.change != "none" else "")),
        (_("Reason"), page.why),
        (_("Decided by"), f"{page.by}, {page.decided_at}"),
    ]
    for label, value in lines:
        c.setFont(FONT_BOLD, 9)
        c.drawString(left, y, label)
        c.setFont(FONT, 9)
        for part in simpleSplit(value or "-", FONT, 9, width - left - 48 * MM) or ["-"]:
            c.drawString(left + 28 * MM, y, part)
            y -= 4.6 * MM
        y -= 1.2 * MM
    if page.picture is not None:
        img = ImageReader(io.BytesIO(page.picture))
        iw, ih = img.getSize()
        box_w, box_h = width - 2 * left, y - 15 * MM
        scale = min(box_w / iw, box_h / ih)
        c.drawImage(img, left, y - ih * scale - 2 * MM, iw * scale, ih * scale)
    elif page.note:
        c.drawString(left, y, page.note)
    c.setFont(FONT, 7)
    c.drawString(
        left, 10 * MM, _("omr: written from the session store; the audit log holds every step.")
    )
    c.showPage()
    c.save()
    return buf.getvalue()
