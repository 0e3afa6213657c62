"""The languages the hotline speaks: names in their own script, writing direction, and Babel locales."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """One served language."""

    code: str
    native: str
    rtl: bool = False
    babel: str | None = None

    @property
    def locale(self) -> str:
        """Return the Babel/CLDR locale used to format numbers and durations."""
        return self.babel or self.code


LANGUAGES = (
    Language("ar", "العربية", rtl=True),
    Language("fa", "فارسی / دری", rtl=True),
    Language("ps", "پښتو", rtl=True),
    Language("ckb", "کوردی (سۆرانی)", rtl=True),
    Language("kmr", "Kurmancî", babel="ku"),
    Language("ur", "اردو", rtl=True),
    Language("fr", "Français"),
    Language("es", "Español"),
    Language("en", "English"),
    Language("ru", "Русский"),
    Language("uk", "Українська"),
    Language("be", "Беларуская"),
    Language("lt", "Lietuvių"),
    Language("pl", "Polski"),
    Language("tr", "Türkçe"),
    Language("so", "Soomaali"),
    Language("ti", "ትግርኛ"),
    Language("am", "አማርኛ"),
    Language("hi", "हिन्दी"),
    Language("ta", "தமிழ்"),
    Language("si", "සිංහල"),
)
BY_CODE = {language.code: language for language in LANGUAGES}
CODES = tuple(BY_CODE)
VOLUNTEER_CODES = ("en", "lt")


def get(code: str | None) -> Language:
    """Return a served language, English for anything unknown."""
    return BY_CODE.get(code or "", BY_CODE["en"])


def is_served(code: str | None) -> bool:
    """Tell whether the hotline speaks a language."""
    return code in BY_CODE
