"""The session store: one SQLite file holding every page read, so runs resume.

Schema changes are named migrations, applied in order inside a transaction and
recorded in the ``migrations`` table (``PRAGMA user_version`` counts them); a
store written by an older omr is upgraded when opened, keeping every read.

On top of the reads, which are never changed by a person, sit the records of
what people decided (:mod:`omr.workflow`): review decisions, key versions,
objections and the audit log. Those tables are append-only (triggers refuse
UPDATE and DELETE).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import NamedTuple

from omr.errors import InputFileError, OutputError
from omr.records import SheetRead
from omr.stages import stage

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


def _append_only(db: sqlite3.Connection, table: str) -> None:
    """Refuse every UPDATE and DELETE on ``table``: its rows are a record, never rewritten."""
    for verb in ("UPDATE", "DELETE"):
        db.execute(
            f"""CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"""
        )


def _m003_workflow(db: sqlite3.Connection) -> None:
    """What people decide after the read, on top of the reads (which stay as they are)."""
    db.execute(
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            by TEXT NOT NULL,
            command TEXT NOT NULL,
            target TEXT NOT NULL,
            before TEXT NOT NULL,
            after TEXT NOT NULL,
            why TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE decisions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            sheet_id TEXT NOT NULL,
            field TEXT NOT NULL,
            item INTEGER NOT NULL,
            value TEXT NOT NULL,
            by TEXT NOT NULL,
            why TEXT NOT NULL,
            at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE key_versions (
            version INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            by TEXT NOT NULL,
            command TEXT NOT NULL,
            why TEXT NOT NULL,
            keys TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE objections (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            student TEXT NOT NULL,
            course TEXT NOT NULL,
            kind TEXT NOT NULL,
            filed_on TEXT NOT NULL,
            item INTEGER,
            text TEXT NOT NULL,
            deadline TEXT NOT NULL,
            on_time INTEGER NOT NULL,
            sheet_id TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE objection_decisions (
            objection_id INTEGER PRIMARY KEY REFERENCES objections(id),
            at TEXT NOT NULL,
            by TEXT NOT NULL,
            why TEXT NOT NULL,
            accepted INTEGER NOT NULL,
            change TEXT NOT NULL,
            score_before TEXT NOT NULL,
            score_after TEXT NOT NULL
        )"""
    )
    for table in ("audit", "decisions", "key_versions", "objections", "objection_decisions"):
        _append_only(db, table)


MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("001_pages", _m001_pages),
    ("002_evidence", _m002_evidence),
    ("003_workflow", _m003_workflow),
]

#: The tables :meth:`Store.append` writes to (all append-only).
RECORD_TABLES = ("audit", "decisions", "key_versions", "objections", "objection_decisions")


class PageRow(NamedTuple):
    """What the store keeps of one page's read: its keys, its JSON record, its evidence.

    A worker sends this, not the :class:`SheetRead`: pickling a whole read and
    taking it apart again cost the single writer 0.3 ms a page for nothing.
    """

    sheet_id: str
    source: str
    page: int
    problem: str
    record: str
    evidence: bytes

    @classmethod
    def of(cls, read: SheetRead) -> PageRow:
        """The row of ``read``."""
        return cls(
            read.sheet_id, read.source, read.page, read.problem, read.to_json(), read.evidence
        )


class Store:
    """A session's SQLite store. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        if str(path) != ":memory:" and not Path(path).exists():
            # Every page as read, full national IDs among it: the owner's alone
            # (SQLite gives its -wal and -shm files the database's permissions).
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self.db = sqlite3.connect(str(path))
        self.db.execute("PRAGMA journal_mode=WAL") if str(path) != ":memory:" else None
        self._depth = 0
        try:
            self.migrate()
        except sqlite3.OperationalError as exc:
            if not _disk_full(exc):
                raise
            self.db.close()
            raise self._full(exc) from exc

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
        unknown = done - {name for name, _ in MIGRATIONS}
        if unknown:
            raise InputFileError(
                f"{self.path}: written by a newer omr (schema {', '.join(sorted(unknown))}); "
                "upgrade omr to open it"
            )
        applied = []
        for name, migration in MIGRATIONS:
            if name in done:
                continue
            with self.db:
                migration(self.db)
                self.db.execute("INSERT INTO migrations VALUES (?, ?)", (name, _now()))
                self.db.execute(f"PRAGMA user_version = {len(done) + len(applied) + 1}")
            applied.append(name)
        return applied

    @contextmanager
    def atomic(self) -> Iterator[Store]:
        """Everything written inside commits together, or not at all.

        A disk that is full (or a file that may not grow) raises
        :class:`OutputError`: nothing of the block is kept, all before it is.
        """
        self._depth += 1
        try:
            yield self
        except BaseException as exc:
            self._depth -= 1
            if self._depth == 0:
                with suppress(sqlite3.Error):
                    self.db.rollback()
            if isinstance(exc, sqlite3.OperationalError) and _disk_full(exc):
                raise self._full(exc) from exc
            raise
        self._depth -= 1
        if self._depth == 0:
            try:
                self.db.commit()
            except sqlite3.OperationalError as exc:
                if not _disk_full(exc):
                    raise
                with suppress(sqlite3.Error):
                    self.db.rollback()
                raise self._full(exc) from exc

    def _full(self, exc: sqlite3.OperationalError) -> OutputError:
        return OutputError(
            f"{Path(self.path).parent}: the disk is full or the store cannot grow ({exc}): "
            "every page and decision stored before is kept. Free space and run the "
            "command again (a run goes on where it stopped). / Disk dolu: kaydedilenler "
            "duruyor; yer açıp komutu yeniden çalıştırın."
        )

    @contextmanager
    def while_reading(self) -> Iterator[Store]:
        """Commits that do not wait for the disk, for pages' reads (which can be redone).

        Under the write-ahead log a crashed process loses no commit; only a
        power cut can lose the last ones. The records people make keep full
        durability: this lasts only while pages are read.
        """
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            yield self
        finally:
            self.db.execute("PRAGMA synchronous=FULL")

    def append(self, table: str, **values: object) -> int:
        """Add one row to an append-only record table; return its rowid.

        Committed at once unless inside :meth:`atomic`.
        """
        if table not in RECORD_TABLES:
            raise ValueError(f"{table} is not a record table")
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self.atomic():
            cur = self.db.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values())
            )
        return int(cur.lastrowid or 0)

    def records(self, table: str, where: str = "", params: tuple = ()) -> list[dict]:
        """Rows of a record table in the order they were added, as dicts."""
        if table not in RECORD_TABLES:
            raise ValueError(f"{table} is not a record table")
        order = "version" if table == "key_versions" else "rowid"
        cur = self.db.execute(
            f"SELECT * FROM {table} {'WHERE ' + where if where else ''} ORDER BY {order}", params
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def fingerprints(self) -> dict[str, str]:
        """Sheet id → fingerprint of the source file it was read from."""
        return dict(self.db.execute("SELECT sheet_id, fingerprint FROM pages"))

    def read_with(self, key: str) -> int:
        """Record that pages are now read with ``key`` (their form and calibration, see
        :func:`omr.pipeline.reading_key`); return how many were read with another.

        Those pages lose their fingerprint in the same transaction, so they are
        read again, also by a later run when this one is stopped half-way. A
        store without a key yet (an older omr's) takes this one as it is.
        """
        with self.atomic():
            before = self.meta().get("read_with")
            stale = 0
            if before is not None and before != key:
                stale = self.db.execute(
                    "UPDATE pages SET fingerprint = '' WHERE fingerprint != ''"
                ).rowcount
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('read_with', ?)", (key,))
        return stale

    def save(self, read: SheetRead, fingerprint: str) -> None:
        """Record (or replace) one page's read, committed at once unless inside :meth:`atomic`."""
        self.save_row(PageRow.of(read), fingerprint)

    def save_row(self, row: PageRow, fingerprint: str) -> None:
        """:meth:`save` of a read already made into its row (by a worker)."""
        with self.atomic():
            self.db.execute(
                "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row.sheet_id, row.source, row.page, fingerprint, row.problem, row.record, _now()),
            )
            self.db.execute("DELETE FROM evidence WHERE sheet_id = ?", (row.sheet_id,))
            if row.evidence:
                self.db.execute("INSERT INTO evidence VALUES (?, ?)", (row.sheet_id, row.evidence))

    def reads(
        self, sheet_ids: Iterable[str] | None = None, *, measures: bool = True
    ) -> list[SheetRead]:
        """The stored reads, in stack order (source, page); only ``sheet_ids`` if given.

        ``measures=False`` leaves out the per-bubble numbers (see
        :meth:`SheetRead.from_json`).
        """
        return list(self.iter_reads(sheet_ids, measures=measures))

    def iter_reads(
        self, sheet_ids: Iterable[str] | None = None, *, measures: bool = True
    ) -> Iterator[SheetRead]:
        """:meth:`reads` one at a time, parsed as they are taken: memory stays flat."""
        rows = self.db.execute("SELECT sheet_id, record FROM pages ORDER BY source, page")
        wanted = set(sheet_ids) if sheet_ids is not None else None
        for sheet_id, record in rows:
            if wanted is None or sheet_id in wanted:
                with stage("store read"):
                    read = SheetRead.from_json(record, measures=measures)
                yield read

    def read(self, sheet_id: str, *, measures: bool = True) -> SheetRead | None:
        """The stored read of one sheet, or None."""
        row = self.db.execute("SELECT record FROM pages WHERE sheet_id = ?", (sheet_id,)).fetchone()
        return None if row is None else SheetRead.from_json(row[0], measures=measures)

    def evidence(self) -> dict[str, bytes]:
        """Sheet id → PNG of the marks that were flagged on it."""
        return dict(self.iter_evidence())

    def iter_evidence(self) -> Iterator[tuple[str, bytes]]:
        """:meth:`evidence` one sheet at a time (sheet id, PNG), in sheet id order."""
        yield from self.db.execute("SELECT sheet_id, png FROM evidence ORDER BY sheet_id")

    def set_meta(self, key: str, value: str) -> None:
        """Store a session fact (exam file, form, calibration used)."""
        with self.atomic():
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def meta(self) -> dict[str, str]:
        """All session facts."""
        return dict(self.db.execute("SELECT key, value FROM meta"))


def _disk_full(exc: sqlite3.OperationalError) -> bool:
    """A write the disk refused: full, over a quota or a file-size limit (an I/O error)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_FULL", "SQLITE_IOERR")) or "disk is full" in str(exc)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
