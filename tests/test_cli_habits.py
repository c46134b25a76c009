"""CLI habits: -h, -q/-v, exit codes (documented), -o/--out, hints, --json, the progress bar."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from simhelpers import quiz_session, session_copy

from omr.cli import cli
from omr.cli.progress import ETA_AFTER, Progress, eta_seconds
from omr.errors import ExitCode

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def omr(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    return quiz_session(tmp_path_factory.mktemp("habits") / "session", 6)


@pytest.fixture
def session(ran, tmp_path):
    return session_copy(ran, tmp_path)


def _drop_from_roster(session: Path) -> str:
    """Take the first scored candidate off the roster: their sheet goes to review."""
    with (session / "out" / "results.csv").open(encoding="utf-8") as fh:
        number = next(r["student_id"] for r in csv.DictReader(fh) if r["status"] == "scored")
    lines = (session / "roster.csv").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith(number + ",")]
    assert len(kept) == len(lines) - 1
    (session / "roster.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return number


@pytest.mark.parametrize("args", [["-h"], ["run", "-h"], ["forms", "-h"], ["review", "set", "-h"]])
def test_dash_h_is_help_everywhere(args):
    result = omr(*args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ")


def test_forms_help_names_every_subcommand():
    text = omr("forms", "--help").output
    head = text.split("Commands:")[0]
    for name in ("list", "render", "check", "fit"):
        assert f"omr forms {name}" in head, name


def test_every_exit_code_is_documented_in_the_readme_and_the_help():
    table = README.split("| exit status |", 1)[1].split("\n\n", 1)[0]
    documented = {int(n) for n in re.findall(r"^\| `(\d+)` \|", table, re.M)}
    assert documented == {int(c) for c in ExitCode}
    epilog = omr("--help").output
    for code in ExitCode:
        assert re.search(rf"^\s+{int(code)}\s+\S", epilog, re.M), code


@pytest.mark.parametrize(
    "args",
    [
        ["run", "{missing}"],
        ["report", "{missing}"],
        ["evaluate", "{missing}", "--truth", "{missing}"],
        ["review", "list", "{missing}"],
        ["forms", "check", "central-a4", "{missing}"],
    ],
)
def test_a_missing_path_is_an_input_error(tmp_path, args):
    missing = tmp_path / "nowhere"
    result = omr(*[a.format(missing=missing) for a in args])
    assert result.exit_code == ExitCode.input_file == 3, result.output
    assert f"{missing} does not exist" in result.output


def test_a_file_where_a_session_folder_is_expected_gets_a_hint(ran):
    pdf = next((ran / "scans").iterdir())
    result = omr("run", pdf)
    assert result.exit_code == 3
    assert "is a file, not a folder" in result.output
    assert "a session folder holds exam.yaml and scans/" in result.output
    report = omr("report", ran / "out" / "results.csv")
    assert report.exit_code == 3 and "OUT is the folder 'omr run' wrote" in report.output


def test_report_exits_10_while_sheets_are_held_and_0_when_none(session):
    clean = omr("report", session / "out")
    held_before = json.loads(omr("report", session / "out", "--json").output)["review"]
    assert clean.exit_code == (10 if held_before else 0)
    _drop_from_roster(session)
    result = omr("report", session / "out")
    assert result.exit_code == ExitCode.review_needed == 10, result.output
    assert "need a person" in result.output


def test_run_and_report_print_a_json_summary(session):
    _drop_from_roster(session)
    result = omr("run", session, "--json")
    assert result.exit_code == 10
    data = json.loads(result.output)
    assert data["command"] == "run" and data["exit_status"] == 10
    assert data["sheets"] == 6 and data["review"] >= 1 and data["read_now"] == 0
    assert sum(data["statuses"].values()) == 6
    assert Path(data["files"]["results.xlsx"]).is_file()
    report = json.loads(omr("report", session / "out", "--json").output)
    assert report["command"] == "report"
    assert report["statuses"] == data["statuses"]


def test_quiet_prints_nothing_and_verbose_is_accepted_before_or_after(session):
    for args in (["-q", "report", session / "out"], ["report", session / "out", "-q"]):
        result = omr(*args)
        assert result.exit_code == 0 and result.output == "", result.output
    loud = omr("-v", "report", session / "out")
    assert loud.exit_code == 0 and "reports rewritten" in loud.output


def test_output_options_are_o_and_out_and_old_spellings_still_work(tmp_path):
    for spelling in ("-o", "--out", "--output"):
        pdf = tmp_path / f"sheet{spelling}.pdf"
        result = omr("forms", "render", "quiz-a5", spelling, pdf)
        assert result.exit_code == 0, result.output
        assert pdf.read_bytes().startswith(b"%PDF")
    for command in (["forms", "render"], ["forms", "check"], ["simulate"], ["run"]):
        text = omr(*command, "--help").output
        assert re.search(r"-o, --out ", text), command
        assert "--output" not in text, command


def test_lang_option_writes_english(session):
    result = omr("report", session / "out", "--lang", "en")
    assert result.exit_code == 0
    page = (session / "out" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "Objection windows" in page
    assert omr("report", session / "out", "--lang", "de").exit_code == 2


# --------------------------------------------------------------------------- progress


def test_eta_counts_from_the_first_page_on_a_moving_rate():
    # The workers take 10 s to start, then a page takes 1 s: the first page comes at
    # t = 10, the fifth at t = 14, and 95 pages are left.
    times = [10.0 + i for i in range(5)]
    assert eta_seconds(times[:ETA_AFTER], ETA_AFTER, 100) is None  # too few pages yet
    assert eta_seconds(times, 5, 100) == pytest.approx(95.0)
    # From the start of the run, as an average, it would say 95 * 14/5 = 266 s.
    slower = [0.0, 2.0, 4.0, 6.0, 8.0]  # the rate halves: the window follows it
    assert eta_seconds(slower, 50, 100) == pytest.approx(100.0)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_shows_the_time_left_after_a_few_pages():
    clock = iter([10.0 + i for i in range(10)])
    screen = _Terminal()
    with Progress("reading", file=screen, clock=lambda: next(clock)) as bar:
        bar.start(100)
        for _ in range(ETA_AFTER):
            bar.step()
        early = screen.getvalue()
        for _ in range(ETA_AFTER, 10):
            bar.step()
    assert "reading" in early and "left" not in early
    assert "01:30 left" in screen.getvalue()  # 90 pages at 1 s each


def test_progress_bar_is_silent_off_a_terminal_and_under_quiet():
    pipe = io.StringIO()
    with Progress("reading", file=pipe) as bar:
        bar.start(10)
        bar.step()
    assert pipe.getvalue() == ""
    with Progress("reading", file=_Terminal(), enabled=False) as bar:
        bar.start(10)
        bar.step()
        assert bar.bar is None


def test_shell_completion_is_documented():
    assert "_OMR_COMPLETE=bash_source omr" in README
