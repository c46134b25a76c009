"""Reading a page: registration, bubble measurement and decisions. Knows forms and pixels only."""

from __future__ import annotations

from omr.detect.read import read_page

__all__ = ["read_page"]
