"""Print catalogue coverage per language and what each prompt costs as an SMS in each language.

Run from the repository root: ``.venv/bin/python bench/catalogue_report.py [--all]``. By default
the SMS table shows the most expensive SMS per language; ``--all`` lists every SMS the bot can send.
"""

from __future__ import annotations

import argparse

from hotline.bot import languages, sms_cost
from hotline.catalogues import coverage


def main() -> None:
    """Print the two tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--all", action="store_true", help="list every SMS, not only the worst per language")
    show_all = parser.parse_args().all
    shares = coverage()
    print("Coverage (share of texts translated)")
    print(f"{'lang':6} {'messages':>9} {'volunteer':>10}")
    for code in languages.CODES:
        row = shares.get(code, {})
        person = 1.0 if code == "en" else row.get("messages", 0.0)
        volunteer = f"{row['volunteer']:.0%}" if "volunteer" in row else ("100%" if code == "en" else "-")
        print(f"{code:6} {person:>9.0%} {volunteer:>10}")
    print_sms_costs(show_all)


def print_sms_costs(show_all: bool) -> None:
    """Print, per language, the SMS the bot really sends (as ``sms_cost`` walks the flow) and the worst ones."""
    print("\nSMS as sent (numbered options, GSM-7 folding): worst per language, budget in brackets")
    print(f"{'lang':6} {'worst':>5} {'enc':6} {'chars':>5}  what")
    for code in languages.CODES:
        costs = sorted(sms_cost.sms_costs(code), key=lambda c: (c.segments, len(c.text)), reverse=True)
        for cost in costs if show_all else costs[:1]:
            budget = sms_cost.budget(code)
            flag = "" if cost.segments <= budget else "  OVER"
            print(f"{code:6} {cost.segments:>5} {cost.encoding:6} {len(cost.text):>5}  {cost.what} [{budget}]{flag}")


if __name__ == "__main__":
    main()
