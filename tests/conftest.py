"""Shared fixtures: rendered blank sheets and simple synthetic fills."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from hypothesis import settings

from omr.forms import Form, find_form
from omr.render import render_form_pdf

# Property tests draw the same examples on every run, so a CI run is repeatable; to explore
# further, run them with HYPOTHESIS_PROFILE=explore (random draws, more examples).
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def shared_data(name: str) -> Path:
    """``../shared/data/NAME`` beside the project (``OMR_SHARED_DATA`` may point elsewhere)."""
    env = os.environ.get("OMR_SHARED_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return root / name


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: use --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@cache
def _form(name: str) -> Form:
    return find_form(name)


@pytest.fixture
def central() -> Form:
    return _form("central-a4")


@pytest.fixture
def quiz() -> Form:
    return _form("quiz-a5")


@cache
def _blank(name: str, dpi: int) -> np.ndarray:
    pdf = pdfium.PdfDocument(render_form_pdf(_form(name)))
    img = np.asarray(pdf[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L"))
    img.setflags(write=False)
    return img


def blank_sheet(form: Form, dpi: int = 200) -> np.ndarray:
    """The form rendered at ``dpi`` as a grey image (a fresh, writable copy)."""
    return _blank(form.name, dpi).copy()


def fill(
    page: np.ndarray, form: Form, dpi: int, marks: dict, *, level: int = 60, coverage: float = 0.95
) -> np.ndarray:
    """Fill bubbles: ``marks`` maps (field, item) to the option labels to fill.

    ``level`` is the grey value of the fill, ``coverage`` the radius share filled.
    """
    layout = form.layout
    ppm = dpi / 25.4
    for (name, item), options in marks.items():
        f = layout.fields[name]
        for opt in options:
            b = f.index[item, f.option_labels.index(opt)]
            x, y = layout.centers_xy[b] * ppm
            r = layout.radius[b] * ppm * coverage
            cv2.circle(page, (round(x), round(y)), round(r), int(level), -1, cv2.LINE_AA)
    return page


def transform(
    page: np.ndarray, *, degrees: float = 0.0, shift=(0, 0), scale: float = 1.0, canvas=None
) -> np.ndarray:
    """Rotate about the centre (counter-clockwise degrees), scale and shift, white border."""
    h, w = page.shape
    out_h, out_w = canvas or (h, w)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, scale)
    m[:, 2] += np.array(shift, dtype=float) + (np.array([out_w, out_h]) - [w, h]) / 2
    return cv2.warpAffine(page, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=255)
