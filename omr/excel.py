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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from omr.i18n import _

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


class Rows:
    """A sheet's rows made afresh each time they are gone through (twice: for the column
    widths, then the cells), none kept; ``count`` of them."""

    def __init__(self, make: Callable[[], Iterable[dict]], count: int) -> None:
        self.make, self.count = make, count

    def __iter__(self) -> Iterator[dict]:
        return iter(self.make())

    def __len__(self) -> int:
        return self.count


def _shown(value: object, kind: str) -> object:
    """A cell's value as its column's width is measured (scores and statistics as 0.00)."""
    return f"{value:.2f}" if kind in {"score", "stat"} and value is not None else value


def _as_text(cell: WriteOnlyCell) -> WriteOnlyCell:
    """A formula-looking string stays text, unchanged (openpyxl takes any ``=...`` for one)."""
    if cell.data_type == "f":
        cell.data_type = "s"
    return cell


def write_table(ws, table: Table, *, date_format: str = FORMATS["date"]) -> None:
    """Fill the write-only sheet ``ws`` with ``table``: a frozen, filtered header row, typed
    and formatted cells, column widths fitted to the content (measured first)."""
    headers = [_(c.header) for c in table.columns]
    kinds = [c.kind for c in table.columns]
    formats = [date_format if k == "date" else FORMATS[k] for k in kinds]
    longest = [None] * len(kinds)
    for row in table.rows:
        for n, (column, kind) in enumerate(zip(table.columns, kinds, strict=True)):
            shown = _shown(_cell_value(row.get(column.key), kind), kind)
            if shown is not None:
                size = len(str(shown))
                longest[n] = size if longest[n] is None else max(longest[n], size)
    for index, (header, size) in enumerate(zip(headers, longest, strict=True), start=1):
        fitted = min(MAX_WIDTH, (4 if size is None else size) + 2)
        width = min(MAX_WIDTH, max(MIN_WIDTH, fitted, len(header) + FILTER_BUTTON))
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    last = get_column_letter(len(table.columns))
    ws.auto_filter.ref = f"A1:{last}{max(1, len(table.rows) + 1)}"
    head = []
    for header in headers:
        cell = _as_text(WriteOnlyCell(ws, value=header))
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(vertical="top", wrap_text=False)
        head.append(cell)
    ws.append(head)
    for row in table.rows:
        cells = []
        for column, kind, fmt in zip(table.columns, kinds, formats, strict=True):
            value = _cell_value(row.get(column.key), kind)
            if value is not None and kind != "text":
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = fmt
                value = cell
            elif isinstance(value, str) and value.startswith("="):
                value = _as_text(WriteOnlyCell(ws, value=value))
            cells.append(value)
        ws.append(cells)


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
    date_format = DATE_FORMAT_TR if lang == "tr" else FORMATS["date"]
    with _half_written_sheets_dropped():
        try:
            _write_book(path, tables, date_format)
        except OSError as exc:  # a full disk: raise it without openpyxl's frames
            failed = OSError(exc.errno, exc.strerror, exc.filename)
            exc.__traceback__ = None
        else:
            return
        gc.collect()
    raise failed


def _write_book(path: Path, tables: Sequence[Table], date_format: str) -> None:
    book = Workbook(write_only=True)  # rows go to the file as they are made: memory stays flat
    taken: set[str] = set()
    for table in tables:
        ws = book.create_sheet(sheet_title(table.name, taken))
        write_table(ws, table, date_format=date_format)
    book.save(path)


@contextmanager
def _half_written_sheets_dropped():
    """Quiet the finalising of openpyxl's sheet writers left open by a failed save (each
    tries to close its file on the full disk again, or a file already closed: "Exception
    ignored ... File too large" or "I/O operation on closed file" at exit); every other
    unraisable error goes to the hook as before."""
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        if not (
            isinstance(unraisable.exc_value, (OSError, ValueError))
            and inspect.isgenerator(unraisable.object)
            and "openpyxl" in unraisable.object.gi_code.co_filename
        ):
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous
