"""Three unlike answer-sheet designs, drawn in code, as exam centres print them.

- ``vendor_track``: a vendor's optical form: a timing track of dashes down the
  left edge (one dash per bubble row), ellipse bubbles with letters inside,
  no corner marks.
- ``corner_circles``: a department's sheet with solid circles in the corners,
  round bubbles, questions running across with options down (columns of
  questions restart their numbering).
- ``plain``: an A5 sheet with no marks at all and rounded-rectangle bubbles,
  read by aligning scans on a reference image of the blank sheet.

Each is a form definition (dict) as its truth: it renders the sheet; a test
then scans it and must find it again with ``omr forms fit``.
"""

from __future__ import annotations

import copy

VENDOR_TRACK = {
    "format": 1,
    "name": "vendor-track",
    "title": {"tr": "Optik Cevap Formu", "en": "Optical answer form"},
    "page": {"width": 210, "height": 297},
    "bubble": {"shape": "ellipse", "size": [5.0, 3.2]},
    "registration": {
        "kind": "timing-track",
        "dash": [5.0, 1.6],
        "tracks": [{"first": [10, 30], "last": [10, 276.75], "count": 48}],
    },
    "group": {
        "label": {"tr": "Kitapçık", "en": "Booklet"},
        "first": [30, 30],
        "last": [57, 30],
        "options": ["A", "B", "C", "D"],
    },
    "identity": {
        "student_number": {
            "label": {"tr": "Öğrenci No", "en": "Student number"},
            "first": [30, 45.75],
            "last": [72, 93.0],
            "digits": 8,
        }
    },
    "answer_blocks": {
        "turkish": {
            "label": {"tr": "Türkçe", "en": "Turkish"},
            "first": [95, 45.75],
            "last": [123, 156.0],
            "questions": 40,
            "per_column": 22,
            "column_step": [45, 0],
            "options": ["A", "B", "C", "D", "E"],
        }
    },
    "texts": [{"text": "OPTİK FORM", "at": [30, 18], "size": 12, "bold": True}],
}

CORNER_CIRCLES = {
    "format": 1,
    "name": "corner-circles",
    "title": {"tr": "Cevap Kâğıdı", "en": "Answer sheet"},
    "page": {"width": 210, "height": 297},
    "bubble_diameter": 4.5,
    "registration": {
        "kind": "corner-marks",
        "shape": "circle",
        "mark_size": 6,
        "marks": [[12, 12], [198, 12], [12, 285], [198, 285]],
    },
    "group": {
        "label": {"tr": "Grup", "en": "Group"},
        "first": [150, 30],
        "last": [168, 30],
        "options": ["A", "B", "C", "D"],
    },
    "identity": {
        "student_number": {
            "label": {"tr": "Numara", "en": "Number"},
            "first": [25, 40],
            "last": [70, 94],
            "digits": 10,
        }
    },
    "answer_blocks": {
        "physics": {
            "label": {"tr": "Fizik", "en": "Physics"},
            "first": [30, 125],
            "last": [182, 143],
            "questions": 60,
            "per_column": 20,
            "column_step": [0, 50],
            "options_down": True,
            "options": ["A", "B", "C", "D"],
            "numbering": "restart",
        }
    },
    "texts": [{"text": "FİZİK SINAVI", "at": [25, 22], "size": 12, "bold": True}],
}

PLAIN = {
    "format": 1,
    "name": "plain-a5",
    "title": {"tr": "Kısa Sınav", "en": "Quiz"},
    "page": {"width": 148, "height": 210},
    "bubble": {"shape": "rounded-rect", "size": [5.0, 3.5]},
    "registration": {"kind": "reference-image", "image": "plain-a5.png", "dpi": 127},
    "group": {
        "label": {"tr": "Grup", "en": "Group"},
        "first": [100, 22],
        "last": [114, 22],
        "options": ["A", "B", "C"],
    },
    "identity": {
        "student_number": {
            "label": {"tr": "Numara", "en": "Number"},
            "first": [20, 35],
            "last": [62, 80],
            "digits": 7,
        }
    },
    "answer_blocks": {
        "quiz": {
            "label": {"tr": "Cevaplar", "en": "Answers"},
            "first": [90, 45],
            "last": [126, 150],
            "questions": 22,
            "options": ["A", "B", "C", "D", "E"],
        }
    },
    "texts": [
        {"text": "KISA SINAV / QUIZ", "at": [20, 12], "size": 12, "bold": True},
        {"text": "Yalnızca kurşun kalem. Pencil only.", "at": [20, 18], "size": 7},
    ],
}

DESIGNS = {"vendor-track": VENDOR_TRACK, "corner-circles": CORNER_CIRCLES, "plain-a5": PLAIN}


def design(name: str, **changes) -> dict:
    """A fresh copy of design ``name`` with top-level ``changes``."""
    return {**copy.deepcopy(DESIGNS[name]), **changes}
