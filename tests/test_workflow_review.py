"""Review decisions: the queue, the annotated sheet, decisions on top of the reads."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from workflow_helpers import plant, unsure

from omr.cli import cli
from omr.pipeline import run_session
from omr.store import STORE_NAME, Store

DEMO = Path(__file__).resolve().parent.parent / "samples" / "demo"
LATE = "stack-02.pdf"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The demo session with only its first stack read, and two doubts planted."""
    root = tmp_path_factory.mktemp("wf") / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns("out", LATE))
    run_session(root, jobs=1)
    out = root / "out"
    plant(out, "stack-01.pdf:3", "course1", 2, unsure())  # TUR101 q3
    plant(out, "stack-01.pdf:4", "group", 0, unsure("", "BC", "ambiguous-multiple"))
    return root


@pytest.fixture
def session(base, tmp_path):
    root = tmp_path / "demo"
    shutil.copytree(base, root)
    assert omr("report", root / "out").exit_code == 10  # the two planted doubts are held
    return root


def omr(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def rows(out: Path, sheet: str) -> list[dict]:
    with (out / "results.csv").open(encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["sheet"] == sheet]


def audit(out: Path) -> list[dict]:
    with Store(out / STORE_NAME) as store:
        return store.records("audit")


def test_the_queue_names_the_doubts_and_what_to_decide(session):
    result = omr("review", "list", session / "out")
    assert result.exit_code == 0
    assert "stack-01.pdf:3 TUR101  review:faint  q3 (faint): marked none, unsure B" in result.output
    assert "decide: TUR101:3" in result.output
    assert "stack-01.pdf:4  review:group-unclear" in result.output
    assert "decide: group" in result.output
    assert "2 line(s) in review" in result.output


def test_a_decided_sheet_is_scored_and_the_act_is_audited(session):
    out = session / "out"
    assert rows(out, "stack-01.pdf:3")[0]["status"] == "review:faint"
    result = omr(
        "review", "set", out, "stack-01.pdf:3", "TUR101:3", "C", "--by", "ayse", "--why", "C clear"
    )
    assert result.exit_code == 0, result.output
    assert "TUR101 q3: ?B -> C (nothing left in doubt: scored)" in result.output
    tur = rows(out, "stack-01.pdf:3")[0]
    assert tur["status"] == "scored" and tur["answers"][2] == "C"
    (entry,) = audit(out)
    assert (entry["by"], entry["command"], entry["target"]) == (
        "ayse",
        "omr review set",
        "stack-01.pdf:3 TUR101 q3",
    )
    assert (entry["before"], entry["after"], entry["why"]) == ("?B", "C", "C clear")
    # the read itself is kept as the reader made it
    with Store(out / STORE_NAME) as store:
        assert store.reads(["stack-01.pdf:3"])[0].fields["course1"].items[2].state == "unsure"


def test_a_sheet_with_doubts_left_stays_in_review(session):
    out = session / "out"
    plant(out, "stack-01.pdf:5", "course1", 0, unsure())
    plant(out, "stack-01.pdf:5", "course1", 1, unsure())
    result = omr(
        "review", "set", out, "stack-01.pdf:5", "TUR101:1", "blank", "--by", "a", "--why", "w"
    )
    assert "still in review" in result.output
    assert rows(out, "stack-01.pdf:5")[0]["status"].startswith("review:")
    omr("review", "set", out, "stack-01.pdf:5", "TUR101:2", "AD", "--by", "a", "--why", "w")
    tur = rows(out, "stack-01.pdf:5")[0]
    assert tur["status"] == "scored"
    assert tur["answers"][:6] == "'-[AD]" and tur["blank"] != "" and int(tur["multiple"]) >= 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("stack-09.pdf:1", "group", "B"), "no sheet 'stack-09.pdf:1'"),
        (
            ("stack-01.pdf:4", "TUR101:21", "B"),
            "question 21 out of range, TUR101 has questions 1-20",
        ),
        (("stack-01.pdf:4", "TUR101:2", "F"), "'F' is not an option on the form (ABCDE, or blank)"),
        (("stack-01.pdf:4", "XYZ:2", "B"), "no course 'XYZ' in the exam"),
        (("stack-01.pdf:4", "group", "F"), "group: 'F' is not an option"),
        (("stack-01.pdf:4", "student_id", "12"), "student_number: give all 10 digits"),
        (("stack-01.pdf:4", "national_id", "12345678901"), "national_id 123******01: check digits"),
        (("stack-01.pdf:4", "absent", "maybe"), "absent: give marked or blank"),
        (("stack-01.pdf:4", "sheet", "keep"), "sheet: give score or void"),
        (("stack-01.pdf:4", "colour", "B"), "unknown field 'colour'"),
    ],
)
def test_bad_arguments_exit_2_and_change_nothing(session, args, message):
    out = session / "out"
    before = (out / "results.csv").read_bytes()
    result = omr("review", "set", out, *args, "--by", "ayse", "--why", "w")
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert audit(out) == []
    assert (out / "results.csv").read_bytes() == before


def test_by_and_why_are_required_and_not_empty(session):
    out = session / "out"
    assert omr("review", "set", out, "stack-01.pdf:4", "group", "B", "--by", "a").exit_code == 2
    result = omr("review", "set", out, "stack-01.pdf:4", "group", "B", "--by", " ", "--why", "w")
    assert result.exit_code == 2 and "say who decides" in result.output
    assert audit(out) == []


def test_the_audit_log_never_holds_a_national_id_in_full(session):
    out = session / "out"
    with Store(out / STORE_NAME) as store:
        read = store.reads(["stack-01.pdf:6"])[0]
    old = read.fields["national_id"].text()
    new = "10000000146"
    result = omr(
        "review", "set", out, "stack-01.pdf:6", "national_id", new, "--by", "a", "--why", "w"
    )
    assert result.exit_code == 0, result.output
    (entry,) = audit(out)
    text = " ".join(str(v) for v in entry.values())
    assert old not in text and new not in text and "100******46" in text
    assert old not in result.output and new not in result.output


def test_decisions_survive_a_late_stack_and_a_report(session):
    out = session / "out"
    omr("review", "set", out, "stack-01.pdf:3", "TUR101:3", "C", "--by", "a", "--why", "w")
    omr("review", "set", out, "stack-01.pdf:4", "group", "B", "--by", "a", "--why", "w")
    shutil.copy(DEMO / "scans" / LATE, session / "scans" / LATE)
    result = omr("run", session, "-j", "1")
    assert "read 20 page(s)" in result.output
    assert "need a person" not in result.output
    assert rows(out, "stack-01.pdf:3")[0]["status"] == "scored"
    assert rows(out, "stack-01.pdf:4")[0]["group"] == "B"
    assert len(rows(out, "stack-02.pdf:1")) == 4
    assert omr("report", out).exit_code == 0
    assert rows(out, "stack-01.pdf:3")[0]["answers"][2] == "C"
    assert omr("review", "list", out).output.strip() == "nothing to review"


def test_a_sheet_ruling_voids_or_scores_the_sheet(session):
    out = session / "out"
    omr("review", "set", out, "stack-01.pdf:7", "sheet", "void", "--by", "a", "--why", "report 12")
    assert {r["status"] for r in rows(out, "stack-01.pdf:7")} == {"void:decided"}
    # a ruling to score does not clear an item in doubt
    omr("review", "set", out, "stack-01.pdf:3", "sheet", "score", "--by", "a", "--why", "w")
    assert rows(out, "stack-01.pdf:3")[0]["status"] == "review:faint"


def test_a_decision_file_is_applied_in_one_go_or_not_at_all(session, tmp_path):
    out = session / "out"
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "sheet,course,status,detail,decision,by,why\n"
        "stack-01.pdf:3,TUR101,review:faint,,q3=C,ayse,clear\n"
        "stack-01.pdf:4,,review:group-unclear,,group=Q,ayse,clear\n",
        encoding="utf-8",
    )
    result = omr("review", "apply", out, bad)
    assert result.exit_code == 2
    assert "line 3: group: 'Q' is not an option" in result.output
    assert audit(out) == [] and rows(out, "stack-01.pdf:3")[0]["status"] == "review:faint"
    good = tmp_path / "good.csv"
    good.write_text(bad.read_text().replace("group=Q,ayse,clear", "group=B,,"), encoding="utf-8")
    result = omr("review", "apply", out, good, "--by", "mehmet", "--why", "desk 3 Dec")
    assert result.exit_code == 0, result.output
    assert [(e["target"], e["by"], e["why"]) for e in audit(out)] == [
        ("stack-01.pdf:3 TUR101 q3", "ayse", "clear"),
        ("stack-01.pdf:4 group", "mehmet", "desk 3 Dec"),
    ]
    assert omr("review", "list", out).output.strip() == "nothing to review"


def _pixels(path: Path, rgb, *, below: int = 0) -> int:
    """Pixels of colour ``rgb`` (within a little), ``below`` the first rows (the caption)."""
    img = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB).astype(int)[below:]
    return int((np.abs(img - np.array(rgb)).sum(axis=2) < 30).sum())


def test_review_show_colours_the_doubt_and_then_the_decision(session):
    from omr.annotate import COLOURS

    out = session / "out"
    result = omr("review", "show", out, "stack-01.pdf:3")
    assert result.exit_code == 0, result.output
    page, crop = (
        out / "review" / "stack-01.pdf-p3.png",
        out / "review" / "stack-01.pdf-p3.doubt.png",
    )
    assert f"wrote {page}" in result.output and f"wrote {crop}" in result.output
    band = 120  # the caption and legend above the page
    assert _pixels(page, COLOURS["unsure"], below=band) > 300  # one bubble's thick outline
    assert _pixels(crop, COLOURS["unsure"]) > 300
    assert _pixels(page, COLOURS["marked"], below=band) > 60 * 200  # every answer read
    assert _pixels(page, COLOURS["decided"], below=band) == 0
    omr("review", "set", out, "stack-01.pdf:3", "TUR101:3", "C", "--by", "a", "--why", "w")
    result = omr("review", "show", out, "stack-01.pdf:3")
    assert f"wrote {crop}" not in result.output
    assert _pixels(page, COLOURS["unsure"], below=band) < 20
    assert _pixels(page, COLOURS["decided"], below=band) > 300
    assert omr("review", "show", out, "nope:1").exit_code == 2


def test_an_old_store_is_upgraded_by_report_and_scores_the_same(session, tmp_path):
    from test_store import old_store

    out = session / "out"
    with Store(out / STORE_NAME) as store:
        reads = store.reads()
    before = (out / "results.csv").read_text(encoding="utf-8")
    old = tmp_path / "old"
    old.mkdir()
    old_store(old / STORE_NAME, reads)
    result = omr("report", old, "--session", session)
    assert result.exit_code == 10, result.output  # the planted doubts are held
    assert (old / "results.csv").read_text(encoding="utf-8") == before


STUDENT = "2485240850"  # stack-01.pdf:1 in the demo


def _add(out, *extra, kind="question", date="2026-11-16", item=("--item", 5)):
    return omr(
        "objection", "add", out, "--student", STUDENT, "--course", "TUR101", "--kind", kind,
        "--date", date, *item, "--text", "I marked B", "--by", "ofis", *extra,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"date": "2026-11-13"}, "--date 2026-11-13: before the exam (2026-11-14)"),
        ({"date": "16.11.2026"}, "give the date as YYYY-MM-DD"),
        (
            {"kind": "result", "date": "2026-11-19"},
            "before the results were announced (2026-11-20)",
        ),
        ({"item": ("--item", 21)}, "--item 21: out of range, TUR101 has items 1-20"),
        ({"item": ()}, "a question objection names the item"),
    ],
)
def test_a_bad_objection_exits_2_and_records_nothing(session, kw, message):
    out = session / "out"
    result = _add(out, **kw)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert audit(out) == []


def test_an_objection_for_an_unknown_student_is_refused(session):
    out = session / "out"
    result = omr(
        "objection", "add", out, "--student", "1", "--course", "TUR101", "--kind", "result",
        "--date", "2026-11-23", "--text", "t", "--by", "ofis",
    )  # fmt: skip
    assert result.exit_code == 2 and "no sheet was read for student '1'" in result.output


def test_a_result_objection_accepted_corrects_the_read(session):
    out = session / "out"
    before = rows(out, "stack-01.pdf:1")[0]
    result = _add(out, kind="result", date="2026-11-27", item=())
    assert "on time (deadline 2026-12-01)" in result.output, result.output
    bad = omr("objection", "decide", out, 1, "--accept", "--by", "a", "--why", "w")
    assert bad.exit_code == 2 and "--set FIELD=VALUE" in bad.output
    result = omr(
        "objection", "decide", out, 1, "--accept", "--set", "TUR101:4=D",
        "--by", "ofis", "--why", "D is marked, read as B",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    after = rows(out, "stack-01.pdf:1")[0]
    assert after["answers"][3] == "D" and after["answers"] != before["answers"]
    assert f"score {float(before['score']):.4f} -> {float(after['score']):.4f}" in result.output
    assert (out / "objections" / "objection-1.pdf").read_bytes().startswith(b"%PDF")
    again = omr("objection", "decide", out, 1, "--reject", "--by", "a", "--why", "w")
    assert again.exit_code == 2 and "already accepted" in again.output
    assert omr("objection", "decide", out, 9, "--reject", "--by", "a", "--why", "w").exit_code == 2


def test_show_finds_the_candidate_and_writes_the_sheet(session):
    out = session / "out"
    result = omr("show", out, STUDENT)
    assert result.exit_code == 0, result.output
    assert "stack-01.pdf:1: stack-01.pdf page 1" in result.output
    for code in ("TUR101", "ATA101", "ING101", "BIL101"):
        assert f"  {code}  group C  scored" in result.output
    assert (out / "show" / "stack-01.pdf-p1.png").is_file()
    assert "741" not in result.output  # nothing of the national ID
    assert omr("show", out, "0000000000").exit_code == 2
