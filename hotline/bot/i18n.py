"""Translation at send time: the current locale lives in a ContextVar, catalogues are compiled gettext.

English is the source language; a missing catalogue or message falls back to it. Catalogues are
compiled from ``hotline/locales/<lang>/LC_MESSAGES/messages.po`` by the package build.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from importlib import resources
from typing import Any

SOURCE_LANGUAGE = "en"
_locale: ContextVar[str] = ContextVar("hotline_locale", default=SOURCE_LANGUAGE)


@lru_cache(maxsize=64)
def _catalogue(language: str) -> gettext.NullTranslations:
    directory = str(resources.files("hotline") / "locales")
    return gettext.translation("messages", directory, languages=[language], fallback=True)


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
    """Translate a source text into the current locale and fill in its placeholders."""
    text = _catalogue(_locale.get()).gettext(message)
    return text.format(**params) if params else text


_ = translate
