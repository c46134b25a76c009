"""The whole command over a mixed stack: good sheets among every kind of bad input.

Every good sheet is read right, every odd page holding a candidate's sheet is read right
or held for a person, every bad page or file is in ``review.csv`` with its reason, nothing
is left out, and a second run reads nothing again and changes nothing.
"""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner
from hostile.stack import mixed_session

from omr.cli import cli
from omr.errors import ExitCode
from omr.evaluate import evaluate_run


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    root = base / "session"
    expect = mixed_session(root, base / "outside")
    result = CliRunner().invoke(cli, ["run", str(root), "--jobs", "2"])
    return root, expect, result


def _rows(path):
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _statuses(root):
    statuses: dict[str, set[str]] = {}
    for row in _rows(root / "out" / "results.csv"):
        if row["status"] != "no-sheet":  # a roster candidate no sheet names: no sheet to check
            statuses.setdefault(row["sheet"], set()).add(row["status"])
    return statuses


def test_the_run_ends_with_results_and_the_review_exit_code(ran):
    _, _, result = ran
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == ExitCode.review_needed, result.output
    assert "Traceback" not in result.output


def test_every_sheet_of_a_candidate_is_read_right_or_held_never_wrong(ran, tmp_path):
    root, expect, _ = ran
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"format": 1, "sheets": expect.truth}), encoding="utf-8")
    report = evaluate_run(root / "out", truth)
    assert report["missing_sheets"] == []
    assert report["silent_errors"] == 0, report["errors"]
    statuses = _statuses(root)
    for sheet in expect.exact:
        assert statuses[sheet] == {expect.truth[sheet]["status"]}, sheet
    for sheet in set(expect.truth) - expect.exact:
        assert statuses[sheet] <= {expect.truth[sheet]["status"]} or any(
            s.startswith("review:") for s in statuses[sheet]
        ), (sheet, statuses[sheet])


def test_every_bad_page_or_file_is_in_review_with_its_reason(ran):
    root, expect, _ = ran
    review: dict[str, list[dict]] = {}
    for row in _rows(root / "out" / "review.csv"):
        review.setdefault(row["sheet"], []).append(row)
    statuses = _statuses(root)
    for sheet, (status, words) in expect.refused.items():
        assert sheet in review, f"{sheet} not in review.csv"
        (row,) = review[sheet]
        assert row["status"].startswith(f"review:{status}"), (sheet, row)
        assert words in row["detail"], (sheet, row["detail"])
    for sheet in expect.held:
        assert all(s.startswith("review:") for s in statuses[sheet]), (sheet, statuses[sheet])
        assert all(row["detail"] for row in review[sheet]), sheet


def test_nothing_is_left_out_and_nothing_unexplained_comes_in(ran):
    root, expect, _ = ran
    known = set(expect.truth) | set(expect.refused) | expect.held
    assert set(_statuses(root)) == known


def test_a_second_run_reads_nothing_again_and_changes_nothing(ran):
    root, _, _ = ran
    before = (root / "out" / "results.csv").read_text(encoding="utf-8")
    again = CliRunner().invoke(cli, ["run", str(root), "--jobs", "1"])
    assert again.exit_code == ExitCode.review_needed, again.output
    assert "page(s) in" not in again.output  # nothing read again
    assert (root / "out" / "results.csv").read_text(encoding="utf-8") == before
