#!/usr/bin/env python
"""Benchmark of one-shot extraction (hotline.flows.extract) on the message corpora in tests/corpus/.

PRINTS, for the tuned corpus (messages.yaml) and then, apart, for the held-out corpus (held_out.yaml, never tuned
on), the number of messages and languages, the accuracy per field and a compact table of accuracy per language
and field; then the throughput of ``extract`` on the tuned corpus: messages per second and p50/p99 milliseconds
per message over repeated passes. ``--misses`` also lists every wrong field (id, field, expected, got). Run from
the repository root::

    .venv/bin/python bench/bench_parsers.py [--repeat N] [--misses]

This is not a test: it asserts nothing and never exits non-zero.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hotline.flows.extract import extract  # noqa: E402
from tests.corpus import CORPUS, FIELDS, HELD_OUT, Miss, accuracy, compare, found_fields, load_messages  # noqa: E402

SHORT = {
    "location": "loc",
    "people": "ppl",
    "children": "kids",
    "pregnant": "preg",
    "medical": "med",
    "red_flags": "flags",
    "asylum": "asyl",
    "needs": "needs",
    "distress": "dist",
}


def score_all(messages: list[dict[str, Any]]) -> list[Miss]:
    """Run extract once on every message and list every wrong field."""
    return [miss for message in messages for miss in compare(message, found_fields(extract(message["text"])))]


def nearest_rank(samples: list[float], share: float) -> float:
    """Return the nearest-rank percentile of sorted samples."""
    return samples[min(len(samples) - 1, max(0, round(share * len(samples)) - 1))]


def timings(messages: list[dict[str, Any]], repeat: int) -> list[float]:
    """Time each call of extract, in milliseconds, over repeated passes; return them sorted."""
    samples = []
    for _ in range(repeat):
        for message in messages:
            start = time.perf_counter_ns()
            extract(message["text"])
            samples.append((time.perf_counter_ns() - start) / 1e6)
    return sorted(samples)


def report_fields(total: int, misses: list[Miss], label: str) -> None:
    """Print the accuracy per field over a whole corpus, under a label naming it."""
    wrong = Counter(miss.field for miss in misses)
    print(f"accuracy per field, {label}:")
    for field, share in accuracy(total, misses).items():
        print(f"  {field:<10} {total - wrong[field]:>4}/{total} = {share:6.1%}")


def report_languages(messages: list[dict[str, Any]], misses: list[Miss]) -> None:
    """Print a table of accuracy (whole percent) per language and field."""
    lang_of = {message["id"]: message["lang"] for message in messages}
    count = Counter(message["lang"] for message in messages)
    by_lang: defaultdict[str, list[Miss]] = defaultdict(list)
    for miss in misses:
        by_lang[lang_of[miss.id]].append(miss)
    print("accuracy per language and field, %:")
    print("  lang     n " + " ".join(f"{SHORT[field]:>5}" for field in FIELDS))
    for lang, n in count.most_common():
        scores = accuracy(n, by_lang[lang])
        print(f"  {lang:<6} {n:>3} " + " ".join(f"{scores[field] * 100:>5.0f}" for field in FIELDS))


def report_speed(messages: list[dict[str, Any]], repeat: int) -> None:
    """Print messages per second (time inside extract only) and the p50/p99 time per message."""
    samples = timings(messages, repeat)
    p50, p99 = nearest_rank(samples, 0.5), nearest_rank(samples, 0.99)
    rate = len(samples) / (sum(samples) / 1000)
    print(f"throughput over {len(samples)} calls ({repeat} passes): {rate:,.0f} messages/s")
    print(f"per message: p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {samples[-1]:.3f} ms")


def report_corpus(messages: list[dict[str, Any]], label: str, *, show_misses: bool) -> None:
    """Print a corpus's size, its accuracy per field and per language, and its misses when asked."""
    languages = {message["lang"] for message in messages} - {"mixed"}
    mixed = sum(1 for message in messages if message["lang"] == "mixed")
    print(f"{label}: {len(messages)} messages in {len(languages)} languages (+{mixed} mixed-language)")
    misses = score_all(messages)
    report_fields(len(messages), misses, label)
    report_languages(messages, misses)
    if show_misses:
        print(f"misses: {len(misses)}")
        for miss in misses:
            print(f"  {miss.id:<8} {miss.field:<9} expected {miss.expected!r}, got {miss.got!r}")


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed passes over the corpus (default 20)")
    parser.add_argument("--misses", action="store_true", help="list every wrong field")
    args = parser.parse_args()
    messages = load_messages(CORPUS)
    report_corpus(messages, "tuned (messages.yaml)", show_misses=args.misses)
    print()
    report_corpus(load_messages(HELD_OUT), "held-out (never tuned on)", show_misses=args.misses)
    print()
    report_speed(messages, args.repeat)


if __name__ == "__main__":
    main()
