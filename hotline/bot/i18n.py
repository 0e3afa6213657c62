"""Translation at send time: the current locale lives in a ContextVar, catalogues are gettext.

Two catalogues: ``messages`` for everything a person in need reads (every served language) and
``volunteer`` for pages and volunteer commands (English and Lithuanian). English is the source;
a missing catalogue or message falls back to it. Wheels carry compiled ``.mo`` files (built by
``hatch_build.py``); a source checkout compiles the ``.po`` files in memory on first use.
Right-to-left texts get a right-to-left mark first, and every filled-in value (a reference, a
number, a link) is isolated as left-to-right so it is not scrambled inside Arabic-script text.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from hotline.bot import languages

SOURCE_LANGUAGE = "en"
PERSON = "messages"
VOLUNTEER = "volunteer"
RLM, LRI, PDI = "\u200f", "\u2066", "\u2069"
_locale: ContextVar[str] = ContextVar("hotline_locale", default=SOURCE_LANGUAGE)


def V_(text: str) -> str:
    """Mark a source text for the volunteer catalogue; it is translated when it is sent."""
    return text


def locales_dir() -> Path:
    """Return the folder holding the catalogues."""
    return Path(str(resources.files("hotline") / "locales"))


@lru_cache(maxsize=128)
def catalogue(language: str, domain: str = PERSON) -> gettext.NullTranslations:
    """Load one compiled catalogue, compiling its ``.po`` in memory when no ``.mo`` was built."""
    folder = locales_dir() / language / "LC_MESSAGES"
    compiled, source = folder / f"{domain}.mo", folder / f"{domain}.po"
    if compiled.exists() or not source.exists():
        return gettext.translation(domain, str(locales_dir()), languages=[language], fallback=True)
    with source.open("rb") as handle:
        po = read_po(handle, locale=None)
    buffer = io.BytesIO()
    write_mo(buffer, po)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@contextmanager
def use_locale(language: str | None) -> Iterator[None]:
    """Translate into a language inside the block."""
    token = _locale.set(language or SOURCE_LANGUAGE)
    try:
        yield
    finally:
        _locale.reset(token)


def current_locale() -> str:
    """Return the language texts are translated into right now."""
    return _locale.get()


def translate(message: str, **params: Any) -> str:
    """Translate a person-facing text into the current locale and fill in its placeholders."""
    return _render(catalogue(_locale.get(), PERSON).gettext(message), _locale.get(), params)


def translate_for_volunteer(message: str, **params: Any) -> str:
    """Translate a volunteer-facing text into the current locale and fill in its placeholders."""
    return _render(catalogue(_locale.get(), VOLUNTEER).gettext(message), _locale.get(), params)


def translations_of(message: str, domain: str = PERSON) -> dict[str, str]:
    """Return a text in every served language that has it translated, English included."""
    found = {code: catalogue(code, domain).gettext(message) for code in languages.CODES}
    return {code: text for code, text in found.items() if code == SOURCE_LANGUAGE or text != message}


def _render(text: str, language: str, params: dict[str, Any]) -> str:
    if not languages.get(language).rtl:
        return text.format(**params) if params else text
    isolated = {key: f"{LRI}{value}{PDI}" for key, value in params.items()}
    return RLM + (text.format(**isolated) if params else text)


def format_number(value: int) -> str:
    """Format a number the way the current locale writes it."""
    return format_decimal(value, locale=_babel_locale())


def format_age(age: timedelta) -> str:
    """Say how long ago something was, in the current locale ("5 minutes")."""
    return format_timedelta(age, threshold=1.5, locale=_babel_locale())


@lru_cache(maxsize=64)
def _known_to_babel(locale: str) -> bool:
    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        return False
    return True


def _babel_locale() -> str:
    locale = languages.get(_locale.get()).locale
    return locale if _known_to_babel(locale) else SOURCE_LANGUAGE


_ = translate
