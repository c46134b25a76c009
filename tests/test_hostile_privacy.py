"""Personal data: a session with ink sheets, review cases, a decision on a national ID, a
candidate looked up and an objection answered, every command run with ``-vv``; then every
file under OUT (the internal export aside), every line the commands printed or logged and
the store's columns that commands print are searched for any full national ID and any name.

By design the store's page reads (``pages.record``) and the pictures of the scan itself
(``review/``, ``show/``) hold what the sheet shows: they are the evidence, not posted files.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import sqlite3
import zipfile
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner

from omr.cli import cli
from omr.detect.evidence import TILE_PX_PER_MM
from omr.detect.read import ink_evidence
from omr.forms import find_form
from omr.simulate import simulate_session

SEED, SHEETS = 5, 6  # sheets 1 and 4 all in ink, the national ID too
UNLISTED = "stack.pdf:2"  # its candidate taken off the roster: review:not-on-roster
# Store columns a command prints (review list, show, key history, objection list, the audit).
PRINTED_COLUMNS = {
    "audit": ("by", "command", "target", "before", "after", "why"),
    "decisions": ("by", "why"),
    "key_versions": ("by", "command", "why"),
    "objections": ("student", "text"),
    "objection_decisions": ("by", "why", "change"),
}
TILE_WIDTH = round(7 * TILE_PX_PER_MM) + 4  # an evidence tile: its crop and border


def omr(*args) -> str:
    """``omr -vv ARGS``: what it printed (its log is caught by :func:`debug_log`)."""
    result = CliRunner().invoke(cli, ["-vv", *map(str, args)])
    assert result.exit_code in (0, 10), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.output


@contextmanager
def debug_log():
    """Every log record at DEBUG, of omr and of the libraries, as ``-vv`` writes them."""
    stream, root = io.StringIO(), logging.getLogger()
    handler, level = logging.StreamHandler(stream), root.level
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    root = tmp_path_factory.mktemp("privacy") / "S"
    simulate_session(find_form("central-a4"), SHEETS, SEED, root, profile="ink", jobs=1)
    truth = json.loads((root / "truth.json").read_text(encoding="utf-8"))["sheets"]
    roster_path = root / "roster.csv"
    with roster_path.open(encoding="utf-8", newline="") as fh:
        people = list(csv.DictReader(fh))
    unlisted = truth[UNLISTED]["candidate"]
    with roster_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(people[0]))
        writer.writeheader()
        writer.writerows(p for p in people if p["student_number"] != unlisted)
    out = root / "out"
    with debug_log() as log:
        printed = _acts(root, out, truth)
    return root, people, truth, "\n".join([*printed, log.getvalue()])


def _acts(root: Path, out: Path, truth: dict) -> list[str]:
    """Run the session and act on it as staff would; what every command printed."""
    printed = [omr("run", root, "--jobs", "1")]
    with (out / "review.csv").open(encoding="utf-8", newline="") as fh:
        review = {row["sheet"]: row for row in csv.DictReader(fh)}
    inked = [s for s, row in review.items() if row["status"] == "review:non-pencil"]
    # The cases this test is about: a national ID in ink, flagged; a candidate not listed.
    assert any(
        m["field"] == "national_id" and m["medium"] == "ink"
        for s in inked
        for m in truth[s]["marks"]
    ), inked
    assert any("national_id" in review[s]["detail"] for s in inked), review
    assert review[UNLISTED]["status"] == "review:not-on-roster"
    for sheet in review:
        printed.append(omr("review", "show", out, sheet))
    printed.append(omr("review", "list", out))
    national = truth[UNLISTED]["identity"]["national_id"]
    printed.append(
        omr("review", "set", out, UNLISTED, "national_id", national, "--by", "a", "--why", "seen")
    )
    printed.append(omr("review", "set", out, UNLISTED, "sheet", "score", "--by", "a", "--why", "b"))
    student = truth["stack.pdf:3"]["candidate"]
    printed.append(omr("show", out, student))
    printed.append(
        omr(
            *("objection", "add", out, "--student", student, "--course", "TUR101"),
            *("--kind", "question", "--date", "2026-11-16", "--item", "7"),
            *("--text", "B and D are both right", "--by", "ofis"),
        )
    )
    printed.append(
        omr("objection", "decide", out, "1", "--accept", "--also", "D", "--by", "h", "--why", "w")
    )
    printed.append(omr("objection", "list", out))
    printed.append(omr("key", "history", out))
    printed.append(omr("report", out))
    return printed


def _texts(path: Path):
    """(where, text) of a file as a person or a program reads it: a workbook's cells and
    parts, a PDF's text, an image's metadata, any other file's bytes."""
    data = path.read_bytes()
    yield str(path), data.decode("utf-8", "replace")
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            for name in book.namelist():
                yield f"{path}!{name}", book.read(name).decode("utf-8", "replace")
    elif data.startswith(b"%PDF"):
        pdf = pdfium.PdfDocument(data)
        for k, page in enumerate(pdf):
            yield f"{path} page {k + 1}", page.get_textpage().get_text_range()


def _store_texts(store: Path):
    with sqlite3.connect(store) as db:
        for table, columns in PRINTED_COLUMNS.items():
            for row in db.execute(f"SELECT {', '.join(columns)} FROM {table}"):
                yield f"{store.name}:{table}", " ".join(map(str, row))


def _leaks(text: str, people, truth) -> list[str]:
    ids = {p["national_id"] for p in people} | {
        s["identity"]["national_id"] for s in truth.values()
    }
    found = [f"national ID {i[:3]}…" for i in ids if i in text]
    for p in people:
        for name in (f"{p['first_name']} {p['last_name']}", p["last_name"]):
            if re.search(rf"\b{re.escape(name)}\b", text):
                found.append(f"name {name[:2]}…")
    # A national ID spelled digit by digit (``national_id #4: 7``) is as good as whole.
    if re.search(r"national_id #\d+: \d", text):
        found.append("national-ID digits named one by one")
    return found


def test_no_output_log_or_printed_column_holds_a_full_national_id_or_a_name(session):
    root, people, truth, printed = session
    out = root / "out"
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    # Every kind of output this test means to search is there.
    for part in ("results.xlsx", "review.csv", "report.html", "evidence/", "review/", "show/"):
        assert any(n.startswith(part) for n in names), (part, names)
    assert "objections/objection-1.pdf" in names and "internal" not in "".join(names)
    leaks = []
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.name == "session.sqlite":
            continue
        if path.suffix == ".png" and path.parent.name in {"review", "show"}:
            texts = [(str(path), path.name)]  # the scan itself is pictured: names only
        else:
            texts = list(_texts(path))
        leaks += [(where, leak) for where, text in texts for leak in _leaks(text, people, truth)]
    leaks += [("printed", leak) for leak in _leaks(printed, people, truth)]
    for where, text in _store_texts(out / "session.sqlite"):
        leaks += [(where, leak) for leak in _leaks(text, people, truth)]
    assert not leaks, leaks
    assert "DEBUG" in printed  # -vv did log


def test_ink_evidence_pictures_only_the_national_id_digits_the_mask_shows(central):
    """The bubble prints its digit: a tile of a hidden position would show the digit."""
    marks = [
        {"field": "national_id", "item": k, "option": "7", "medium": "ink"}
        | {"saturation": 0.3, "density": 0.5}
        for k in range(11)
    ]
    page = np.full((300, 210, 3), 255, np.uint8)
    png = ink_evidence(page, np.eye(3), {"marks": marks}, central)
    tiles = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR).shape[1] // TILE_WIDTH
    assert tiles == 5  # positions 1-3 and 10-11, as 123******01 shows them
    hidden = [m for m in marks if 3 <= m["item"] < 9]
    assert ink_evidence(page, np.eye(3), {"marks": hidden}, central) == b""
