"""Print catalogue coverage per language and what each prompt costs as an SMS in each language.

Run from the repository root: ``.venv/bin/python bench/catalogue_report.py [--all]``. By default
the segment table shows the flow's prompts (what a person must read); ``--all`` shows every text.
"""

from __future__ import annotations

import argparse

from hotline.bot import languages
from hotline.bot.channels.console import sms_segments
from hotline.bot.i18n import translate, use_locale
from hotline.catalogues import coverage, read, template_path
from hotline.flows.model import load_builtin


def prompts(show_all: bool) -> list[str]:
    """Return the English texts to cost."""
    if show_all:
        return sorted(str(m.id) for m in read(template_path("messages")) if m.id)
    flow = load_builtin("distress")
    return [text for node in flow.nodes.values() for text in (node.say, node.ask) if text]


def main() -> None:
    """Print the two tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--all", action="store_true", help="cost every text, not only the flow's prompts")
    show_all = parser.parse_args().all
    shares = coverage()
    print("Coverage (share of texts translated)")
    print(f"{'lang':6} {'messages':>9} {'volunteer':>10}")
    for code in languages.CODES:
        row = shares.get(code, {})
        person = 1.0 if code == "en" else row.get("messages", 0.0)
        volunteer = f"{row['volunteer']:.0%}" if "volunteer" in row else ("100%" if code == "en" else "-")
        print(f"{code:6} {person:>9.0%} {volunteer:>10}")
    texts = prompts(show_all)
    params = {"reference": "K7M-4PX", "ngo_name": "Border Hotline", "ngo_phone": "+37060000000"}
    print("\nSMS cost per prompt (segments; G = GSM-7, U = UCS-2); worst per language last")
    print("lang  " + " ".join(f"p{n:<3}" for n in range(1, len(texts) + 1)) + "  worst")
    for code in languages.CODES:
        with use_locale(code):
            costs = [sms_segments(translate(text, **params)) for text in texts]
        cells = " ".join(f"{seg}{enc[0]:<3}" for enc, seg in costs)
        print(f"{code:5} {cells}  {max(seg for _, seg in costs)}")
    print("\nPrompts:")
    for n, text in enumerate(texts, 1):
        print(f"  p{n}: {text[:90]}")


if __name__ == "__main__":
    main()
