"""Build hook: compile the gettext catalogues (``.po`` to ``.mo``) into the wheel; ``.mo`` files are never committed."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompileCatalogues(BuildHookInterface):  # type: ignore[type-arg]
    """Compile every ``hotline/locales/<lang>/LC_MESSAGES/<domain>.po`` found."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        out = Path(tempfile.mkdtemp(prefix="hotline-mo-"))
        for po in Path(self.root, "hotline", "locales").glob("*/LC_MESSAGES/*.po"):
            with po.open("rb") as source:
                catalogue = read_po(source)
            target = out / po.relative_to(self.root).with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as sink:
                write_mo(sink, catalogue)
            build_data["force_include"][str(target)] = str(po.relative_to(self.root).with_suffix(".mo"))
