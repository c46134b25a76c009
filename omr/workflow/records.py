"""Reading the workflow's records back from the session store."""

from __future__ import annotations

from omr.store import Store
from omr.workflow.decisions import Decision


def stored_decisions(store: Store) -> list[Decision]:
    """Every review decision, oldest first (the latest per field is in force)."""
    return [
        Decision(r["sheet_id"], r["field"], r["item"], r["value"], r["by"], r["why"], r["at"])
        for r in store.records("decisions")
    ]
