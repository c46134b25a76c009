"""Keep the Turkish catalogue in step with the code (Babel; a developer's tool, not run by omr).

``python -m omr.i18n.build`` extracts every message marked ``_``, ``N_`` or
``ngettext`` in ``omr/``, merges them into ``locale/tr/LC_MESSAGES/omr.po``
(new ones empty, gone ones dropped, translations kept) and compiles
``omr.mo`` beside it, which the package ships. Then translate the empty
entries in the ``.po`` and run it again. ``--check`` changes nothing and exits
1 when a message is untranslated or the ``.mo`` is stale (the tests do the same).
"""

from __future__ import annotations

import ast
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from omr.i18n import DOMAIN, LOCALE_DIR

PACKAGE = Path(__file__).resolve().parent.parent
SKIP = ("i18n/build.py",)


def po_path(lang: str = "tr") -> Path:
    """The catalogue source of ``lang``."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def marked_messages(source: str) -> list[tuple[int, str | tuple[str, str]]]:
    """(line, message id) of every ``_("…")``, ``N_("…")`` and ``ngettext("…", "…", n)``.

    Read from the syntax tree, so calls inside f-strings count too (Python 3.11's
    tokenizer, which Babel's extractor uses, sees an f-string as one token).
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
        if node.func.id in {"_", "N_"} and args and isinstance(args[0], str):
            found.append((node.lineno, args[0]))
        elif (
            node.func.id == "ngettext"
            and len(args) >= 2
            and all(isinstance(a, str) for a in args[:2])
        ):
            found.append((node.lineno, (args[0], args[1])))
    return found


def uses_catalogue(name: str, source: str) -> bool:
    """Whether a module translates through this catalogue (it imports :mod:`omr.i18n`).

    Others may have a ``_`` of their own (the web desk's ``omr/web/text.py``).
    """
    return name.startswith("i18n/") or "from omr.i18n import" in source


def extract() -> Catalog:
    """Every marked message of the package's Python sources."""
    template = Catalog(project=DOMAIN, version="", fuzzy=False)
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        source = path.read_text(encoding="utf-8")
        if name in SKIP or not uses_catalogue(name, source):
            continue
        for line, message in marked_messages(source):
            template.add(message, None, [(name, line)])
    return template


def read_catalog(lang: str = "tr") -> Catalog:
    """The catalogue of ``lang`` as it is on disk."""
    with po_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


def compiled(catalog: Catalog) -> bytes:
    """The ``.mo`` bytes of ``catalog`` (fuzzy entries left out)."""
    buf = io.BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


def untranslated(catalog: Catalog, template: Catalog) -> list[str]:
    """Message ids of ``template`` that ``catalog`` lacks or leaves empty."""
    missing = []
    for message in template:
        if not message.id:
            continue
        entry = catalog.get(message.id, context=message.context)
        text = entry.string if entry is not None else ""
        if not (all(text) if isinstance(text, tuple) else text) or (entry and entry.fuzzy):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def update(lang: str = "tr") -> list[str]:
    """Merge the code's messages into ``lang``'s ``.po``, compile its ``.mo``; return the gaps."""
    template = extract()
    path = po_path(lang)
    if path.is_file():
        catalog = read_catalog(lang)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(locale=lang, domain=DOMAIN, project=DOMAIN)
    created = catalog.creation_date
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    catalog.fuzzy = False  # the header: its charset must reach the .mo
    catalog.creation_date = catalog.revision_date = created
    catalog.last_translator = catalog.language_team = "omr developers"
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=True, no_location=True)
    path.with_suffix(".mo").write_bytes(compiled(read_catalog(lang)))
    return untranslated(catalog, template)


def main(argv: list[str]) -> int:
    """Update (default) or ``--check`` the Turkish catalogue."""
    if "--check" in argv:
        catalog = read_catalog()
        gaps = untranslated(catalog, extract())
        stale = po_path().with_suffix(".mo").read_bytes() != compiled(catalog)
        for gap in gaps:
            print(f"untranslated: {gap}")
        if stale:
            print("omr.mo is older than omr.po: run python -m omr.i18n.build")
        return 1 if gaps or stale else 0
    gaps = update()
    for gap in gaps:
        print(f"untranslated: {gap}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
