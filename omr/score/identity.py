"""Who wrote the sheet: national ID checksum and the roster.

Names and national ID numbers are personal data: they are compared here and
never written to logs or public exports in full.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
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


ROSTER_WORKBOOKS = (".xlsx", ".xlsm")  # read with openpyxl; anything else is CSV text
MAX_WORKBOOK_BYTES = 200_000_000  # unpacked: a roster of 100,000 rows is a few MB


def load_roster(path: Path) -> Roster:
    """Read the roster: ``student_number`` and/or ``national_id``, optional ``hall``, ``seat``.

    A CSV file (UTF-8 or Windows-1254, ``,`` or ``;``) or an Excel workbook
    (``.xlsx``: its first sheet, the first row naming the columns). A ``name``
    column (or ``first_name`` and ``last_name``, or Turkish ``ad`` and
    ``soyad``) is kept for the internal export only; other columns are
    ignored. Raises :class:`InputFileError` naming the lines of a problem
    (every candidate listed twice at once), never their content (personal data).
    """
    columns, rows = _roster_rows(Path(path))
    if not set(columns) & set(ROSTER_KEYS):
        raise InputFileError(f"{path}: roster needs a student_number or national_id column")
    by_student: dict[str, Candidate] = {}
    by_national: dict[str, Candidate] = {}
    first_line: dict[tuple[str, str], int] = {}
    twice: list[str] = []
    for line, row in rows:
        c = Candidate(
            student_number=(row.get("student_number") or "").strip(),
            national_id=(row.get("national_id") or "").strip(),
            hall=(row.get("hall") or "").strip(),
            seat=(row.get("seat") or "").strip(),
            name=_roster_name(row),
        )
        for column, key, table in (
            ("student_number", c.student_number, by_student),
            ("national_id", c.national_id, by_national),
        ):
            if not key:
                continue
            if (column, key) in first_line:
                twice.append(f"{path}:{line}: the same {column} as line {first_line[column, key]}")
                continue
            first_line[column, key] = line
            table[key] = c
    if twice:
        shown = twice[:20] + ([f"... and {len(twice) - 20} more"] if len(twice) > 20 else [])
        raise InputFileError(
            f"{path}: {len(twice)} candidate row(s) repeat a number of an earlier row:\n  "
            + "\n  ".join(shown)
            + "\nEach candidate must be on the roster once: delete the repeated row, or "
            "correct the number typed twice, and run again. / Her aday listede bir kez "
            "olmalı: tekrarlanan satırı silin ya da yanlış yazılan numarayı düzeltin."
        )
    return Roster(by_student, by_national)


def _roster_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    """The roster's column names and its rows as ``(line, {column: text})``."""
    if path.suffix.lower() in ROSTER_WORKBOOKS:
        return _workbook_rows(path)
    try:
        text = read_office_text(path)
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read roster ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path}: {NOT_TEXT}") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=csv_delimiter(text))
    return list(reader.fieldnames or []), enumerate(reader, start=2)


def _workbook_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    """The first sheet of an Excel roster, its cells as text (``2485240850``, not ``2.48e9``)."""
    import zipfile

    import openpyxl

    try:
        with zipfile.ZipFile(path) as packed:
            unpacked = sum(info.file_size for info in packed.infolist())
        if unpacked > MAX_WORKBOOK_BYTES:
            raise InputFileError(
                f"{path}: the workbook unpacks to {unpacked / 1e6:,.0f} MB, more than any "
                "roster: save the roster sheet alone, or as CSV"
            )
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            table = [
                (n, [_cell_text(v) for v in values])
                for n, values in enumerate(sheet.iter_rows(values_only=True), start=1)
            ]
        finally:
            book.close()
    except InputFileError:
        raise
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read roster ({exc.strerror or exc})") from exc
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a damaged file
        raise InputFileError(
            f"{path}: not a readable Excel workbook ({type(exc).__name__}): save it again "
            "from Excel as .xlsx, or as CSV"
        ) from exc
    table = [(n, cells) for n, cells in table if any(cells)]
    if not table:
        return [], iter(())
    (_, header), body = table[0], table[1:]
    columns = [c.strip() for c in header]
    rows = ((n, dict(zip(columns, cells, strict=False))) for n, cells in body)
    return columns, rows


def _cell_text(value: object) -> str:
    """A workbook cell as the text a person typed: whole numbers without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
