"""The internal export: every result with the candidate's full identity.

Posted files (``results.csv``, ``results.xlsx``) mask the national ID and
carry no name (KVKK). Student affairs sometimes need the full identity beside
the score (to match the registry, to answer a court); that file is written
only on an explicit request with who and why, goes into its own folder with
owner-only permissions, and the act is recorded in the audit log (the file's
name and row count, never its content).
"""

from __future__ import annotations

from pathlib import Path

from omr.export import (
    NO_SHEET,
    candidates_not_named,
    letters_text,
    write_csv,
    write_internal_xlsx,
)
from omr.records import SheetRead
from omr.score.identity import Roster
from omr.score.scoring import CourseResult
from omr.session_lock import holds_session
from omr.sheets_seen import SheetsSeen
from omr.store import Store
from omr.workflow.audit import check_person, record
from omr.workflow.desk import load_state, store_path

INTERNAL_DIR = "internal"
INTERNAL_FILE = "results-internal.csv"
INTERNAL_COLUMNS = [
    "sheet",
    "source",
    "page",
    "student_id",
    "national_id",
    "name",
    "name_on_sheet",
    "hall",
    "seat",
    "on_roster",
    "group",
    "course",
    "status",
    "score",
    "score_rounded",
]


def _field_text(read: SheetRead, name: str) -> str:
    field = read.fields.get(name)
    return field.text() if field is not None else ""


def internal_rows(
    reads: SheetsSeen, rows: list[CourseResult], roster: Roster | None, letter_grids
) -> list[dict]:
    """One row per sheet and course with the full national ID and the roster's name.

    Each sheet's read is fetched once (``reads.lookup``; its rows come together).
    Candidates on the roster whom no sheet names follow, one row each with
    status ``no-sheet``.
    """
    out = []
    for row in rows:
        read = reads.lookup.get(row.sheet)
        national = _field_text(read, "national_id") if read else ""
        candidate = roster.find(row.student_id, national) if roster else None
        on_sheet = (
            " ".join(
                t
                for t in (letters_text(read.fields[g]) for g in letter_grids if g in read.fields)
                if t
            )
            if read
            else ""
        )
        s = row.score
        out.append(
            {
                "sheet": row.sheet,
                "source": read.source if read else "",
                "page": read.page if read else "",
                "student_id": row.student_id,
                "national_id": national,
                "name": candidate.name if candidate else "",
                "name_on_sheet": on_sheet,
                "hall": candidate.hall if candidate else "",
                "seat": candidate.seat if candidate else "",
                "on_roster": "" if roster is None else ("yes" if candidate else "no"),
                "group": row.group,
                "course": row.course,
                "status": row.status,
                "score": f"{s.score:.4f}" if s else "",
                "score_rounded": int(s.score + 0.5) if s else "",
            }
        )
    for c in candidates_not_named(reads.identities, roster):
        row = dict.fromkeys(INTERNAL_COLUMNS, "")
        row.update(
            student_id=c.student_number,
            national_id=c.national_id,
            name=c.name,
            hall=c.hall,
            seat=c.seat,
            on_roster="yes",
            status=NO_SHEET,
        )
        out.append(row)
    return out


@holds_session
def write_internal_export(
    out: Path,
    *,
    by: str,
    why: str,
    dest: Path | None = None,
    session_root: Path | None = None,
) -> tuple[Path, int]:
    """Write ``results-internal.csv`` and ``.xlsx`` (mode 0600) into ``dest`` (default
    ``OUT/internal``).

    Returns the file and its row count. The act is one audit-log line.
    """
    by, why = check_person(by, why)
    state = load_state(Path(out), session_root)
    session = state.session
    rows = internal_rows(state.reads, state.rows, session.roster, session.form.letter_grids)
    folder = Path(dest) if dest is not None else Path(out) / INTERNAL_DIR
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / INTERNAL_FILE
    write_csv(path, INTERNAL_COLUMNS, rows, mode=0o600)  # never readable by others, even briefly
    from omr.pipeline import out_lang

    book = path.with_suffix(".xlsx")  # the same for offices, in the session's language
    write_internal_xlsx(book, rows, out_lang(Path(out), state.exam), mode=0o600)
    with Store(store_path(Path(out))) as store:
        record(
            store,
            by=by,
            command="export internal",
            target=str(path),
            before="",
            after=f"{len(rows)} rows with full identity",
            why=why,
        )
    return path, len(rows)
