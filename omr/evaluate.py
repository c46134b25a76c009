"""Compare what a run read with the simulator's truth.

A *silent error* is an item (a question, a digit position, the booklet group, a
proctor box) read with confidence but differently from the truth: it would
change a result without anyone looking. Items the reader sent to review are
counted separately, never as right. Sheets in review are split into those the
truth says a person must see (:func:`needs_person`) and unnecessary ones.

A page the truth records as ``misregistered`` (printed out of register, the
simulator's misregistration stress mode) has no right reading: its bubbles
are not where the form says. Sent to review, or refused (not registered), it
is handled right; scored, voided or marked absent (any result written) it is
a silent error of its own class, ``misregistered-scored``, counted once per
page in the silent-error total (:func:`misregistered_outcome`). Its items are
compared apart (``misregistered.items_wrong``), out of the accuracy figures.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from omr.errors import InputFileError
from omr.forms import find_form
from omr.records import ItemRead, ItemState, SheetRead
from omr.safe_text import from_csv_cell
from omr.store import STORE_NAME, Store


@dataclass
class Tally:
    """Running counts while comparing."""

    bubbles: int = 0
    bubbles_right: int = 0
    bubbles_unsure: int = 0
    questions: int = 0
    questions_right: int = 0
    questions_unsure: int = 0
    errors: list[dict] = field(default_factory=list)
    confusion: Counter = field(default_factory=Counter)  # (truth, read) per bubble
    item_reasons: Counter = field(default_factory=Counter)  # why items went to review
    lost_marks: int = 0  # items read without a mark the scan itself lost
    odd_items: int = 0  # items read from an odd mark alone in its question (reason odd:X)
    odd_right: int = 0


def _item_letters(item: ItemRead) -> tuple[set[str], set[str]]:
    return set(item.value), set(item.unsure)


def _compare_item(
    tally: Tally, sheet: str, where: str, item: ItemRead, truth: str, labels, lost: str = ""
):
    """Count one item's bubbles; record a silent error if it is confidently wrong.

    ``lost`` lists marked options the scan itself lost (a 1-bit threshold wiped
    them out): reading the item without them is not held against the reader.
    """
    marked, unsure = _item_letters(item)
    want = set(truth)
    for label in labels:
        tally.bubbles += 1
        read = "unsure" if label in unsure else "marked" if label in marked else "empty"
        tally.confusion[("marked" if label in want else "blank", read)] += 1
        if label in unsure:
            tally.bubbles_unsure += 1
        elif (label in marked) == (label in want):
            tally.bubbles_right += 1
    if item.state == ItemState.unsure:
        tally.item_reasons[item.reason or "unsure"] += 1
        return "unsure"
    if item.reason.startswith("odd:"):
        tally.odd_items += 1
        tally.odd_right += marked == want
    if lost and marked == want - set(lost) and marked != want:
        tally.lost_marks += 1
        return "lost"
    if marked != want:
        tally.errors.append(
            {"sheet": sheet, "where": where, "read": "".join(sorted(marked)), "truth": truth}
        )
        return "wrong"
    return "right"


def compare_sheet(read: SheetRead, truth: dict, tally: Tally, option_labels: dict) -> bool:
    """Compare one read with its truth; True if every item is read right and surely."""
    if not read.ok:
        return False
    outcomes = []
    fields = read.fields
    sid = read.sheet_id
    if "group" in option_labels:  # a form without booklet groups codes none
        outcomes.append(
            _compare_item(
                tally,
                sid,
                "group",
                fields["group"].items[0],
                truth["group_marks"],
                option_labels["group"],
            )
        )
    for name, value in truth.get("identity", {}).items():
        if name not in fields:
            continue
        labels = option_labels[name]
        for pos, (item, digit) in enumerate(zip(fields[name].items, value, strict=True), 1):
            want = digit if digit in labels else ""  # a digit its grid does not print
            outcomes.append(_compare_item(tally, sid, f"{name}[{pos}]", item, want, labels))
    for name, marked in truth.get("boxes", {}).items():
        if name in fields:
            outcomes.append(
                _compare_item(
                    tally, sid, name, fields[name].items[0], "x" if marked else "", ("x",)
                )
            )
    lost = {}
    for mark in truth.get("marks", []):
        if mark.get("visible") is False and mark.get("option"):
            key = (mark["field"], mark["item"])
            lost[key] = lost.get(key, "") + mark["option"]
    for block, answers in truth.get("answers", {}).items():
        for number, (item, want) in enumerate(zip(fields[block].items, answers, strict=True), 1):
            result = _compare_item(
                tally,
                sid,
                f"{block} q{number}",
                item,
                want,
                option_labels[block],
                lost.get((block, number - 1), ""),
            )
            tally.questions += 1
            tally.questions_right += result == "right"
            tally.questions_unsure += result == "unsure"
            outcomes.append(result)
    return all(o == "right" for o in outcomes)


def ink_tally(ink: dict, read: SheetRead, truth: dict) -> None:
    """Count one sheet for the pencil-or-not report (article 7.7), in place.

    A sheet with a visible mark in pen counts under its pen, split by how the
    pen was used (``all`` marks, the ``answers``, a few ``corrections``)
    beside its total (``sheets``); a sheet in pencil
    only counts as ``pencil_only``. Flagged: any of its read marks is ``ink``.
    """
    marks = read.media.get("marks", [])
    media = [m.get("medium") for m in marks]
    flagged = "ink" in media
    inked = [
        m for m in truth.get("marks", []) if m.get("medium") == "ink" and m.get("visible", True)
    ]
    if not read.media.get("colour"):
        ink["no_colour"] += 1
    if inked:
        pen = truth.get("ink_pen") or inked[0]["pen"]
        row = ink["by_pen"].setdefault(pen, {})
        for key in ("sheets", truth.get("ink_use") or "answers"):
            n, k = row.get(key, (0, 0))
            row[key] = (n + 1, k + flagged)
    else:
        ink["pencil_only"] = (ink["pencil_only"][0] + 1, ink["pencil_only"][1] + flagged)
    pen_of = {(m["field"], m["item"], m["option"]): m["medium"] for m in truth.get("marks", [])}
    for m, medium in zip(marks, media, strict=True):
        truth_medium = pen_of.get((m["field"], m["item"], m["option"]), "none")
        ink["marks"][f"{truth_medium}->{medium}"] += 1


def needs_person(read: SheetRead, truth: dict, statuses: list[str]) -> bool:
    """Whether the truth itself says a person must look at this sheet.

    True for a mis-coded booklet group held as ``group-suspect``, a sheet in
    ink flagged ``non-pencil`` (article 7.7), and a sheet with an unsure item
    holding a circled option or a dot (ambiguous marks: not valid marks under
    article 7.16, yet meant as answers) or a mark the scan itself lost (a
    1-bit threshold left a trace of it: only the paper shows the answer).
    Any other review was unnecessary.
    """
    if truth.get("miscoded_group") and "review:group-suspect" in statuses:
        return True
    if truth.get("ink") and "review:non-pencil" in statuses:
        return True
    answers = truth.get("answers", {})

    def lost_answer(m: dict) -> bool:
        meant = answers.get(m["field"])
        return m.get("visible") is False and meant is not None and m["option"] in meant[m["item"]]

    ambiguous = {
        (m["field"], m["item"])
        for m in truth.get("marks", [])
        if m.get("ambiguous") or lost_answer(m)
    }
    return any(
        item.state == ItemState.unsure and (name, i) in ambiguous
        for name, f in read.fields.items()
        for i, item in enumerate(f.items)
    )


MISREGISTERED_SCORED = "misregistered-scored"


def misregistered_outcome(read: SheetRead, statuses: list[str]) -> str:
    """What became of a page printed out of register: ``scored``, ``review`` or ``refused``.

    ``scored`` when any of its rows in ``results.csv`` carries a result
    (``scored``, ``void:…``, ``absent``: anything but ``review:…``), the
    silent error; ``refused`` when the page was not read (``read.ok`` false,
    e.g. ``marks-not-found``); ``review`` when it was read and held for a
    person.
    """
    if any(not s.startswith("review:") for s in statuses):
        return "scored"
    return "review" if read.ok else "refused"


def _sheet_statuses(results_csv: Path) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """Each sheet's statuses (one per course row) and flags, from ``results.csv``."""
    statuses: dict[str, list[str]] = {}
    flags: dict[str, set[str]] = {}
    with results_csv.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            sheet = from_csv_cell(row["sheet"])
            statuses.setdefault(sheet, []).append(row["status"])
            flags.setdefault(sheet, set()).update(filter(None, row["flags"].split(";")))
    return statuses, flags


def _first_status(rows: list[str]) -> str:
    """A sheet's status in one word: its first review reason, else its first row's status."""
    return next((s for s in rows if s.startswith("review:")), rows[0])


def _with_reads(store_path: Path, truth: dict) -> Iterator[tuple[str, dict, SheetRead | None]]:
    """Each sheet of the truth, what it should read and its stored read (None if none),
    the reads taken from the store one at a time."""
    with Store(store_path) as store:
        for sheet_id, want in truth.items():
            yield sheet_id, want, store.read(sheet_id, measures=False)


def evaluate_run(out_dir: Path, truth_path: Path) -> dict:
    """Accuracy of a run against truth, as plain data (see the module docstring)."""
    store_path, results_csv = out_dir / STORE_NAME, out_dir / "results.csv"
    for path in (store_path, results_csv, truth_path):
        if not path.is_file():
            raise InputFileError(f"{path}: not found (run 'omr run' first?)")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))["sheets"]
    with Store(store_path) as store:
        form = find_form(store.meta().get("form_ref", ""))
    labels = {name: f.option_labels for name, f in form.layout.fields.items()}
    statuses, flags = _sheet_statuses(results_csv)
    tally = Tally()
    exact = review = 0
    void_truth = void_right = 0
    missing = []
    status_pairs: Counter = Counter()
    review_reasons: Counter = Counter()
    needed = 0
    unnecessary_reasons: Counter = Counter()
    group_check: Counter = Counter()
    ink = {"by_pen": {}, "pencil_only": (0, 0), "marks": Counter(), "no_colour": 0}
    misregistered: Counter = Counter()  # (kind, outcome) per page
    misregistered_scored: list[dict] = []
    mis_tally = Tally()
    for sheet_id, want, read in _with_reads(store_path, truth):
        rows = statuses.get(sheet_id)
        if read is None or not rows:
            missing.append(sheet_id)
            continue
        in_review = any(s.startswith("review:") for s in rows)
        misprint = want.get("misregistered")
        if misprint:
            outcome = misregistered_outcome(read, rows)
            misregistered[(misprint["kind"], outcome)] += 1
            review += in_review
            needed += outcome != "scored"  # held or refused: every row is in review
            review_reasons.update(
                {s.removeprefix("review:") for s in rows if s.startswith("review:")}
            )
            if outcome == "scored":
                misregistered_scored.append(
                    {
                        "sheet": sheet_id,
                        "kind": misprint["kind"],
                        "axis": misprint["axis"],
                        "pitches": misprint["pitches"],
                        "status": ";".join(sorted(set(rows))),
                    }
                )
            status_pairs[(f"misregistered:{misprint['kind']}", _first_status(rows))] += 1
            compare_sheet(read, want, mis_tally, labels)
            continue
        if want["status"] == "scored":
            kind = "miscoded" if want.get("miscoded_group") else "honest"
            group_check[kind] += 1
            group_check[f"{kind}_flagged"] += (
                "review:group-suspect" in rows or "group-suspect" in flags[sheet_id]
            )
        review += in_review
        reasons = sorted({s.removeprefix("review:") for s in rows if s.startswith("review:")})
        for reason in reasons:
            review_reasons[reason] += 1
        if in_review and read.ok and needs_person(read, want, rows):
            needed += 1
        elif in_review:
            unnecessary_reasons.update(reasons)
        sheet_status = _first_status(rows)
        status_pairs[(want["status"], sheet_status)] += 1
        if want["status"].startswith("void:"):
            void_truth += 1
            void_right += sheet_status == want["status"]
        right = compare_sheet(read, want, tally, labels)
        ink_tally(ink, read, want)
        exact += right and not in_review and all(s == want["status"] for s in rows)
    n = len(truth)
    silent = len(tally.errors) + len(missing) + len(misregistered_scored)
    kinds = sorted({k for k, _ in misregistered})
    return {
        "sheets": n,
        "sheets_exact": exact / n if n else 0.0,
        "sheets_exact_count": exact,
        "silent_errors": silent,
        "silent_error_classes": {
            "items": len(tally.errors),
            "missing-sheets": len(missing),
            MISREGISTERED_SCORED: len(misregistered_scored),
        },
        "misregistered": {
            "pages": sum(misregistered.values()),
            "scored": len(misregistered_scored),
            "review": sum(v for (_, o), v in misregistered.items() if o == "review"),
            "refused": sum(v for (_, o), v in misregistered.items() if o == "refused"),
            "by_kind": {
                k: {o: misregistered[(k, o)] for o in ("scored", "review", "refused")}
                for k in kinds
            },
            "items_wrong": len(mis_tally.errors),
            "scored_pages": misregistered_scored[:50],
        },
        "review_rate": review / n if n else 0.0,
        "review_sheets": review,
        "review_needed": needed,
        "review_needed_rate": needed / n if n else 0.0,
        "review_unnecessary": review - needed,
        "review_unnecessary_rate": (review - needed) / n if n else 0.0,
        "review_unnecessary_reasons": dict(sorted(unnecessary_reasons.items())),
        "bubble_accuracy": tally.bubbles_right / max(tally.bubbles - tally.bubbles_unsure, 1),
        "bubbles": tally.bubbles,
        "bubbles_unsure": tally.bubbles_unsure,
        "question_accuracy": tally.questions_right / max(tally.questions, 1),
        "questions": tally.questions,
        "questions_unsure": tally.questions_unsure,
        "lost_marks": tally.lost_marks,
        "odd_reads": {"items": tally.odd_items, "right": tally.odd_right},
        "group_suspect": {
            k: group_check[k] for k in ("miscoded", "miscoded_flagged", "honest", "honest_flagged")
        },
        "void_sheets": void_truth,
        "ink": {
            "note": "[sheets, flagged] per pen and use; marks: truth medium -> read medium",
            "pencil_only": list(ink["pencil_only"]),
            "by_pen": {
                pen: {use: list(v) for use, v in sorted(row.items())}
                for pen, row in sorted(ink["by_pen"].items())
            },
            "marks": dict(sorted(ink["marks"].items())),
            "no_colour_sheets": ink["no_colour"],
        },
        "void_right_reason": void_right,
        "missing_sheets": missing,
        "review_reasons": dict(sorted(review_reasons.items())),
        "review_items": dict(sorted(tally.item_reasons.items())),
        "bubble_confusion": {f"{t}->{r}": c for (t, r), c in sorted(tally.confusion.items())},
        "statuses": [
            {"truth": t, "read": r, "sheets": c} for (t, r), c in sorted(status_pairs.items())
        ],
        "errors": tally.errors[:50],
    }
