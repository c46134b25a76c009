"""The whole path on small simulated stacks: simulate → run → results → evaluate."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from omr.cli import cli
from omr.errors import ExitCode
from omr.evaluate import evaluate_run
from omr.export import RESULT_COLUMNS
from omr.forms import find_form
from omr.pipeline import run_session
from omr.simulate import simulate_session


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    root = tmp_path_factory.mktemp("sim") / "session"
    truth = simulate_session(find_form("quiz-a5"), 6, 11, root, jobs=1)
    return root, truth


@pytest.fixture
def session(simulated, tmp_path):
    root = tmp_path / "session"
    shutil.copytree(simulated[0], root)
    return root


def _rows(path):
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_run_reads_and_scores_the_stack_exactly(session, simulated):
    summary = run_session(session, jobs=1)
    truth = simulated[1]["sheets"]
    assert summary.sheets == 6 and summary.read_now == 6
    rows = _rows(session / "out" / "results.csv")
    assert list(rows[0]) == RESULT_COLUMNS
    assert {r["sheet"] for r in rows} == set(truth)
    for row in rows:
        want = truth[row["sheet"]]
        assert row["status"] == want["status"]
        assert row["student_id"] == want["identity"]["student_number"]
        if row["status"] == "scored":
            assert int(row["correct"]) + int(row["wrong"]) + int(row["blank"]) == 50
            assert row["group"] == want["group_marks"]
    report = evaluate_run(session / "out", session / "truth.json")
    assert report["silent_errors"] == 0
    assert report["sheets_exact"] == 1.0


def test_scores_match_the_key_computed_independently(session, simulated):
    import yaml

    run_session(session, jobs=1)
    exam = yaml.safe_load((session / "exam.yaml").read_text(encoding="utf-8"))
    (course,) = exam["courses"]
    truth = simulated[1]["sheets"]
    for row in _rows(session / "out" / "results.csv"):
        if row["status"] != "scored":
            continue
        want = truth[row["sheet"]]
        key = course["keys"][want["group_marks"]]
        answers = want["answers"][course["block"]]
        correct = sum(a == k for a, k in zip(answers, key, strict=True))
        assert int(row["correct"]) == correct
        assert float(row["score"]) == pytest.approx(correct / 50 * 100, abs=1e-4)


def test_second_run_resumes_without_reading_again(session):
    first = run_session(session, jobs=1)
    again = run_session(session, jobs=1)
    assert (first.read_now, again.read_now) == (6, 0)
    assert again.statuses == first.statuses
    assert run_session(session, jobs=1, fresh=True).read_now == 6


def test_process_pool_gives_the_same_results(session, tmp_path):
    run_session(session, jobs=1)
    serial = (session / "out" / "results.csv").read_text(encoding="utf-8")
    run_session(session, tmp_path / "pooled", jobs=2)
    assert (tmp_path / "pooled" / "results.csv").read_text(encoding="utf-8") == serial


def test_bad_pages_get_a_status_and_the_rest_goes_on(session):
    scans = session / "scans"
    (scans / "zz-broken.pdf").write_bytes(b"%PDF-1.7 truncated garbage")
    Image.fromarray(np.full((1650, 1165), 246, np.uint8)).save(scans / "zz-blank.png")
    noise = np.random.default_rng(0).integers(0, 255, (1650, 1165), dtype=np.uint8)
    Image.fromarray(noise).save(scans / "zz-noise.png")
    summary = run_session(session, jobs=1)
    statuses = {r["sheet"]: r["status"] for r in _rows(session / "out" / "results.csv")}
    assert statuses["zz-broken.pdf:1"] == "review:unreadable-file"
    assert statuses["zz-blank.png:1"] == "review:blank-page"
    assert statuses["zz-noise.png:1"] == "review:marks-not-found"
    assert sum(s.startswith(("scored", "void")) for s in statuses.values()) == 6
    assert summary.review == 3
    review = _rows(session / "out" / "review.csv")
    assert {r["sheet"] for r in review} == {"zz-broken.pdf:1", "zz-blank.png:1", "zz-noise.png:1"}
    assert all(r["detail"] for r in review)


def test_failed_scoring_leaves_no_partial_results(session, monkeypatch):
    import omr.pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(omr.pipeline, "SessionScoring", broken)
    with pytest.raises(RuntimeError, match="injected"):
        run_session(session, jobs=1)
    assert not (session / "out" / "results.csv").exists()
    assert (session / "out" / "session.sqlite").exists()  # the reads are kept


def test_cli_run_and_evaluate(session):
    runner = CliRunner()
    ran = runner.invoke(cli, ["run", str(session), "--jobs", "1"])
    assert ran.exit_code == 0, ran.output
    assert "6 sheets" in ran.output
    evaluated = runner.invoke(
        cli, ["evaluate", str(session / "out"), "--truth", str(session / "truth.json"), "--json"]
    )
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads(evaluated.output)
    assert {"sheets", "sheets_exact", "silent_errors", "review_rate"} <= set(report)
    assert report["sheets"] == 6 and report["silent_errors"] == 0


def test_evaluate_catches_a_silent_error(session):
    run_session(session, jobs=1)
    truth = json.loads((session / "truth.json").read_text(encoding="utf-8"))
    sheet = next(iter(truth["sheets"].values()))
    answers = sheet["answers"]["quiz"]
    answers[0] = "B" if answers[0] != "B" else "C"  # pretend the student marked another option
    (session / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["evaluate", str(session / "out"), "--truth", str(session / "truth.json")]
    )
    assert result.exit_code == ExitCode.silent_errors
    assert "silent errors       1" in result.output


def test_run_exits_10_when_sheets_need_review(session):
    Image.fromarray(np.full((1650, 1165), 246, np.uint8)).save(session / "scans" / "blank.png")
    result = CliRunner().invoke(cli, ["run", str(session), "--jobs", "1"])
    assert result.exit_code == ExitCode.review_needed
    assert "need a person" in result.output


def test_invalid_exam_is_reported_with_key_paths(session):
    text = (session / "exam.yaml").read_text(encoding="utf-8")
    (session / "exam.yaml").write_text(text.replace("groups:", "grups:"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(session)])
    assert result.exit_code == ExitCode.invalid_exam
    assert "grups: unknown key" in result.output
    assert "groups: required key is missing" in result.output


@pytest.mark.slow
def test_200_sheet_session_meets_the_foundation_targets(tmp_path):
    root = tmp_path / "S"
    simulate_session(find_form("central-a4"), 200, 1, root, jobs=2)
    run_session(root, jobs=2)
    report = evaluate_run(root / "out", root / "truth.json")
    assert report["silent_errors"] == 0
    assert report["sheets_exact"] >= 0.99
    assert report["void_right_reason"] == report["void_sheets"] > 0
