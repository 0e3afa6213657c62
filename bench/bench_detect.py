#!/usr/bin/env python
"""Benchmark of first-message language detection (hotline.flows.detect) on tests/i18n/first_messages.yaml.

PRINTS overall and per-language accuracy, every confusion (text -> expected/got), the average and p99 time
per call once the models are loaded, and the detector's memory footprint: the growth of peak RSS
(``resource.getrusage``) across the first pass, which loads lingua's models. Run from the repository root::

    .venv/bin/python bench/bench_detect.py [--repeat N]

This is not a test: it asserts nothing and never exits non-zero.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from hotline.flows.detect import SERVED, detect_language

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "i18n" / "first_messages.yaml"


def peak_rss_mib() -> float:
    """Return this process's peak resident set size in MiB (Linux reports KiB)."""
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def first_pass(messages: list[dict[str, str]]) -> tuple[list[str | None], float, float]:
    """Detect every message once, returning the answers, the seconds taken and the RSS growth."""
    before = peak_rss_mib()
    start = time.perf_counter()
    got = [detect_language(message["text"]) for message in messages]
    return got, time.perf_counter() - start, peak_rss_mib() - before


def timings(messages: list[dict[str, str]], repeat: int) -> list[float]:
    """Time each call, in microseconds, over repeated passes with the models loaded."""
    samples = []
    for _ in range(repeat):
        for message in messages:
            start = time.perf_counter_ns()
            detect_language(message["text"])
            samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def report_accuracy(messages: list[dict[str, str]], got: list[str | None]) -> None:
    """Print overall and per-language accuracy and the confusions."""
    total = Counter(message["lang"] for message in messages)
    right = Counter(m["lang"] for m, g in zip(messages, got, strict=True) if g == m["lang"])
    print(f"overall accuracy: {sum(right.values())}/{len(messages)} = {sum(right.values()) / len(messages):.1%}")
    print("per language:")
    for lang in SERVED:
        print(f"  {lang:<4} {right[lang]}/{total[lang]} = {right[lang] / max(total[lang], 1):.0%}")
    confusions = [(m, g) for m, g in zip(messages, got, strict=True) if g != m["lang"]]
    print(f"confusions: {len(confusions)}")
    for message, guess in confusions:
        print(f"  {message['text']!r} -> expected {message['lang']}, got {guess}")


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed passes over the corpus (default 20)")
    args = parser.parse_args()
    corpus = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    messages: list[dict[str, str]] = corpus["messages"]
    got, load_seconds, rss_delta = first_pass(messages)
    report_accuracy(messages, got)
    undetermined = [text for text in corpus["undetermined"] if detect_language(text) is not None]
    print(f"undetermined inputs giving a language (should be 0): {len(undetermined)} {undetermined}")
    samples = sorted(timings(messages, args.repeat))
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"first pass (loads the models): {load_seconds * 1000:.0f} ms for {len(messages)} messages")
    print(f"per call, models loaded ({len(samples)} calls): avg {statistics.fmean(samples):.0f} µs, p99 {p99:.0f} µs")
    print(f"memory: peak RSS grew {rss_delta:.1f} MiB over the first pass (now {peak_rss_mib():.1f} MiB)")


if __name__ == "__main__":
    main()
