"""What was read from one sheet: plain data shared by the reader, the scorer and the store.

Scoring and reports work from these records alone, never from pixels, so a key
change rescores a session without reading a scan again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, is_dataclass
from enum import StrEnum


class ItemState(StrEnum):
    """The decision on one question or digit position."""

    blank = "blank"
    one = "one"
    multiple = "multiple"
    unsure = "unsure"  # a bubble the reader cannot call: a person decides


@dataclass(frozen=True)
class ItemRead:
    """One question (or digit position, or group field) as read.

    ``value`` holds the options read as marked, in option order: ``""`` for
    blank, ``"A"``, or ``"AC"`` for several. For an unsure item it holds the
    options that are surely marked; ``unsure`` lists the ones in doubt.
    """

    value: str
    state: ItemState
    confidence: float
    unsure: str = ""
    reason: str = ""  # unsure: faint, erasure-or-answer, ambiguous-multiple; else e.g. residue:C


@dataclass(frozen=True)
class FieldRead:
    """All items of one form field, with the darkness evidence per option."""

    kind: str
    items: tuple[ItemRead, ...]
    darkness: tuple[tuple[float, ...], ...]
    ring: tuple[tuple[float, ...], ...] = ()  # darkness just outside each bubble
    cover: tuple[tuple[float, ...], ...] = ()  # share of each bubble's inside that is dark

    def text(self) -> str:
        """Digits or letters, one per item; ``?`` where an item is not exactly one mark."""
        return "".join(i.value if i.state == ItemState.one else "?" for i in self.items)

    @property
    def needs_review(self) -> bool:
        """True when any item is unsure."""
        return any(i.state == ItemState.unsure for i in self.items)


@dataclass(frozen=True)
class SheetRead:
    """Everything read from one page.

    ``problem`` is empty for a page that was read; otherwise a reason code
    (``unreadable-page``, ``blank-page``, ``marks-not-found``, …) with a
    human ``message``, and ``fields`` is empty.
    """

    sheet_id: str
    source: str
    page: int
    form: str
    problem: str = ""
    message: str = ""
    fields: dict[str, FieldRead] = field(default_factory=dict)
    registration: dict = field(default_factory=dict)
    levels: dict = field(default_factory=dict)
    dpi: float | None = None
    media: dict = field(default_factory=dict)  # colour evidence per mark (omr.detect.medium)
    evidence: bytes = field(default=b"", repr=False, compare=False)  # PNG of flagged marks

    @property
    def ok(self) -> bool:
        """True when the page was registered and read."""
        return not self.problem

    def to_json(self) -> str:
        """Serialise for the session store (the text ``json.dumps(asdict(self))`` gives).

        The nested records are turned into dicts by the encoder as it meets
        them: ``dataclasses.asdict`` deep-copied every number of every bubble
        first (13-15 ms a page).
        """
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "evidence"}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_as_dict)

    @classmethod
    def from_json(cls, text: str, *, measures: bool = True) -> SheetRead:
        """Inverse of :meth:`to_json`; ``measures=False`` leaves out the per-bubble numbers.

        Scoring needs only the decisions, and a session of thousands of sheets
        then fits in little memory.
        """
        data = json.loads(text)
        keep = (lambda rows: tuple(tuple(r) for r in rows)) if measures else (lambda rows: ())
        data["fields"] = {
            name: FieldRead(
                kind=f["kind"],
                items=tuple(
                    ItemRead(
                        i["value"],
                        ItemState(i["state"]),
                        i["confidence"],
                        i["unsure"],
                        i.get("reason", ""),
                    )
                    for i in f["items"]
                ),
                darkness=keep(f["darkness"]),
                ring=keep(f.get("ring", ())),
                cover=keep(f.get("cover", ())),
            )
            for name, f in data["fields"].items()
        }
        return cls(**data)


def _as_dict(obj: object) -> dict:
    """A nested record's fields, for :func:`json.dumps` (``evidence`` is stored apart)."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in fields(obj)}
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")
