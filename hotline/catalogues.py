"""Catalogue upkeep: extract the templates, update every language's catalogue, check and report on them.

``python -m hotline.catalogues extract|update|check|report``; ``scripts/update-catalogues`` runs the
first two. Two domains: ``messages`` (what people in need read, every served language) and
``volunteer`` (pages and volunteer commands, English and Lithuanian).
"""

from __future__ import annotations

import string
import sys
from dataclasses import dataclass
from pathlib import Path

from babel import UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from hotline.bot import languages

ROOT = Path(__file__).resolve().parents[1]
LOCALES = Path(__file__).resolve().parent / "locales"
KEYWORDS = {"messages": {"N_": None, "translate": None}, "volunteer": {"V_": None, "translate_for_volunteer": None}}
PLURALS = {"am": (2, "(n > 1)"), "ti": (2, "(n > 1)"), "hi": (2, "(n > 1)"), "si": (2, "(n != 1)")}
TARGETS = {"messages": [c for c in languages.CODES if c != "en"], "volunteer": ["lt"]}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a catalogue."""

    domain: str
    language: str
    message: str
    what: str

    def __str__(self) -> str:
        return f"{self.language}/{self.domain}: {self.what}: {self.message[:60]!r}"


def template_path(domain: str) -> Path:
    """Return where a domain's template lives."""
    return LOCALES / f"{domain}.pot"


def catalogue_path(domain: str, language: str) -> Path:
    """Return where one language's catalogue of a domain lives."""
    return LOCALES / language / "LC_MESSAGES" / f"{domain}.po"


def extract(domain: str, root: Path = ROOT) -> Catalog:
    """Collect a domain's texts from the code and the flow files."""
    with (root / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    if domain == "volunteer":  # flow files speak to people in need only
        method_map = [(pattern, method) for pattern, method in method_map if method == "python"]
    catalog = Catalog(project="Border Hotline", fuzzy=False)
    found = extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS[domain], comment_tags=("translators:",)
    )
    for _filename, _line, message, comments, context in found:
        catalog.add(message, None, [], auto_comments=comments, context=context)
    return catalog


def write(catalog: Catalog, path: Path, *, header: bool = False) -> None:
    """Write a catalogue in a stable, diff-friendly form."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as sink:
        write_po(sink, catalog, omit_header=not header, no_location=True, sort_output=True, width=100)


def read(path: Path) -> Catalog:
    """Read a catalogue or template."""
    with path.open("rb") as source:
        return read_po(source)


def update_all() -> None:
    """Bring every language's catalogue in line with its template, creating missing ones."""
    for domain, targets in TARGETS.items():
        template = read(template_path(domain))
        for language in targets:
            path = catalogue_path(domain, language)
            catalog = read(path) if path.exists() else _new_catalogue(language)
            created = catalog.creation_date
            catalog.update(template, no_fuzzy_matching=True)
            catalog.creation_date = created  # keep reruns from touching every file
            catalog.obsolete.clear()
            write(catalog, path, header=True)


def _new_catalogue(language: str) -> Catalog:
    try:
        catalog = Catalog(locale=languages.get(language).locale, project="Border Hotline", fuzzy=False)
    except (UnknownLocaleError, ValueError):
        catalog = Catalog(locale=None, project="Border Hotline", fuzzy=False)
    if language in PLURALS:  # Babel's table lacks these; GNU gettext's conventions
        catalog._num_plurals, catalog._plural_expr = PLURALS[language]  # type: ignore[assignment]
    return catalog


def check() -> list[Problem]:
    """Return every missing, fuzzy, stale or placeholder-breaking entry of every catalogue."""
    problems: list[Problem] = []
    for domain, targets in TARGETS.items():
        wanted = {str(m.id) for m in read(template_path(domain)) if m.id}
        for language in targets:
            problems += _check_one(domain, language, wanted)
    return problems


def _check_one(domain: str, language: str, wanted: set[str]) -> list[Problem]:
    path = catalogue_path(domain, language)
    if not path.exists():
        return [Problem(domain, language, "", "catalogue missing")]
    catalog = read(path)
    found = {str(m.id): m for m in catalog if m.id}
    problems = [Problem(domain, language, text, "not in the catalogue") for text in wanted - set(found)]
    problems += [Problem(domain, language, text, "stale (no longer in the template)") for text in set(found) - wanted]
    for text, message in found.items():
        if not message.string:
            problems.append(Problem(domain, language, text, "untranslated"))
        elif message.fuzzy:
            problems.append(Problem(domain, language, text, "fuzzy"))
        elif _placeholders(text) != _placeholders(str(message.string)):
            problems.append(Problem(domain, language, text, "placeholders differ"))
    if catalog.plural_forms is None or "nplurals" not in catalog.plural_forms:
        problems.append(Problem(domain, language, "", "no plural forms in the header"))
    return problems


def _placeholders(text: str) -> set[str]:
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError:
        return {"<broken>"}


def coverage() -> dict[str, dict[str, float]]:
    """Return the share of each domain's texts translated, per language."""
    result: dict[str, dict[str, float]] = {}
    for domain, targets in TARGETS.items():
        total = len([m for m in read(template_path(domain)) if m.id]) or 1
        for language in targets:
            path = catalogue_path(domain, language)
            done = len([m for m in read(path) if m.id and m.string and not m.fuzzy]) if path.exists() else 0
            result.setdefault(language, {})[domain] = done / total
    return result


def main(argv: list[str]) -> int:
    """Run one upkeep command."""
    command = argv[0] if argv else "check"
    if command == "extract":
        for domain in KEYWORDS:
            write(extract(domain), template_path(domain))
    elif command == "update":
        update_all()
    elif command == "check":
        problems = check()
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    else:
        print("usage: python -m hotline.catalogues extract|update|check", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
