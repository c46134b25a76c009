"""Who wrote the sheet: national ID checksum and the roster.

Names and national ID numbers are personal data: they are compared here and
never written to logs or public exports in full.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from omr.errors import InputFileError
from omr.safe_text import NOT_TEXT, csv_delimiter, read_office_text

ROSTER_KEYS = ("student_number", "national_id")


def national_id_valid(value: str) -> bool:
    """True for an 11-digit Turkish national ID (T.C. Kimlik No) with valid check digits.

    The first digit is not 0; digit 10 is ``(7 × (d1+d3+d5+d7+d9) − (d2+d4+d6+d8)) mod 10``
    and digit 11 is ``(d1+…+d10) mod 10``.

    >>> national_id_valid("10000000146")
    True
    >>> national_id_valid("10000000147")
    False
    """
    if len(value) != 11 or not value.isdigit() or value[0] == "0":
        return False
    d = [int(c) for c in value]
    tenth = (7 * sum(d[0:9:2]) - sum(d[1:8:2])) % 10
    return d[9] == tenth and d[10] == sum(d[:10]) % 10


@dataclass(frozen=True)
class Candidate:
    """One roster row; ``hall``, ``seat`` and ``name`` may be empty.

    ``name`` is personal data: it goes only into the internal export
    (:mod:`omr.workflow.internal_export`), never into a posted file or a log.
    """

    student_number: str
    national_id: str
    hall: str
    seat: str
    name: str = ""


@dataclass(frozen=True)
class Roster:
    """The candidates expected in the session, looked up by student number or national ID."""

    by_student: dict[str, Candidate]
    by_national_id: dict[str, Candidate]

    def find(self, student_number: str, national_id: str) -> Candidate | None:
        """The candidate with this student number, else with this national ID."""
        return self.by_student.get(student_number) or self.by_national_id.get(national_id)


NAME_COLUMNS = (("name",), ("first_name", "last_name"), ("ad", "soyad"))


def _roster_name(row: dict) -> str:
    """The candidate's name from the first name column(s) the roster has."""
    for columns in NAME_COLUMNS:
        parts = [(row.get(c) or "").strip() for c in columns]
        if any(parts):
            return " ".join(p for p in parts if p)
    return ""


def load_roster(path: Path) -> Roster:
    """Read ``roster.csv``: ``student_number`` and/or ``national_id``, optional ``hall``, ``seat``.

    A ``name`` column (or ``first_name`` and ``last_name``, or Turkish ``ad``
    and ``soyad``) is kept for the internal export only; other columns are
    ignored. Raises :class:`InputFileError` naming
    the line of a problem, never its content (personal data).
    """
    try:
        text = read_office_text(path)
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read roster ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path}: {NOT_TEXT}") from exc
    by_student: dict[str, Candidate] = {}
    by_national: dict[str, Candidate] = {}
    with io.StringIO(text, newline="") as fh:
        reader = csv.DictReader(fh, delimiter=csv_delimiter(text))
        columns = set(reader.fieldnames or [])
        if not columns & set(ROSTER_KEYS):
            raise InputFileError(f"{path}: roster needs a student_number or national_id column")
        for line, row in enumerate(reader, start=2):
            c = Candidate(
                student_number=(row.get("student_number") or "").strip(),
                national_id=(row.get("national_id") or "").strip(),
                hall=(row.get("hall") or "").strip(),
                seat=(row.get("seat") or "").strip(),
                name=_roster_name(row),
            )
            for key, table in ((c.student_number, by_student), (c.national_id, by_national)):
                if key and key in table:
                    raise InputFileError(f"{path}:{line}: the same candidate appears twice")
                if key:
                    table[key] = c
    return Roster(by_student, by_national)
