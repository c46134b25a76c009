"""Session reports: items, objections, Excel, rescoring without scans, keys CSV, article 5."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from omr.cli import cli
from omr.errors import InvalidExamError
from omr.exam import Exam, load_exam
from omr.forms import find_form
from omr.pipeline import run_session
from omr.score.analysis import analyse_course
from omr.score.scoring import CourseResult, CourseScore
from omr.simulate import simulate_session


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    root = tmp_path_factory.mktemp("rep") / "session"
    simulate_session(find_form("quiz-a5"), 8, 21, root, jobs=1)
    run_session(root, jobs=1)
    return root


@pytest.fixture
def session(ran, tmp_path):
    root = tmp_path / "session"
    shutil.copytree(ran, root)
    return root


def _rows(path):
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_run_writes_every_report(session):
    out = session / "out"
    assert {
        "results.csv",
        "results.xlsx",
        "review.csv",
        "flagged.csv",
        "items.csv",
        "objections.csv",
        "report.html",
    } <= {p.name for p in out.iterdir()}
    page = (out / "report.html").read_text(encoding="utf-8")
    assert load_exam(session / "exam.yaml").courses[0].code in page
    assert "500" in page  # 8 candidates: the article 5 notice is shown
    items = _rows(out / "items.csv")
    assert {r["group"] for r in items} >= {"all"}
    assert len([r for r in items if r["group"] == "all"]) == 50
    objections = _rows(out / "objections.csv")
    # exam Saturday 2026-11-14: Mon 16, Tue 17, Wed 18; announced Friday 2026-11-20: 7 days.
    assert [(r["kind"], r["deadline"]) for r in objections] == [
        ("question", "2026-11-18"),
        ("result", "2026-12-01"),
    ]
    book = openpyxl.load_workbook(out / "results.xlsx", read_only=True)
    exam = load_exam(session / "exam.yaml")
    # A Turkish exam definition: the workbook is in Turkish (tests/test_excel.py has the rest).
    assert book.sheetnames[:2] == ["Özet", exam.courses[0].code]
    summary = list(book["Özet"].values)
    assert summary[0][:3] == ("ders", "ad", "kâğıt") and summary[1][2] == 8


def test_report_rescores_after_a_cancelled_question_without_scans(session):
    before = {r["sheet"]: r for r in _rows(session / "out" / "results.csv")}
    data = yaml.safe_load((session / "exam.yaml").read_text(encoding="utf-8"))
    course = data["courses"][0]
    for group, key in course["keys"].items():
        course["keys"][group] = ["*", *list(key)[1:]]  # cancel printed question 1 everywhere
    (session / "exam.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    shutil.rmtree(session / "scans")  # proof that nothing is read again
    result = CliRunner().invoke(cli, ["report", str(session / "out")])
    assert result.exit_code == 0, result.output
    after = {r["sheet"]: r for r in _rows(session / "out" / "results.csv")}
    for sheet, row in after.items():
        if row["status"] != "scored":
            continue
        assert before[sheet]["questions"] == "50"
        assert row["questions"] == "49"
        assert int(row["correct"]) + int(row["wrong"]) + int(row["blank"]) == 49
        assert float(row["score"]) == pytest.approx(int(row["correct"]) / 49 * 100, abs=1e-4)


def _swap_group_keys(session, **settings):
    data = yaml.safe_load((session / "exam.yaml").read_text(encoding="utf-8"))
    keys = data["courses"][0]["keys"]
    keys["A"], keys["B"] = keys["B"], keys["A"]
    data.update(settings)
    (session / "exam.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_keys_swapped_between_groups_flag_every_answered_sheet_with_both_scores(session):
    before = {r["sheet"]: r for r in _rows(session / "out" / "results.csv")}
    _swap_group_keys(session)
    result = CliRunner().invoke(cli, ["report", str(session / "out")])
    assert result.exit_code == 0, result.output
    after = {r["sheet"]: r for r in _rows(session / "out" / "results.csv")}
    flagged = {r["sheet"]: r for r in _rows(session / "out" / "flagged.csv")}
    good = [s for s, r in before.items() if r["status"] == "scored" and int(r["correct"]) >= 30]
    assert good
    for sheet in good:
        # Scored under the coded group (article 7.6), listed with what the other would give.
        assert after[sheet]["status"] == "scored"
        assert int(after[sheet]["correct"]) < int(before[sheet]["correct"])
        assert "group-suspect" in after[sheet]["flags"].split(";")
        detail = flagged[sheet]["detail"]
        assert f"{after[sheet]['correct']}/50 right" in detail
        assert f"would give {before[sheet]['correct']}/50" in detail


def test_group_suspect_review_holds_swapped_key_sheets(session):
    _swap_group_keys(session, group_suspect="review")
    result = CliRunner().invoke(cli, ["report", str(session / "out")])
    assert result.exit_code == 10, result.output  # sheets held: as 'omr run' says
    review = {r["sheet"]: r for r in _rows(session / "out" / "review.csv")}
    statuses = [r["status"] for r in _rows(session / "out" / "results.csv")]
    assert statuses.count("review:group-suspect") >= 1
    assert all("would give" in r["detail"] for r in review.values() if "suspect" in r["status"])


def test_keys_can_come_from_a_csv(tmp_path):
    (tmp_path / "keys.csv").write_text(
        "course,group,question,answer\n"
        "C1,A,1,A\nC1,A,2,B|C\nC1,A,3,*\nC1,B,1,D\nC1,B,2,E\nC1,B,3,A\n",
        encoding="utf-8",
    )
    (tmp_path / "exam.yaml").write_text(
        "name: t\ndate: 2026-11-14\nform: central-a4\ngroups: [A, B]\nkeys_file: keys.csv\n"
        "courses:\n  - {code: C1, block: course1, questions: 3}\n",
        encoding="utf-8",
    )
    exam = load_exam(tmp_path / "exam.yaml")
    assert exam.courses[0].key("A") == (frozenset("A"), frozenset("BC"), frozenset())
    assert exam.courses[0].key("B") == (frozenset("D"), frozenset("E"), frozenset("A"))


def test_keys_csv_errors_name_file_and_line(tmp_path):
    (tmp_path / "keys.csv").write_text(
        "course,group,question,answer\nC1,A,1,A\nC1,A,x,B\nC1,A,1,C\nC9,A,1,A\n", encoding="utf-8"
    )
    (tmp_path / "exam.yaml").write_text(
        "name: t\ndate: 2026-11-14\nform: central-a4\ngroups: [A]\nkeys_file: keys.csv\n"
        "courses:\n  - {code: C1, block: course1, questions: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidExamError) as err:
        load_exam(tmp_path / "exam.yaml")
    paths = [p for p, _ in err.value.problems]
    assert "keys.csv:3" in paths and "keys.csv:4" in paths
    assert any("C9" in m for _, m in err.value.problems)


def _exam_data(**course):
    base = {"code": "C1", "block": "course1", "questions": 20, "keys": {"A": "A" * 20}}
    return {
        "name": "t",
        "date": "2026-11-14",
        "form": "central-a4",
        "groups": ["A"],
        "courses": [base | course],
    }


def test_article_5_limits_open_ended_questions():
    two = [{"field": "open1", "points": 10}, {"field": "open2", "points": 10}]
    Exam.model_validate(_exam_data(open_ended=two))
    with pytest.raises(ValueError, match="article 5: 20 multiple-choice questions allow at most 2"):
        Exam.model_validate(_exam_data(open_ended=[*two, {"field": "open3", "points": 5}]))


def test_announcement_before_exam_is_an_error():
    data = _exam_data() | {"announcement_date": "2026-11-01"}
    with pytest.raises(ValueError, match="announced before the exam"):
        Exam.model_validate(data)


def test_wrong_key_in_one_group_is_flagged_in_that_group_only():
    """400 simulated students of known ability; group B's key for master item 7 is wrong."""
    rng = np.random.default_rng(4)
    k, options = 20, tuple("ABCDE")
    master = [options[i % 5] for i in range(k)]
    order_b = list(rng.permutation(k) + 1)
    key_b = [master[m - 1] for m in order_b]
    wrong_pos = order_b.index(7)
    key_b[wrong_pos] = "E" if master[6] != "E" else "A"
    exam = Exam.model_validate(
        {
            "name": "t",
            "date": "2026-11-14",
            "form": "central-a4",
            "groups": ["A", "B"],
            "courses": [
                {
                    "code": "C1",
                    "block": "course1",
                    "questions": k,
                    "keys": {"A": "".join(master), "B": "".join(key_b)},
                    "order": {"B": [int(x) for x in order_b]},
                }
            ],
        }
    )
    course = exam.courses[0]
    rows = []
    for s in range(400):
        group = "AB"[s % 2]
        ability = rng.uniform(0.2, 0.95)
        order = course.master_order(group)
        responses = []
        for pos in range(k):
            right = master[order[pos] - 1]
            wrong = [o for o in options if o != right]
            responses.append(right if rng.random() < ability else str(rng.choice(wrong)))
        rows.append(
            CourseResult(
                f"s:{s}",
                "",
                "",
                group,
                "C1",
                "scored",
                CourseScore(0, 0, 0, 0, k, 0.0),
                tuple(responses),
            )
        )
    analysis = analyse_course(rows, course, exam, options)
    flagged_b = [s.item for s in analysis.by_group["B"] if "key-suspect" in s.flags]
    flagged_a = [s.item for s in analysis.by_group["A"] if "key-suspect" in s.flags]
    assert flagged_b == [7]
    assert flagged_a == []
    pooled = analysis.pooled[6]
    assert "key-mismatch" in pooled.flags and pooled.suspect_groups == ("B",)
