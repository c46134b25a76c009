"""What the exports need of every read, gathered while the reads stream past.

A parsed read takes ~90 KB (its items, registration and colour evidence);
scoring and exports take the reads one at a time from the store and keep of
each only what is written later: its id, whether it had colour, the
identity it names and its letter grids' text (when exported). The few reads
a review line describes are fetched again by id (:class:`StoredReads`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from omr.records import FieldRead, ItemState, SheetRead
from omr.score.identity import ROSTER_KEYS


def letters_text(field: FieldRead) -> str:
    """What a letter grid reads: one letter per position, ``?`` where not one clear mark,
    trailing blank positions dropped and inner ones as spaces."""
    return "".join(
        i.value if i.state == ItemState.one else " " if i.state == ItemState.blank else "?"
        for i in field.items
    ).rstrip()


def letters_row(read: SheetRead, letter_grids: Iterable[str]) -> dict:
    """A ``letters.csv`` row: the sheet, its student number and each letter grid's text."""
    row = {"sheet": read.sheet_id}
    number = read.fields.get("student_number")
    row["student_id"] = number.text() if number is not None else ""
    for name in letter_grids:
        grid = read.fields.get(name)
        row[name] = letters_text(grid) if grid is not None else ""
    return row


def identity(read: SheetRead) -> tuple[str, str]:
    """The student number and national ID a read sheet names (as read), ``""`` where none."""
    number, national = (read.fields[n].text() if n in read.fields else "" for n in ROSTER_KEYS)
    return number, national


@dataclass
class SheetsSeen:
    """The reads of a session as the exports use them, a few bytes a sheet.

    ``lookup`` gives a read by sheet id (for the review lines); ``letter_grids``
    names the grids whose text is kept (none: ``letters`` stays empty).
    """

    lookup: Mapping[str, SheetRead]
    letter_grids: tuple[str, ...] = ()
    ids: list[str] = field(default_factory=list)
    without_colour: int = 0  # sheets read in grey or 1-bit (see RunSummary)
    identities: list[tuple[str, str]] = field(default_factory=list)  # of the sheets read
    letters: list[dict] = field(default_factory=list)

    @classmethod
    def of(cls, reads: list[SheetRead], letter_grids: Iterable[str] = ()) -> SheetsSeen:
        """The same for reads already in memory."""
        seen = cls({r.sheet_id: r for r in reads}, tuple(letter_grids))
        for _ in seen.take(reads):
            pass
        return seen

    def take(self, reads: Iterable[SheetRead]) -> Iterator[SheetRead]:
        """Yield each of ``reads`` after noting what the exports need of it."""
        for read in reads:
            self.ids.append(read.sheet_id)
            if read.ok:
                self.without_colour += not read.media.get("colour", False)
                self.identities.append(identity(read))
                if self.letter_grids:
                    self.letters.append(letters_row(read, self.letter_grids))
            yield read

    def __len__(self) -> int:
        return len(self.ids)


class StoredReads(Mapping):
    """Sheet id -> its read, from ``fetch`` when asked (the store's, with the decisions
    laid over it); the last one asked is kept, the rest are not."""

    def __init__(self, fetch: Callable[[str], SheetRead | None], ids: list[str]) -> None:
        self.fetch, self.ids = fetch, ids
        self._last: SheetRead | None = None

    def __getitem__(self, sheet_id: str) -> SheetRead:
        if self._last is None or self._last.sheet_id != sheet_id:
            read = self.fetch(sheet_id)
            if read is None:
                raise KeyError(sheet_id)
            self._last = read
        return self._last

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)
