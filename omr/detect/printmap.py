"""Where a form prints something other than its bubbles: labels, numbers, boxes, rules.

The proof (:mod:`omr.detect.proof`) asks whether a bubble's outline shows at
its place and not half a pitch or a pitch away. A moved place that falls on
other print (a question number beside the last option, the write-in box
above a digit grid) is dark whatever the fit, and tells nothing. This map
says where such print is: the form's own rendering, or for a form defined on
a reference image, that image (handwriting on it counts as print too: it
changes from sheet to sheet).
"""

from __future__ import annotations

import cv2
import numpy as np
import pypdfium2 as pdfium

from omr.detect.once import once_per
from omr.forms import Form, ReferenceImage
from omr.render import render_form_pdf

PX_PER_MM = 4.0  # about 100 dpi: enough to see a printed digit
_DARK = 160  # grey below which a pixel of the print map is print


_CACHE: dict[int, tuple[Form, np.ndarray]] = {}


def other_print(form: Form) -> np.ndarray:
    """Mask (M, N) bool at :data:`PX_PER_MM` of the print that is not a bubble of ``form``.

    Worked out once per form.
    """
    return once_per(form, _CACHE, lambda: _other_print(form))


def _other_print(form: Form) -> np.ndarray:
    gray = _printed_sheet(form)
    dark = gray < _DARK
    layout = form.layout
    # Each bubble's own outline and its printed letter are not "other" print.
    for (x, y), (ax, ay), rect in zip(
        layout.centers_xy, layout.half_axes, layout.rectangular, strict=True
    ):
        cx, cy = x * PX_PER_MM - 0.5, y * PX_PER_MM - 0.5
        hx, hy = ax * 1.25 * PX_PER_MM + 1, ay * 1.25 * PX_PER_MM + 1
        if rect:
            cv2.rectangle(
                dark.view(np.uint8),
                (round(cx - hx), round(cy - hy)),
                (round(cx + hx), round(cy + hy)),
                0,
                -1,
            )
        else:
            cv2.ellipse(
                dark.view(np.uint8),
                (round(cx), round(cy)),
                (round(hx), round(hy)),
                0,
                0,
                360,
                0,
                -1,
            )
    dark.flags.writeable = False
    return dark


def _printed_sheet(form: Form) -> np.ndarray:
    """The sheet as printed, grey (M, N) uint8 at :data:`PX_PER_MM`."""
    size = (round(form.page.width * PX_PER_MM), round(form.page.height * PX_PER_MM))
    if isinstance(form.registration, ReferenceImage) and form.reference_gray is not None:
        return cv2.resize(form.reference_gray, size, interpolation=cv2.INTER_AREA)
    doc = pdfium.PdfDocument(render_form_pdf(form))
    try:
        bitmap = doc[0].render(scale=PX_PER_MM * 25.4 / 72, grayscale=True)
        gray = np.array(bitmap.to_numpy(), dtype=np.uint8).reshape(bitmap.height, bitmap.width)
    finally:
        doc.close()
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def on_other_print(form: Form, centres_mm: np.ndarray, half_axes_mm: np.ndarray) -> np.ndarray:
    """Per outline (K,): whether the area it and its band cover holds other print."""
    mask = other_print(form)
    h, w = mask.shape
    steps = np.linspace(-1.2, 1.2, 9)
    gx, gy = np.meshgrid(steps, steps)
    disc = np.column_stack([gx.ravel(), gy.ravel()])
    disc = disc[np.hypot(disc[:, 0], disc[:, 1]) <= 1.2]
    pts = centres_mm[:, None, :] + disc[None] * half_axes_mm[:, None, :]
    px = np.round(pts * PX_PER_MM - 0.5).astype(int)
    inside = (px[..., 0] >= 0) & (px[..., 0] < w) & (px[..., 1] >= 0) & (px[..., 1] < h)
    hit = np.zeros(px.shape[:2], dtype=bool)
    hit[inside] = mask[px[..., 1][inside], px[..., 0][inside]]
    return hit.mean(axis=1) > 0.02
