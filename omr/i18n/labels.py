"""Machine codes (statuses, reasons, flags) as people read them, in the active language.

The files for programs keep the stable codes (``review:faint``,
``hall-mismatch``); the files for people show these labels beside or
instead of them. Every English text here is a message id of the catalogue.
"""

from __future__ import annotations

from omr.i18n import N_, _

#: The status of a result row, by its kind (the part before ``:``).
STATUS_KINDS = {
    "scored": N_("scored"),
    "void": N_("void"),
    "absent": N_("absent"),
    "review": N_("in review"),
    "no-sheet": N_("no sheet"),
}

#: Why a row is void, held for a person or flagged (the part after ``:``, and flag names).
REASONS = {
    # void
    "no-group": N_("no booklet group coded (article 7.6)"),
    "multiple-groups": N_("more than one booklet group coded (article 7.6)"),
    "proctor": N_("cancelled by the proctor's report"),
    "non-pencil": N_("marks not in pencil (article 7.7)"),
    "decided": N_("voided by a person's decision"),
    # review: marks
    "faint": N_("a question's only mark is faint"),
    "erasure-or-answer": N_("a clear mark and a lighter one: erasure or second answer"),
    "ambiguous-multiple": N_("several unclear marks on a question"),
    "odd-mark": N_("a circled option, a dot or a light tick"),
    "unsure-mark": N_("a mark that cannot be told"),
    "open-ended-unreadable": N_("open-ended points unreadable"),
    "open-ended-over-max": N_("open-ended points above the maximum"),
    # review: group and identity
    "group-unclear": N_("booklet group unclear"),
    "group-not-in-exam": N_("booklet group not in this exam"),
    "group-suspect": N_("another booklet's key fits far better"),
    "identity-unreadable": N_("identity unreadable"),
    "national-id-invalid": N_("national ID fails its check digits"),
    "not-on-roster": N_("not on the roster"),
    "identity-mismatch": N_("student number and national ID belong to different candidates"),
    "duplicate-id": N_("the same candidate on two sheets"),
    "absent-but-answered": N_("marked absent but answered"),
    "proctor-box-unclear": N_("proctor box unclear"),
    # review: the page
    "blank-page": N_("blank page"),
    "marks-not-found": N_("registration marks not found (not this form?)"),
    "registration-weak": N_("registration not proven on the printed bubbles"),
    "orientation-unknown": N_("which way up cannot be told"),
    "unreadable-page": N_("page cannot be decoded"),
    "unreadable-file": N_("file cannot be read"),
    # flags only
    "no-signature": N_("no signature"),
    "hall-mismatch": N_("hall differs from the roster"),
    "seat-mismatch": N_("seat differs from the roster"),
    "hall-unreadable": N_("hall unreadable"),
    "seat-unreadable": N_("seat unreadable"),
    # a roster candidate no sheet names
    "no-sheet": N_("on the roster, but no sheet names the candidate"),
    # item flags
    "key-suspect": N_("key may be wrong"),
    "key-mismatch": N_("booklet groups' keys disagree"),
    "too-easy": N_("too easy"),
    "too-hard": N_("too hard"),
    "low-discrimination": N_("low discrimination"),
}


def status_label(status: str) -> str:
    """The kind of a status in words: ``review:faint`` -> "in review" ("incelemede")."""
    kind = status.split(":", 1)[0]
    return _(STATUS_KINDS[kind]) if kind in STATUS_KINDS else status


def reason_text(code: str) -> str:
    """Why, in words: ``review:faint`` or ``faint`` -> "a question's only mark is faint".

    A status without a reason (``scored``, ``absent``) gives ``""``; a code
    not in the table comes back as it is (never dropped).
    """
    kind, _sep, reason = code.partition(":")
    if not reason:
        reason = kind if kind not in STATUS_KINDS or kind == "no-sheet" else ""
    if not reason:
        return ""
    return _(REASONS[reason]) if reason in REASONS else reason


def flags_text(flags: tuple[str, ...] | list[str]) -> str:
    """Flags in words, separated by ``; ``."""
    return "; ".join(reason_text(f) for f in flags)
