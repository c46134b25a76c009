"""Render a form definition as a printable vector PDF (reportlab, embedded DejaVu Sans)."""

from __future__ import annotations

import io
from functools import cache

from PIL import Image
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from omr.forms import CornerMarks, DigitsField, Form, Label, MarkerImage, Outline, TimingTrack
from omr.resources import font_path

FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
OUTLINE_GREY = 0.25  # bubble outlines
LETTER_GREY = 0.6  # option letters printed inside bubbles: light, so they read as paper


@cache
def _register_fonts() -> None:
    pdfmetrics.registerFont(TTFont(FONT, str(font_path())))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(font_path(bold=True))))


class _Page:
    """Drawing helpers in form millimetres (origin top-left, y down)."""

    def __init__(self, canvas: Canvas, form: Form) -> None:
        self.c = canvas
        self.h = form.page.height

    def xy(self, x: float, y: float) -> tuple[float, float]:
        return x * mm, (self.h - y) * mm

    def text(self, x, y, s, size=7.0, bold=False, grey=0.0, centre=False) -> None:
        self.c.setFillGray(grey)
        self.c.setFont(FONT_BOLD if bold else FONT, size)
        px, py = self.xy(x, y)
        if centre:
            self.c.drawCentredString(px, py, s)
        else:
            self.c.drawString(px, py, s)

    def label(self, x: float, y: float, label: Label, size: float = 6.5) -> None:
        """Turkish on one line, English under it, ending at ``y``."""
        if label.tr == label.en:
            self.text(x, y, label.tr, size, bold=True)
        else:
            self.text(x, y - size * 0.42, label.tr, size, bold=True)
            self.text(x, y, label.en, size * 0.9, grey=0.2)

    def bubble(self, x: float, y: float, letter: str, outline: Outline) -> None:
        self.c.setStrokeGray(OUTLINE_GREY)
        self.c.setLineWidth(0.6)
        px, py = self.xy(x, y)
        a, b = outline.half
        r = outline.radius
        if outline.shape == "circle":
            self.c.circle(px, py, r * mm, stroke=1, fill=0)
        elif outline.shape == "ellipse":
            self.c.ellipse(px - a * mm, py - b * mm, px + a * mm, py + b * mm, stroke=1, fill=0)
        else:
            self.c.roundRect(
                px - a * mm, py - b * mm, 2 * a * mm, 2 * b * mm, 0.35 * b * mm, stroke=1, fill=0
            )
        self.text(x, y + r * 0.45, letter, size=r * 2.6, grey=LETTER_GREY, centre=True)

    def disc(self, x: float, y: float, diameter: float) -> None:
        self.c.setFillGray(0)
        px, py = self.xy(x, y)
        self.c.circle(px, py, diameter / 2 * mm, stroke=0, fill=1)

    def bullseye(self, x: float, y: float, dot: float, outer: float) -> None:
        """Two black rings round a solid dot, as OMRChecker's marker: outer diameter ``outer``."""
        px, py = self.xy(x, y)
        self.c.setStrokeGray(0)
        for radius, width in ((0.45, 0.1), (0.26, 0.1)):
            self.c.setLineWidth(width * outer * mm)
            self.c.circle(px, py, radius * outer * mm, stroke=1, fill=0)
        self.disc(x, y, dot)

    def ring(self, x: float, y: float, outer: float, width: float) -> None:
        """A black hollow circle of outer diameter ``outer``, its line ``width`` wide."""
        px, py = self.xy(x, y)
        self.c.setStrokeGray(0)
        self.c.setLineWidth(width * mm)
        self.c.circle(px, py, (outer - width) / 2 * mm, stroke=1, fill=0)

    def solid(self, x: float, y: float, w: float, h: float) -> None:
        """A solid black rectangle of ``w`` × ``h`` centred on (x, y)."""
        self.c.setFillGray(0)
        px, py = self.xy(x - w / 2, y + h / 2)
        self.c.rect(px, py, w * mm, h * mm, stroke=0, fill=1)

    def square(self, x: float, y: float, side: float, fill: bool, line: float = 0.8) -> None:
        px, py = self.xy(x - side / 2, y + side / 2)
        self.c.setFillGray(0)
        self.c.setStrokeGray(0 if fill else OUTLINE_GREY)
        self.c.setLineWidth(line)
        self.c.rect(px, py, side * mm, side * mm, stroke=1, fill=int(fill))

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        self.c.setStrokeGray(OUTLINE_GREY)
        self.c.setLineWidth(0.6)
        px, py = self.xy(x, y + h)
        self.c.rect(px, py, w * mm, h * mm, stroke=1, fill=0)


def render_form_pdf(form: Form) -> bytes:
    """The printable blank sheet of ``form`` as PDF bytes (vector, fonts embedded)."""
    _register_fonts()
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(form.page.width * mm, form.page.height * mm))
    canvas.setTitle(form.title.text())
    canvas.setAuthor("omr")
    canvas.setCreator("omr forms render")
    page = _Page(canvas, form)
    _draw_registration(page, form)
    _draw_fields(page, form)
    for t in form.texts:
        page.text(*t.at, t.text, size=t.size, bold=t.bold)
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def _draw_registration(page: _Page, form: Form) -> None:
    reg = form.registration
    if isinstance(reg, TimingTrack):
        for x, y in reg.landmarks_mm():
            page.solid(x, y, *reg.dash)
        return
    if isinstance(reg, MarkerImage):
        picture = ImageReader(Image.fromarray(form.marker_gray))
        w, h = reg.mark_size
        for x, y in reg.marks:
            page.c.drawImage(picture, *page.xy(x - w / 2, y + h / 2), w * mm, h * mm)
        return
    if not isinstance(reg, CornerMarks):
        return  # aligned on a reference image: nothing of ours is printed
    s, t = reg.mark_size, reg.l_thickness
    for x, y in reg.marks:
        if reg.shape == "circle":
            page.disc(x, y, s)
        elif reg.shape == "bullseye":
            page.bullseye(x, y, s, reg.ring_size or 4.3 * s)
        elif reg.shape == "ring":
            page.ring(x, y, s, reg.ring_width)
        elif reg.shape == "l-shape":
            # Two arms meeting at the corner nearest the page edge.
            sx = -1 if x < form.page.width / 2 else 1
            sy = -1 if y < form.page.height / 2 else 1
            page.solid(x, y + sy * (s - t) / 2, s, t)
            page.solid(x + sx * (s - t) / 2, y, t, s)
        else:
            page.square(x, y, s, fill=True)
    if reg.orientation_mark is not None:
        page.square(*reg.orientation_mark, reg.orientation_size, fill=True)


def _draw_fields(page: _Page, form: Form) -> None:
    layout = form.layout
    xy = layout.centers_xy
    g = form.group
    if g is not None:
        r = form.outline("group").radius
        page.label(g.origin[0] - r, g.origin[1] - r - 2.5, g.label)
    for name, field in layout.fields.items():
        if field.kind == "box":
            continue
        outline = form.outline(name)
        for item, row in enumerate(field.index):
            for letter, i in zip(field.option_labels, row, strict=True):
                page.bubble(*xy[i], letter, outline)
            if field.kind == "answers":
                x, y = xy[row[0]]
                number = str(field.item_numbers[item])
                if abs(xy[row[-1]][1] - y) > abs(xy[row[-1]][0] - x):
                    # options run down: the number heads its column of options
                    top = y - outline.half[1] - 1.3
                    page.text(x, top, number, size=7, bold=True, centre=True)
                else:
                    left = x - outline.half[0] - 1.2 - 1.9 * len(number)
                    page.text(left, y + 1.1, number, size=7, bold=True)
        if field.kind == "digits":
            _draw_write_in(page, form.digit_grid(name), outline.radius)
    for name, block in form.answer_blocks.items():
        r = form.outline(name).radius
        page.label(block.origin[0] - r - 4, block.origin[1] - r - 2.5, block.label)
    for name, grid in form.letter_grids.items():
        r = form.outline(name).radius
        page.label(grid.origin[0] - r, grid.origin[1] - r - 2.5, grid.label)
    for _, box in form.boxes:
        if box is not None:
            page.square(*box.center, box.size, fill=False, line=0.6)
            x = box.center[0] + box.size / 2 + 1.2
            page.text(x, box.center[1] - 0.2, box.label.tr, size=5.5, bold=True)
            page.text(x, box.center[1] + 2.2, box.label.en, size=5)
    if form.signature is not None:
        s = form.signature
        page.rect(*s.origin, *s.size)
        page.text(s.origin[0] + 1, s.origin[1] + 2.6, s.label.text(), size=5.5, grey=0.3)


def _draw_write_in(page: _Page, field: DigitsField, r: float) -> None:
    """Boxes above a digit grid (bubbles of radius ``r``) where the candidate writes the digits."""
    x0, y0 = field.origin
    top = y0 - r - 6.5
    for k in range(field.digits):
        x = x0 + k * field.digit_step[0]
        page.rect(x - r - 0.3, top, 2 * r + 0.6, 5.5)
    page.label(x0 - r - 0.3, top - 1.2, field.label)
