"""What the exports need of every read, gathered while the reads stream past.

A parsed read takes ~90 KB (its items, registration and colour evidence);
scoring and exports take the reads one at a time from the store and keep of
each only what is written later: its id, whether it had colour, the
identity it names and its letter grids' text (when exported). The few reads
a review line (or a person's act) describes are fetched again by id
(:class:`StoredReads`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from omr.records import FieldRead, ItemState, SheetRead
from omr.score.identity import ROSTER_KEYS
from omr.store import Store


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
    numbers: list[str | None] = field(default_factory=list)  # as ids; None: no number read

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
            number = read.fields.get("student_number") if read.ok else None
            self.numbers.append(number.text() if number is not None else None)
            if read.ok:
                self.without_colour += not read.media.get("colour", False)
                self.identities.append(identity(read))
                if self.letter_grids:
                    self.letters.append(letters_row(read, self.letter_grids))
            yield read

    def __len__(self) -> int:
        return len(self.ids)

    def of_student(self, student: str) -> list[str]:
        """The sheets read whose student number is ``student``, in stack order."""
        return [s for s, n in zip(self.ids, self.numbers, strict=True) if n == student]


class StoredReads(Mapping):
    """Sheet id -> its read from ``store`` when asked, ``decide`` laid over it (a person's
    decisions); the last one asked is kept, the rest are not.

    ``store`` is an open :class:`Store`, or the path of one to open for each read
    (see :meth:`reopening`: the lookup then outlives the connection it was made with).
    """

    def __init__(
        self, store: Store | Path, decide: Callable[[SheetRead], SheetRead], ids: list[str]
    ) -> None:
        self.store, self.decide, self.ids = store, decide, ids
        self._last: SheetRead | None = None
        self._known: set[str] = set()

    def reopening(self, path: Path) -> StoredReads:
        """This lookup, reading from the store at ``path`` (opened for each read) from now on."""
        self.store = Path(path)
        return self

    def fetch(self, sheet_id: str) -> SheetRead | None:
        """The decided read of ``sheet_id`` from the store, or None."""
        if isinstance(self.store, Path):
            with Store(self.store) as store:
                read = store.read(sheet_id, measures=False)
        else:
            read = self.store.read(sheet_id, measures=False)
        return None if read is None else self.decide(read)

    def __getitem__(self, sheet_id: str) -> SheetRead:
        if self._last is None or self._last.sheet_id != sheet_id:
            read = self.fetch(sheet_id)
            if read is None:
                raise KeyError(sheet_id)
            self._last = read
        return self._last

    def __contains__(self, sheet_id: object) -> bool:
        if len(self._known) != len(self.ids):
            self._known = set(self.ids)
        return sheet_id in self._known

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)
