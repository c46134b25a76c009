"""Synthetic exam sessions with known truth: roster, exam, marked sheets, scanned stack.

The simulator uses the form model and the form renderer, never the reader
(:mod:`omr.detect`, the pipeline): what it writes is the ground truth the
reader is measured against.
"""

from __future__ import annotations

from omr.simulate.profile import PROFILES, Profile
from omr.simulate.session import simulate_session

__all__ = ["PROFILES", "Profile", "simulate_session"]
