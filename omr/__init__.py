"""omr: read scanned optical answer sheets and score them under the exam rules."""

from __future__ import annotations

__version__ = "0.1.0"
