"""What registration gives: a fit of the form onto the page, or why there is none."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Registration:
    """A page aligned to its form.

    ``matrix`` (3, 3) maps form millimetres (x, y, 1) to image pixels.
    ``paper`` and ``ink`` are the grey levels of blank paper and of the solid
    marks on this page: the page's own white and black references.
    """

    matrix: np.ndarray
    residual_mm: float
    rotation_deg: float
    upside_down: bool
    px_per_mm: float
    marks_found: int
    marks_expected: int
    ink: float
    proof: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return True

    def summary(self) -> dict:
        """The numbers a person checks, as plain data."""
        return {
            "residual_mm": round(self.residual_mm, 3),
            "rotation_deg": round(self.rotation_deg, 2),
            "upside_down": self.upside_down,
            "px_per_mm": round(self.px_per_mm, 3),
            "marks_found": self.marks_found,
            "marks_expected": self.marks_expected,
            **self.proof,
        }


@dataclass(frozen=True)
class RegistrationFailed:
    """Why a page could not be registered; falsy."""

    reason: str
    message: str
    proof: dict = field(default_factory=dict)
    matrix: np.ndarray | None = None  # the fit that was refused, when there was one

    def __bool__(self) -> bool:
        return False
