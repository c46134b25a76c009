"""The reader on harder stacks: phone photos and the stress mix (quick runs, quiz-a5)."""

from __future__ import annotations

import pytest

from omr.evaluate import evaluate_run
from omr.forms import find_form
from omr.pipeline import run_session
from omr.simulate import simulate_session


@pytest.mark.parametrize(
    ("profile", "sheets", "seed", "min_exact"),
    [
        ("photo", 4, 3, 0.75),
        ("stress", 12, 8, 0.75),
    ],
)
def test_hard_stacks_have_no_silent_errors(tmp_path, profile, sheets, seed, min_exact):
    root = tmp_path / profile
    simulate_session(find_form("quiz-a5"), sheets, seed, root, profile=profile)
    run_session(root, jobs=1)
    report = evaluate_run(root / "out", root / "truth.json")
    assert report["silent_errors"] == 0, report["errors"]
    assert report["sheets_exact"] >= min_exact
