"""The language of what people read: Turkish (``tr``) or English (``en``).

Strings are written in English in the code and translated through the
standard library's :mod:`gettext` from the catalogue
``omr/i18n/locale/tr/LC_MESSAGES/omr.po`` (compiled to ``omr.mo``, shipped
in the package). English needs no catalogue: the message ids are the text.

Which language a session's files are written in: ``--lang`` on the command,
else ``lang:`` in ``exam.yaml``, else :func:`default_lang` (Turkish for a
Turkish exam definition).

:func:`activate` sets the language for the code that runs inside it (a
context variable, so threads and concurrent requests do not mix);
:func:`_` translates in the active language.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

LANGS = ("tr", "en")
DOMAIN = "omr"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: Letters that only Turkish of the two languages writes: a name or course using them is Turkish.
TURKISH_LETTERS = frozenset("çğıİöşüÇĞÖŞÜ")

_ACTIVE: ContextVar[str] = ContextVar("omr_lang", default="en")


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of ``lang``; English (and any language without one) passes text through."""
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}, not {lang!r}")
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])


def translator(lang: str) -> Callable[[str], str]:
    """``gettext`` of ``lang``'s catalogue."""
    return translations(lang).gettext


def current() -> str:
    """The active language."""
    return _ACTIVE.get()


@contextmanager
def activate(lang: str) -> Iterator[str]:
    """Run the body with ``lang`` as the active language."""
    translations(lang)  # fail early on an unknown language
    token = _ACTIVE.set(lang)
    try:
        yield lang
    finally:
        _ACTIVE.reset(token)


def _(message: str) -> str:
    """``message`` in the active language."""
    return translations(_ACTIVE.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for ``n``, in the active language."""
    return translations(_ACTIVE.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802  (the gettext convention for a marked, untranslated id)
    """Mark ``message`` for the catalogue without translating it now."""
    return message


def default_lang(name: str, course_names: list[str]) -> str:
    """``tr`` when the exam's name or a course name is written in Turkish, else ``en``.

    "Written in Turkish" means it uses a letter English does not have (ç ğ ı
    İ ö ş ü): "Türk Dili I", "Atatürk İlkeleri", "Bilgisayar Mühendisliği".
    A definition written in plain ASCII ("Midterm", "MAT101") is taken as
    English; give ``lang: tr`` in ``exam.yaml`` (or ``--lang tr``) for it.
    """
    text = " ".join([name, *course_names])
    return "tr" if TURKISH_LETTERS & set(text) else "en"


def decimal(value: float, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals and the active language's decimal sign."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if _ACTIVE.get() == "tr" else text
