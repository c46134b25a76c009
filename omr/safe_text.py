"""Text from outside made safe where it is read and where it is written.

Roster, key and exam files come from office software: UTF-8 with or without a
BOM, or Windows-1254 (Turkish; ISO-8859-9 letters are the same bytes), with
``,`` or ``;`` between columns (Excel in Turkish writes ``;``). And what comes
in (file names, names, course codes and titles) goes out into spreadsheets,
where a cell starting with ``=``, ``+``, ``-`` or ``@`` runs as a formula
(OWASP "CSV injection"): CSV cells are neutralised with a leading ``'``,
Excel cells are stored as text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
SHEET_TITLE_MAX = 31  # Excel's limit
RESERVED_TITLES = {"summary", "history"}  # the workbook's own sheet; Excel's reserved name


def csv_cell(value: object) -> object:
    """``value`` as a CSV cell a spreadsheet shows as text: a string that would start a
    formula gets a leading ``'``; numbers (``-0.25``) and other values are kept."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_row(row: Mapping[str, object]) -> dict[str, object]:
    """Every cell of ``row`` through :func:`csv_cell`."""
    return {key: csv_cell(value) for key, value in row.items()}


def from_csv_cell(value: str) -> str:
    """Undo :func:`csv_cell` on a cell read back from one of our CSV files."""
    if value.startswith("'") and value[1:].startswith(FORMULA_LEADS):
        return value[1:]
    return value


def sheet_titles(names: Iterable[str], reserved: Iterable[str] = ()) -> dict[str, str]:
    """A valid, distinct Excel sheet title for each of ``names`` (course codes).

    ``[ ] : * ? / \\`` become ``_``, titles are cut to 31 characters, never
    ``Summary``, ``History`` or one of ``reserved`` (the workbook's own sheets in
    its language: ``Özet``, ``İnceleme``, …), and two codes that would meet (Excel
    compares titles without case) get ``~2``, ``~3``, …
    """
    taken = set(RESERVED_TITLES) | {name.lower() for name in reserved}
    out: dict[str, str] = {}
    for name in names:
        base = _SHEET_TITLE_BAD.sub("_", name).strip("'") or "_"
        title, n = base[:SHEET_TITLE_MAX], 1
        while title.lower() in taken:
            n += 1
            tail = f"~{n}"
            title = base[: SHEET_TITLE_MAX - len(tail)] + tail
        taken.add(title.lower())
        out[name] = title
    return out


NOT_TEXT = "not text in UTF-8 or Windows-1254 (Turkish): save it as UTF-8 text"


def read_office_text(path: Path) -> str:
    """The text of a file written by office software: UTF-8 (a BOM dropped), else
    Windows-1254. Raises :class:`UnicodeDecodeError` for bytes that are neither."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1254")


def csv_delimiter(text: str) -> str:
    """``;`` when the header line has more of them than commas (Excel in Turkish), else ``,``."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


PICTURE_NAME_MAX = 160  # bytes: room left in a file name's 255 for ".doubt.png" and a temporary's


def picture_name(sheet_id: str) -> str:
    """A file name (no suffix) for a sheet's pictures: ``hall-b/stack-01.pdf:3`` ->
    ``hall-b_stack-01.pdf-p3``. A name too long for a file system (a scan named with 250
    characters) keeps its start and its end and gets a hash of the whole, so it stays one
    sheet's and distinct."""
    name = sheet_id.replace("/", "_").replace(":", "-p")
    if len(name.encode("utf-8")) <= PICTURE_NAME_MAX:
        return name
    digest = hashlib.sha256(sheet_id.encode("utf-8")).hexdigest()[:12]
    head = name.encode("utf-8")[:100].decode("utf-8", "ignore")
    tail = name.encode("utf-8")[-40:].decode("utf-8", "ignore")
    return f"{head}~{digest}~{tail}"
