"""Forms and exams without a booklet group: one key per course, article 7.6 not applicable."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from records import make_field, make_read

from omr.cli import cli
from omr.errors import InvalidExamError, InvalidFormError
from omr.evaluate import evaluate_run
from omr.exam import Exam, check_exam_against_form, load_exam
from omr.export import items_frame
from omr.forms import find_form, load_form
from omr.pipeline import run_session
from omr.records import SheetRead
from omr.render import render_form_pdf
from omr.report_html import render_report
from omr.score.analysis import analyse_course
from omr.score.checks import score_session
from omr.score.scoring import NO_GROUP_NOTE, score_sheet, sheet_status
from omr.simulate import simulate_session

FORMS = Path(__file__).resolve().parents[1] / "forms"


def no_group_form_data(name: str = "quiz-nogroup") -> dict:
    """quiz-a5 with its booklet-group field taken out."""
    data = yaml.safe_load((FORMS / "quiz-a5.yaml").read_text(encoding="utf-8"))
    del data["group"]
    data["name"] = name
    return data


@pytest.fixture
def no_group_form(tmp_path):
    path = tmp_path / "quiz-nogroup.yaml"
    path.write_text(yaml.safe_dump(no_group_form_data(), allow_unicode=True), encoding="utf-8")
    return load_form(path)


def _exam(**course) -> Exam:
    base = {"code": "C1", "block": "course1", "questions": 5}
    return Exam.model_validate(
        {"name": "t", "date": "2026-11-14", "form": "f", "courses": [base | course]}
    )


def _read_without_group(answers="ABCDA", **kw) -> SheetRead:
    read = make_read(answers=answers, **kw)
    fields = {k: v for k, v in read.fields.items() if k != "group"}
    return SheetRead(read.sheet_id, read.source, read.page, read.form, fields=fields)


def test_a_form_without_group_loads_lays_out_and_renders(no_group_form):
    assert no_group_form.group is None
    assert "group" not in no_group_form.layout.fields
    quiz = find_form("quiz-a5")
    assert len(no_group_form.layout) == len(quiz.layout) - len(quiz.group.options)
    assert render_form_pdf(no_group_form).startswith(b"%PDF")


def test_single_key_per_course():
    exam = _exam(key="ABCDE")
    assert exam.groups == []
    assert exam.key_groups == [""]
    assert [sorted(k)[0] for k in exam.courses[0].key("")] == list("ABCDE")


@pytest.mark.parametrize(
    ("course", "message"),
    [
        ({"key": "ABCDE", "keys": {"A": "ABCDE"}}, "give key .* or keys, not both"),
        ({"keys": {"A": "ABCDE"}}, "an exam without booklet groups gives one key"),
        ({"key": "ABC"}, "key has 3 answers, expected 5"),
    ],
)
def test_single_key_errors_name_the_course(course, message):
    with pytest.raises(ValueError, match=message):
        _exam(**course)


def test_a_key_without_group_in_an_exam_with_groups_is_refused(tmp_path):
    path = tmp_path / "exam.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "t",
                "date": "2026-11-14",
                "form": "quiz-a5",
                "groups": ["A"],
                "courses": [{"code": "C1", "block": "quiz", "questions": 5, "key": "ABCDA"}],
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(InvalidExamError, match="a key without a group, but the exam has groups A"):
        load_exam(path)


def test_keys_file_rows_with_an_empty_group(tmp_path):
    (tmp_path / "keys.csv").write_text(
        "course,group,question,answer\n"
        + "".join(f"C1,,{q},{a}\n" for q, a in enumerate("BAD", 1)),
        encoding="utf-8",
    )
    exam_yaml = {
        "name": "t",
        "date": "2026-11-14",
        "form": "f",
        "keys_file": "keys.csv",
        "courses": [{"code": "C1", "block": "quiz", "questions": 3}],
    }
    (tmp_path / "exam.yaml").write_text(yaml.safe_dump(exam_yaml), encoding="utf-8")
    exam = load_exam(tmp_path / "exam.yaml")
    assert exam.courses[0].keys == {"": ["B", "A", "D"]}
    # and a key given both in exam.yaml and in the file is one too many
    exam_yaml["courses"][0]["key"] = "BAD"
    (tmp_path / "exam.yaml").write_text(yaml.safe_dump(exam_yaml), encoding="utf-8")
    with pytest.raises(InvalidExamError, match=r"courses\[0\]\.key: given both"):
        load_exam(tmp_path / "exam.yaml")


def test_exam_and_form_must_agree_on_groups(no_group_form):
    grouped = Exam.model_validate(
        {
            "name": "t",
            "date": "2026-11-14",
            "form": "f",
            "groups": ["A"],
            "courses": [{"code": "C1", "block": "quiz", "questions": 5, "keys": {"A": "ABCDA"}}],
        }
    )
    single = Exam.model_validate(
        {
            "name": "t",
            "date": "2026-11-14",
            "form": "f",
            "courses": [{"code": "C1", "block": "quiz", "questions": 5, "key": "ABCDA"}],
        }
    )
    assert check_exam_against_form(single, no_group_form) == []
    assert [p for p, _ in check_exam_against_form(grouped, no_group_form)] == ["groups"]
    problems = check_exam_against_form(single, find_form("quiz-a5"))
    assert problems == [("groups", "the form codes a booklet group (A, B): list the exam's groups")]


def test_no_group_sheet_is_scored_with_the_one_key():
    exam = _exam(key="ABCDE")
    read = _read_without_group("ABCDA")
    assert sheet_status(read, exam) == "scored"
    (row,) = score_sheet(read, exam)
    assert (row.group, row.score.correct, row.score.wrong) == ("", 4, 1)


def test_article_7_6_still_voids_a_grouped_sheet_without_a_group():
    grouped = Exam.model_validate(
        {
            "name": "t",
            "date": "2026-11-14",
            "form": "f",
            "groups": ["A"],
            "courses": [{"code": "C1", "block": "course1", "questions": 5, "keys": {"A": "ABCDE"}}],
        }
    )
    assert sheet_status(make_read(group=""), grouped) == "void:no-group"
    # a read of a form without the group field, under an exam that needs one
    assert sheet_status(_read_without_group(), grouped) == "review:group-unclear"


def test_no_group_session_checks_and_items_are_pooled_only():
    exam = _exam(key="ABCDE")
    reads = [
        _read_without_group("ABCDE"[:k] + "EEEEE"[k:], sheet_id=f"s.pdf:{k}") for k in range(5)
    ]
    reads = [
        SheetRead(
            r.sheet_id,
            r.source,
            r.page,
            r.form,
            fields=r.fields | {"student_number": make_field("digits", list(f"12345678{i:02d}"))},
        )
        for i, r in enumerate(reads)
    ]
    rows = score_session(reads, exam)
    assert [r.status for r in rows] == ["scored"] * 5
    assert not any("group-suspect" in r.flags for r in rows)
    analysis = analyse_course(rows, exam.courses[0], exam, "ABCDE")
    assert analysis.by_group == {}
    assert set(items_frame([analysis])["group"]) == {"all"}


def test_report_html_says_article_7_6_does_not_apply():
    from omr.report_html import ReportData

    page = render_report(ReportData("t", _exam(key="ABCDE").date, "now", [], 3, (NO_GROUP_NOTE,)))
    assert "article 7.6 not applicable" in page
    assert "article 7.6 not applicable" not in render_report(
        ReportData("t", _exam(key="ABCDE").date, "now", [], 3)
    )


def test_no_group_stack_simulated_run_and_evaluated(tmp_path, no_group_form):
    session = tmp_path / "s"
    truth = simulate_session(no_group_form, 3, 5, session, profile="clean")
    exam = yaml.safe_load((session / "exam.yaml").read_text(encoding="utf-8"))
    assert "groups" not in exam and "key" in exam["courses"][0]
    assert {t["status"] for t in truth["sheets"].values()} == {"scored"}
    # the session reads with the form file beside it
    (session / "quiz-nogroup.yaml").write_text(
        yaml.safe_dump(no_group_form_data(), allow_unicode=True), encoding="utf-8"
    )
    exam["form"] = "quiz-nogroup.yaml"
    (session / "exam.yaml").write_text(yaml.safe_dump(exam, allow_unicode=True), encoding="utf-8")
    summary = run_session(session, jobs=1)
    assert summary.statuses["scored"] == 3
    assert summary.notes == (NO_GROUP_NOTE,)
    report = evaluate_run(session / "out", session / "truth.json")
    assert report["silent_errors"] == 0
    assert report["sheets_exact_count"] == 3
    assert report["questions"] == 150
    # A Turkish exam definition: the report is in Turkish.
    assert "7.6. madde uygulanmaz" in (session / "out" / "report.html").read_text("utf-8")
    result = CliRunner().invoke(cli, ["report", str(session / "out")])
    assert result.exit_code == 0, result.output
    assert f"note: {NO_GROUP_NOTE}" in result.output


def test_a_grouped_form_still_needs_its_group_options(tmp_path):
    data = no_group_form_data()
    data["group"] = {"label": {"tr": "K", "en": "B"}, "origin": [64, 40], "options": ["A"]}
    data["group"]["option_step"] = [0, 6]
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidFormError, match=r"group\.options"):
        load_form(path)


def test_form_problems_are_listed_with_their_key_paths():
    from omr.forms import form_problems

    data = no_group_form_data()
    data["answer_blocks"]["quiz"]["options"] = []
    data["identity"]["student_number"]["digits"] = "eight"
    problems = form_problems(data)
    assert (
        "answer_blocks.quiz.options",
        "List should have at least 1 item after validation, not 0",
    ) in problems
    assert [p for p, _ in problems] == [
        "identity.student_number.digits",
        "answer_blocks.quiz.options",
    ]
    assert form_problems(no_group_form_data()) == []
    # geometry too: a block moved off the page
    data = no_group_form_data()
    data["answer_blocks"]["quiz"]["origin"] = [22, 200]
    assert ("answer_blocks.quiz", "bubbles fall outside the page") in form_problems(data)


def test_model_level_errors_carry_no_pydantic_prefix():
    with pytest.raises(InvalidExamError) as info:
        from omr.definitions import validate

        validate(
            {
                "name": "t",
                "date": "2026-11-14",
                "form": "f",
                "courses": [
                    {"code": "C", "block": "b", "questions": 3, "key": "AB", "keys": {"A": "ABC"}}
                ],
            },
            Exam,
            "exam.yaml",
            InvalidExamError,
        )
    assert info.value.problems == [
        ("courses[0]", "give key (an exam without booklet groups) or keys, not both")
    ]


def test_keys_per_group_without_groups_asks_for_groups(tmp_path):
    path = tmp_path / "exam.yaml"
    course = {"code": "C1", "block": "quiz", "questions": 3, "keys": {"A": "ABC"}}
    path.write_text(
        yaml.safe_dump({"name": "t", "date": "2026-11-14", "form": "f", "courses": [course]}),
        encoding="utf-8",
    )
    with pytest.raises(InvalidExamError) as info:
        load_exam(path)
    assert info.value.problems == [
        ("groups", "required key is missing (keys are given per booklet group)")
    ]
