"""The session store: one SQLite file holding every page read, so runs resume.

Schema changes are named migrations, applied in order inside a transaction and
recorded in the ``migrations`` table.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

from omr.records import SheetRead

STORE_NAME = "session.sqlite"


def _m001_pages(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE pages (
            sheet_id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            page INTEGER NOT NULL,
            fingerprint TEXT NOT NULL,
            problem TEXT NOT NULL,
            record TEXT NOT NULL,
            read_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _m002_evidence(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE evidence (sheet_id TEXT PRIMARY KEY, png BLOB NOT NULL)")


MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("001_pages", _m001_pages),
    ("002_evidence", _m002_evidence),
]


class Store:
    """A session's SQLite store. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self.db = sqlite3.connect(str(path))
        self.db.execute("PRAGMA journal_mode=WAL") if str(path) != ":memory:" else None
        self.migrate()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def migrate(self) -> list[str]:
        """Apply pending migrations in order; return the names applied."""
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
        )
        done = {row[0] for row in self.db.execute("SELECT name FROM migrations")}
        applied = []
        for name, migration in MIGRATIONS:
            if name in done:
                continue
            with self.db:
                migration(self.db)
                self.db.execute("INSERT INTO migrations VALUES (?, ?)", (name, _now()))
            applied.append(name)
        return applied

    def fingerprints(self) -> dict[str, str]:
        """Sheet id → fingerprint of the source file it was read from."""
        return dict(self.db.execute("SELECT sheet_id, fingerprint FROM pages"))

    def save(self, read: SheetRead, fingerprint: str) -> None:
        """Record (or replace) one page's read, committed at once."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    read.sheet_id,
                    read.source,
                    read.page,
                    fingerprint,
                    read.problem,
                    read.to_json(),
                    _now(),
                ),
            )
            self.db.execute("DELETE FROM evidence WHERE sheet_id = ?", (read.sheet_id,))
            if read.evidence:
                self.db.execute(
                    "INSERT INTO evidence VALUES (?, ?)", (read.sheet_id, read.evidence)
                )

    def reads(
        self, sheet_ids: Iterable[str] | None = None, *, measures: bool = True
    ) -> list[SheetRead]:
        """The stored reads, in stack order (source, page); only ``sheet_ids`` if given.

        ``measures=False`` leaves out the per-bubble numbers (see
        :meth:`SheetRead.from_json`).
        """
        rows = self.db.execute("SELECT sheet_id, record FROM pages ORDER BY source, page")
        wanted = set(sheet_ids) if sheet_ids is not None else None
        return [
            SheetRead.from_json(record, measures=measures)
            for sheet_id, record in rows
            if wanted is None or sheet_id in wanted
        ]

    def evidence(self) -> dict[str, bytes]:
        """Sheet id → PNG of the marks that were flagged on it."""
        return dict(self.db.execute("SELECT sheet_id, png FROM evidence ORDER BY sheet_id"))

    def set_meta(self, key: str, value: str) -> None:
        """Store a session fact (exam file, form, calibration used)."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def meta(self) -> dict[str, str]:
        """All session facts."""
        return dict(self.db.execute("SELECT key, value FROM meta"))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
