"""The catalogue template holds every text of the code and the flows, and is up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]


def msgids(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {str(message.id) for message in read_po(handle) if message.id}


def test_the_template_matches_the_code_and_the_flows(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [
            str(pybabel),
            "-q",
            "extract",
            "--mapping-file",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "translate",
            "--no-location",
            "--output-file",
            str(fresh),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    committed = msgids(ROOT / "hotline" / "locales" / "messages.pot")
    assert msgids(fresh) == committed, "run scripts/extract-messages"


def test_the_template_has_flow_texts_and_code_texts() -> None:
    committed = msgids(ROOT / "hotline" / "locales" / "messages.pot")
    assert "How many people are with you, counting yourself?" in committed
    assert "Please send just a number, for example 5." in committed
    assert "Talk to a person" in committed
