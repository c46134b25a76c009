"""What `omr forms fit` tells the person: a valid default name, problems by key path."""

from __future__ import annotations

import re

import numpy as np
import pytest

from omr.formfit import FormProposal, check_proposal, draw_found, form_name


@pytest.mark.parametrize(
    ("stem", "name"),
    [
        ("S_1_scan134", "s-1-scan134"),
        ("scanned_page (1)", "scanned-page-1"),
        ("--Quiz  Form--", "quiz-form"),
        ("sample scanned sheets_Page_01", "sample-scanned-sheets-page-01"),
        ("___", "form"),
        ("Sınav", "s-nav"),
    ],
)
def test_the_default_name_is_the_stem_made_a_valid_form_name(stem, name):
    assert form_name(stem) == name
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", form_name(stem))


def test_problems_of_a_proposal_are_listed_one_by_one_with_key_paths():
    data = {
        "format": 1,
        "name": "x",
        "title": {"tr": "x", "en": "x"},
        "page": {"width": 210, "height": 297},
        "bubble_diameter": 4.0,
        "registration": {"kind": "reference-image", "image": "x.png", "dpi": 150},
        "answer_blocks": {
            "block-1": {
                "label": {"tr": "b", "en": "b"},
                "origin": [20, 20],
                "questions": 5,
                "options": [],
                "option_step": [6, 0],
                "question_step": [0, 6],
            }
        },
    }
    problems = dict(check_proposal(FormProposal(data, [])))
    assert "answer_blocks.block-1.options" in problems
    assert all(not p.startswith("1 validation error") for p in problems.values())


def test_the_overlay_shows_the_page_when_nothing_was_found():
    page = np.full((50, 40), 200, np.uint8)
    drawn = draw_found(FormProposal({}, [], [], page, 4.0))
    assert drawn.shape == (50, 40, 3) and (drawn == 200).all()
