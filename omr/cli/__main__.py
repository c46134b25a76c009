"""``python -m omr.cli``."""

from __future__ import annotations

from omr.cli import main

main()
