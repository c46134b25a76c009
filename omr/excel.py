"""The results workbook for offices (openpyxl): typed cells, number formats, filters.

Every number is stored as a number (never text) with a number format: scores
``0.00``, whole counts ``0``, statistics ``0.00``; dates as dates. A number
format is stored with ``.`` as its decimal sign whatever the language: Excel
and LibreOffice show it with the decimal sign of the reader's own locale (a
Turkish Excel shows ``68,42``). Each sheet has its header row frozen, an
autofilter over its table and column widths fitted to its content.
"""

from __future__ import annotations

import datetime as dt
import gc
import inspect
import math
import sys
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from omr.i18n import _
from omr.safe_text import cells_as_text

#: Number formats by the kind of a column.
FORMATS = {
    "int": "0",
    "score": "0.00",
    "stat": "0.00",
    "date": "yyyy-mm-dd",
    "text": "@",
}
#: Dates as Turkish offices write them.
DATE_FORMAT_TR = "dd.mm.yyyy"
#: Narrowest and widest column, in characters.
MIN_WIDTH, MAX_WIDTH = 6, 80
#: Room the autofilter's drop-down button takes beside a header, in characters.
FILTER_BUTTON = 3
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")


@dataclass(frozen=True)
class Column:
    """One column of a sheet: the row key, the header (a message id) and the kind of value."""

    key: str
    header: str
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    """One sheet of the workbook: its name, columns and rows (dicts keyed by column key)."""

    name: str
    columns: Sequence[Column]
    rows: Sequence[dict]


def _cell_value(value: object, kind: str) -> object:
    """The value to store: numbers as numbers, missing values as empty cells."""
    if value is None or value == "":
        return None
    if kind in {"int", "score", "stat"}:
        number = float(value)
        if not math.isfinite(number):
            return None
        return int(number) if kind == "int" else number
    if kind == "date":
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    return str(value)


def _width(values: Iterable[object]) -> float:
    longest = max((len(str(v)) for v in values if v is not None), default=4)
    return min(MAX_WIDTH, longest + 2)


def write_table(ws: Worksheet, table: Table, *, date_format: str = FORMATS["date"]) -> None:
    """Fill ``ws`` with ``table``: a frozen, filtered header row, typed and formatted cells."""
    headers = [_(c.header) for c in table.columns]
    ws.append(headers)
    for cell in ws[1]:
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(vertical="top", wrap_text=False)
    formats = [date_format if c.kind == "date" else FORMATS[c.kind] for c in table.columns]
    for row in table.rows:
        ws.append([_cell_value(row.get(c.key), c.kind) for c in table.columns])
    for index, (column, fmt) in enumerate(zip(table.columns, formats, strict=True), start=1):
        letter = get_column_letter(index)
        cells = [r[0] for r in ws.iter_rows(min_row=2, min_col=index, max_col=index)]
        for cell in cells:
            if cell.value is not None and column.kind != "text":
                cell.number_format = fmt
        shown = [
            f"{c.value:.2f}"
            if column.kind in {"score", "stat"} and c.value is not None
            else c.value
            for c in cells
        ]
        header = len(headers[index - 1]) + FILTER_BUTTON
        ws.column_dimensions[letter].width = min(MAX_WIDTH, max(MIN_WIDTH, _width(shown), header))
    ws.freeze_panes = "A2"
    last = get_column_letter(len(table.columns))
    ws.auto_filter.ref = f"A1:{last}{max(1, len(table.rows) + 1)}"


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unused sheet title: at most 31 characters, none of ``[]:*?/\\``."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "_"
    title, n = clean, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = clean[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def write_workbook(path: Path, tables: Sequence[Table], *, lang: str) -> None:
    """Write ``tables`` to ``path``, one sheet each, in order (sheet names as given)."""
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    date_format = DATE_FORMAT_TR if lang == "tr" else FORMATS["date"]
    for table in tables:
        ws = book.create_sheet(sheet_title(table.name, taken))
        write_table(ws, table, date_format=date_format)
    cells_as_text(book)  # a name or code starting with = stays text, never a formula
    with _half_written_sheets_dropped():
        try:
            book.save(path)
        except OSError as exc:  # a full disk: raise it without openpyxl's frames
            failed = OSError(exc.errno, exc.strerror, exc.filename)
            exc.__traceback__ = None
        else:
            return
        gc.collect()
    raise failed


@contextmanager
def _half_written_sheets_dropped():
    """Quiet the finalising of openpyxl's sheet writers left open by a failed save (each
    tries to close its file on the full disk again: "Exception ignored ... File too
    large" at exit); every other unraisable error goes to the hook as before."""
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        if not (
            isinstance(unraisable.exc_value, OSError)
            and inspect.isgenerator(unraisable.object)
            and "openpyxl" in unraisable.object.gi_code.co_filename
        ):
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous
