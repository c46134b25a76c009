"""Helpers for the workflow tests: plant doubts in a stored session."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from omr.records import ItemRead, ItemState, SheetRead
from omr.store import STORE_NAME, Store


def plant(out: Path, sheet: str, field: str, item: int, new: ItemRead) -> SheetRead:
    """Replace one item of one stored read (as if the reader had read it so); return the read."""
    with Store(Path(out) / STORE_NAME) as store:
        read = store.reads([sheet])[0]
        f = read.fields[field]
        items = f.items[:item] + (new,) + f.items[item + 1 :]
        read = dataclasses.replace(
            read, fields={**read.fields, field: dataclasses.replace(f, items=items)}
        )
        fp = store.fingerprints()[sheet]
        store.save(read, fp)
    return read


def unsure(value: str = "", options: str = "B", reason: str = "faint") -> ItemRead:
    """An item the reader could not decide."""
    return ItemRead(value, ItemState.unsure, 0.4, options, reason)
