#!/usr/bin/env python
"""Benchmark of hotline.flows.geo: location parsing, border side and point checks.

PRINTS the one-time cost of the border data (first tzfpy lookup: seconds and growth of peak RSS) and of the
gazetteer, the size of the tzfpy package on disk, then calls per second for parse_location on a mix of formats,
for border_side, near_border and check on random points in the border area. Run from the repository root::

    .venv/bin/python bench/bench_geo.py [--seconds S]

This is not a test: it asserts nothing and never exits non-zero.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import tzfpy

from hotline.flows.geo import REGION, Point, border_side, check, near_border, parse_location, places

T = TypeVar("T")

MESSAGES = {
    "decimal": "we are here 54.12345, 24.45678 help",
    "dms": "54°07'22.8\"N 24°27'21.6\"E",
    "arabic": "موقعنا ٥٤٫١٢٣٤، ٢٤٫٥٦٧٨",
    "google": "https://www.google.com/maps/place/X/@54.0,24.0,15z/data=!3m1!4b1!4m5!3m4!8m2!3d54.1!4d24.4",
    "osm": "https://www.openstreetmap.org/?mlat=54.1&mlon=24.4#map=15/54.1/24.4",
    "yandex": "https://yandex.ru/maps/?ll=24.4,54.1&z=12",
    "plus full": "9G664HF9+94",
    "plus short": "4HF9+94 Varėna",
    "no location": "we are 7 people, 2 children, one is sick, please help",
}


def peak_rss_mib() -> float:
    """Return this process's peak resident set size in MiB (Linux reports KiB)."""
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def timed_once(call: Callable[[], object]) -> tuple[float, float]:
    """Run a call once, returning the seconds taken and the growth of peak RSS in MiB."""
    before, started = peak_rss_mib(), time.perf_counter()
    call()
    return time.perf_counter() - started, peak_rss_mib() - before


def rate(call: Callable[[T], object], inputs: Sequence[T], seconds: float) -> float:
    """Call repeatedly over the inputs for about the given time and return calls per second."""
    calls, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for item in inputs:
            call(item)
        calls += len(inputs)
    return calls / (time.perf_counter() - started)


def package_mib(module_file: str | None) -> float:
    """Return the size on disk of the folder holding a module, in MiB."""
    folder = Path(module_file or ".").parent
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 2**20


def random_points(count: int) -> list[Point]:
    """Return reproducible random points in the border area."""
    generator = random.Random(20211)
    lat_min, lat_max, lon_min, lon_max = REGION
    return [Point(generator.uniform(lat_min, lat_max), generator.uniform(lon_min, lon_max)) for _ in range(count)]


def main(argv: list[str] | None = None) -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time spent on each rate (default 1)")
    seconds = parser.parse_args(argv).seconds

    border_s, border_mib = timed_once(lambda: border_side(Point(54.5, 25.0)))
    places_s, places_mib = timed_once(places)
    print(f"border data: first lookup {border_s * 1000:.1f} ms, peak RSS +{border_mib:.1f} MiB")
    print(f"tzfpy {tzfpy.data_version()} on disk: {package_mib(tzfpy.__file__):.1f} MiB")
    print(f"gazetteer: {len(places())} places loaded in {places_s * 1000:.1f} ms, peak RSS +{places_mib:.1f} MiB")
    print(f"peak RSS now: {peak_rss_mib():.1f} MiB")

    print("\nparse_location, calls per second:")
    for name, text in MESSAGES.items():
        print(f"  {name:<12} {rate(parse_location, [text], seconds):>10,.0f}")
    print(f"  {'mix':<12} {rate(parse_location, list(MESSAGES.values()), seconds):>10,.0f}")

    points = random_points(1000)
    print("\non random points in the border area, calls per second:")
    for name, call in (("border_side", border_side), ("near_border", near_border), ("check", check)):
        print(f"  {name:<12} {rate(call, points, seconds):>10,.0f}")


if __name__ == "__main__":
    main()
