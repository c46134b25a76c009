"""Printed examples ("mark like this") are not proposed as fields (issue 13 part 4).

OMRChecker's UPSC-mock print shows, beside its answers, three blank bubbles
and a solid dot ("EXAMPLE"), and a "CORRECT METHOD" line (one bubble filled)
over a "WRONG METHODS" line (every bubble marked): the fit proposed the
first as the booklet group and the second as a one-question block.
"""

from __future__ import annotations

from test_layout_finder import Sheet, scan

from omr.formfit import propose_form

DPI = 200
PX_PER_MM = DPI / 25.4


def _sheet() -> Sheet:
    s = Sheet(width=150.0, height=160.0)
    s.grid((60.0, 30.0), 20, 4, 7.0, 5.5)  # the answers
    s.grid((60.0, 145.0), 1, 4, 7.0, 5.5, labels=False)  # a real group line
    s.grid((15.0, 40.0), 1, 3, 6.0, 5.5, labels=False)  # "EXAMPLE": three blank ...
    # ... and a solid dot in their line, larger than a bubble (as on UPSC-mock's
    # print; one of a bubble's size is taken for a filled bubble: not covered).
    s.disc((33.0, 40.0), 5.5)
    start = len(s.bubbles)
    s.grid((15.0, 70.0), 1, 4, 6.0, 5.5, labels=False)  # "CORRECT METHOD"
    s.grid((15.0, 80.0), 1, 4, 6.0, 5.5, labels=False)  # "WRONG METHODS": all marked
    s.marks = {start + 3: "filled", **{start + 4 + k: "filled" for k in range(4)}}
    return s


def test_example_rows_are_left_out_with_a_note_and_a_real_line_is_kept():
    gray, _ = scan(_sheet().render(), DPI)
    proposal = propose_form(gray, PX_PER_MM, name="examples")
    notes = " ".join(proposal.notes)
    assert "a solid dot continues it" in notes
    assert "a line of marked samples lies beside it" in notes
    group = proposal.data["group"]
    assert len(group["options"]) == 4 and abs(group["origin"][1] - 145.0) < 1.5, group
    blocks = proposal.data["answer_blocks"].values()
    assert sorted(b["questions"] for b in blocks) == [20], proposal.data["answer_blocks"]
