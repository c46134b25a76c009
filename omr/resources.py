"""Where the data shipped with omr lives: built-in forms, calibration, fonts."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(kind: str) -> Path:
    """Folder of the shipped ``forms`` or ``calibration`` files.

    An installed wheel carries them inside the package (``omr/_data/<kind>``);
    a source checkout keeps them at the top level of the repository.
    """
    installed = PACKAGE_DIR / "_data" / kind
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / kind


def font_path(bold: bool = False) -> Path:
    """The shipped DejaVu Sans font file (it has Ğ, Ş, İ; the PDF base fonts do not)."""
    return PACKAGE_DIR / "fonts" / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
