"""Read one page image against a form: register, measure, decide."""

from __future__ import annotations

import numpy as np

from omr.calibration import Calibration
from omr.detect.decide import decide_fields
from omr.detect.measure import bubble_points, measure_bubbles
from omr.detect.register import register_page
from omr.forms import Form
from omr.records import SheetRead

_POINTS: dict[int, tuple[Form, np.ndarray]] = {}


def _points(form: Form) -> np.ndarray:
    """Sample points of the form's bubbles, computed once per form object."""
    cached = _POINTS.get(id(form))
    if cached is None or cached[0] is not form:
        cached = _POINTS[id(form)] = (form, bubble_points(form.layout))
    return cached[1]


def read_page(
    gray: np.ndarray,
    form: Form,
    calibration: Calibration,
    *,
    sheet_id: str = "",
    source: str = "",
    page: int = 0,
    dpi: float | None = None,
) -> SheetRead:
    """Everything that can be read from one page, or the reason it cannot.

    Parameters
    ----------
    gray : (M, N) ndarray of uint8
        The page in grey levels.
    form, calibration
        What the sheet should look like and the scanner's thresholds.
    """
    base = {"sheet_id": sheet_id, "source": source, "page": page, "form": form.name, "dpi": dpi}
    reg = register_page(gray, form)
    if not reg:
        return SheetRead(**base, problem=reg.reason, message=reg.message)
    measures = measure_bubbles(gray, reg.matrix, _points(form), ink=reg.ink)
    fields, levels = decide_fields(measures.darkness, form.layout, calibration.marks)
    return SheetRead(
        **base,
        fields=fields,
        registration=reg.summary(),
        levels={**levels.as_dict(), "paper": round(measures.paper, 1), "ink": round(reg.ink, 1)},
    )
