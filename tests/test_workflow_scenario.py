"""Issue 14's "done when": a whole session acted on from the CLI, step by step."""

from __future__ import annotations

import csv
from pathlib import Path

import pypdfium2 as pdfium
import yaml
from click.testing import CliRunner
from workflow_helpers import plant, unsure

from omr.cli import cli
from omr.store import STORE_NAME, Store


def omr(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def results(out: Path) -> dict[tuple[str, str], dict]:
    with (out / "results.csv").open(encoding="utf-8") as fh:
        return {(r["sheet"], r["course"]): r for r in csv.DictReader(fh)}


def expected_score(row: dict, course: dict, cancelled: set[int], also: dict[int, str]) -> float:
    """The score computed here from the answers read and the key (drop policy, no penalty)."""
    group = row["group"]
    key = course["keys"][group]
    order = course["order"][group] if "order" in course else list(range(1, len(key) + 1))
    tokens, answers, i = [], row["answers"], 0
    while i < len(answers):  # one token per question: A, -, [AC]
        if answers[i] == "[":
            j = answers.index("]", i)
            tokens.append(answers[i + 1 : j])
            i = j + 1
        else:
            tokens.append("" if answers[i] == "-" else answers[i])
            i += 1
    right = counted = 0
    for pos, (answer, master) in enumerate(zip(tokens, order, strict=True)):
        if master in cancelled:
            continue
        counted += 1
        ok = {key[pos], *([also[master]] if master in also else [])}
        right += len(answer) == 1 and answer in ok
    return right / counted * 100


def test_a_session_acted_on_end_to_end(tmp_path):
    s = tmp_path / "S"
    assert omr("simulate", "--sheets", 12, "--seed", 5, "--out", s, "-j", 1).exit_code == 0
    omr("run", s, "-j", 1)
    out = s / "out"
    exam = yaml.safe_load((s / "exam.yaml").read_text(encoding="utf-8"))
    tur = next(c for c in exam["courses"] if c["code"] == "TUR101")
    first = results(out)
    scored = sorted(k[0] for k, r in first.items() if k[1] == "TUR101" and r["status"] == "scored")
    a, b = scored[0], scored[1]
    plant(out, a, "course1", 0, unsure())
    plant(out, b, "course2", 4, unsure("A", "C", "erasure-or-answer"))
    assert "scored with key v1 (" in omr("report", out).output
    queue = omr("review", "list", out).output
    assert f"{a} TUR101" in queue and f"{b} ATA101" in queue

    # scanning staff decide the two items in doubt
    assert (
        omr("review", "set", out, a, "TUR101:1", "B", "--by", "ayse", "--why", "B clear").exit_code
        == 0
    )
    assert (
        omr("review", "set", out, b, "ATA101:5", "A", "--by", "ayse", "--why", "C erased").exit_code
        == 0
    )
    assert f"{a} TUR101" not in omr("review", "list", out).output

    # the instructor cancels item 3 of TUR101 (v2)
    result = omr("key", "cancel", out, "TUR101", 3, "--by", "hoca", "--why", "two right options")
    assert result.exit_code == 0, result.output
    assert "key v2: TUR101 item 3" in result.output

    # student affairs: one question objection on time, one late
    student = results(out)[(a, "TUR101")]["student_id"]
    on_time = omr(
        "objection", "add", out, "--student", student, "--course", "TUR101", "--kind", "question",
        "--date", "2026-11-16", "--item", 7, "--text", "D is right too", "--by", "ofis",
    )  # fmt: skip
    assert "objection 1 recorded: question, TUR101, on time" in on_time.output, on_time.output
    late = omr(
        "objection", "add", out, "--student", student, "--course", "TUR101", "--kind", "question",
        "--date", "2026-11-30", "--item", 8, "--text", "late", "--by", "ofis",
    )  # fmt: skip
    assert "objection 2 recorded and refused" in late.output
    assert "deadline 2026-11-" in late.output
    listed = omr("objection", "list", out).output
    assert "open" in listed and "refused-late" in listed
    assert omr("objection", "decide", out, 2, "--reject", "--by", "x", "--why", "y").exit_code == 2

    # the on-time one is accepted: D accepted on item 7 too (v3)
    result = omr(
        "objection", "decide", out, 1, "--accept", "--also", "D", "--by", "hoca", "--why", "D right"
    )
    assert result.exit_code == 0, result.output
    pdf = out / "objections" / "objection-1.pdf"
    assert f"wrote {pdf}" in result.output
    doc = pdfium.PdfDocument(pdf)
    assert len(doc) == 1
    text = doc[0].get_textpage().get_text_range()
    # A Turkish exam definition: the answer is in Turkish.
    assert student in text and "D right" in text and "kabul edildi" in text

    # three key versions, scores as computed here
    history = omr("key", "history", out).output.strip().splitlines()
    assert [line.split()[0] for line in history] == ["v1", "v2", "v3"]
    now = results(out)
    changed = set()
    for (sheet, course), row in now.items():
        if course != "TUR101" or row["status"] != "scored":
            continue
        want = expected_score(row, tur, {3}, {7: "D"})
        assert abs(float(row["score"]) - want) < 1e-3, sheet
        if abs(expected_score(row, tur, set(), {}) - want) > 1e-9:
            changed.add(row["student_id"])
    assert changed
    diff = omr("key", "diff", out, "--from", 1, "--to", 3).output
    named = {line.split()[0] for line in diff.splitlines() if line.startswith("  ")}
    assert named == changed
    assert f"{len(changed)} result(s) changed" in diff

    # the audit log holds every step, with who and why
    with Store(out / STORE_NAME) as store:
        log = store.records("audit")
    steps = [(e["command"], e["by"]) for e in log]
    assert steps == [
        ("omr review set", "ayse"),
        ("omr review set", "ayse"),
        ("omr key cancel", "hoca"),
        ("omr objection add", "ofis"),
        ("omr objection add", "ofis"),
        ("omr objection decide 1", "hoca"),
        ("omr objection decide 1", "hoca"),
    ]
    assert all(e["why"] and e["at"] for e in log)

    # a rerun of report keeps it all, and says which key it scored with
    rerun = omr("report", out)
    assert results(out) == now
    assert "scored with key v3 (" in rerun.output and "hoca: objection 1: D right)" in rerun.output
    assert '"key_version": 3' in omr("report", out, "--json").output
