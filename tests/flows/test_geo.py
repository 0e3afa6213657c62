"""Tests for hotline.flows.geo: plus codes, places, border side and point checks, plus property tests.

Plus-code examples were checked against the reference Open Location Code library; border points were picked
a few kilometres either side of the Lithuania–Belarus line.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hotline.flows.geo import (
    REGION,
    Point,
    PointCheck,
    border_side,
    check,
    format_point,
    near_border,
    parse_location,
    place_named,
    places,
)

OLC_DIGITS = "23456789CFGHJMPQRVWX"
VILNIUS = Point(54.687, 25.280)


def close(point: Point | None, lat: float, lon: float) -> bool:
    return point is not None and abs(point.lat - lat) < 1e-6 and abs(point.lon - lon) < 1e-6


# --------------------------------------------------------------------------- plus codes


@pytest.mark.parametrize(
    ("text", "lat", "lon"),
    [
        ("9G664HF9+94", 54.1234375, 24.5678125),
        ("9g664hf9+94", 54.1234375, 24.5678125),
        ("9G55XWQ2+2FW", 53.9876125, 23.901203125),
        ("9G67896P+36J2", 54.3102025, 25.38550390625),
        ("9G67M7PJ+", 54.68625, 25.28125),
        ("9G670000+", 54.5, 25.5),
        ("4RRH46J5+FP", -33.8688125, 151.2093125),
        ("we are at 9G78C8JW+R6 please come", 55.4320625, 26.3455625),
        ("https://plus.codes/9G664HF9+94", 54.1234375, 24.5678125),
    ],
)
def test_full_plus_codes(text: str, lat: float, lon: float) -> None:
    assert close(parse_location(text), lat, lon)


@pytest.mark.parametrize(
    ("text", "lat", "lon"),
    [
        ("7X2M+QG Druskininkai", 54.2519375, 23.9838125),
        ("Druskininkai 7X2M+QG", 54.2519375, 23.9838125),
        ("7X2M+QG Druskininkai, Lithuania", 54.2519375, 23.9838125),
        ("7X2M+QG DRUSKININKAI", 54.2519375, 23.9838125),
        ("7X2M+QG Друскининкай", 54.2519375, 23.9838125),
        ("89+4M Druskininkai", 54.0153125, 23.9691875),
        ("CC+9H Vilnius", 54.6709375, 25.2714375),
        ("CC+9H Вильнюс", 54.6709375, 25.2714375),
        ("CC+9H فيلنيوس", 54.6709375, 25.2714375),
        ("CC+9H ویلنیوس", 54.6709375, 25.2714375),
        ("2X89+4M Vilnius", 55.0153125, 24.9691875),
        ("4HF9+94 Varėna", 54.1234375, 24.5678125),
        ("4HF9+94 Varena", 54.1234375, 24.5678125),
        ("4HF9+94 Varėnoje", 54.1234375, 24.5678125),
        ("C8JW+R6 Ignalina", 55.4320625, 26.3455625),
        ("Vilnius is far, we are at 4HF9+94 near Varena", 54.1234375, 24.5678125),
        ("https://www.google.com/maps/place/7X2M%2BQG+Druskininkai/@54.2,23.9,15z", 54.2519375, 23.9838125),
    ],
)
def test_short_plus_codes_with_a_place(text: str, lat: float, lon: float) -> None:
    assert close(parse_location(text), lat, lon)


@pytest.mark.parametrize(
    "text",
    [
        "7X2M+QG",
        "7X2M+QG Atlantis",
        "X2M+QG Vilnius",
        "7X2M+Q Vilnius",
        "2345+22 Vilnius",
        "we are 3+2 in Vilnius",
        "9G7+",
        "9G00+",
        "9G70000+",
        "9G670000+QG",
        "XG657X2M+QG",
        "9G657X2M+QGQGQGQG",
        "A7X2M+QG Vilnius",
    ],
)
def test_plus_code_lookalikes_are_rejected(text: str) -> None:
    assert parse_location(text) is None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=OLC_DIGITS, min_size=6, max_size=6))
def test_short_code_recovers_the_full_code(digits: str) -> None:
    assume(any(char.isalpha() for char in digits))  # a code of digits alone is read as a sum, not a place
    full = parse_location(f"9G67{digits[:4]}+{digits[4:]}")
    assert full is not None
    assume(abs(full.lat - VILNIUS.lat) < 0.49 and abs(full.lon - VILNIUS.lon) < 0.49)
    assert close(parse_location(f"{digits[:4]}+{digits[4:]} Vilnius"), full.lat, full.lon)


# --------------------------------------------------------------------------- other formats


@pytest.mark.parametrize(
    ("text", "lat", "lon"),
    [
        ("lat 54.1 lon 24.4", 54.1, 24.4),
        ("موقعنا ٥٤٫١٢٣٤، ٢٤٫٥٦٧٨", 54.1234, 24.5678),
        ("موقعنا٥٤٫١٢٣٤،٢٤٫٥٦٧٨", 54.1234, 24.5678),
        ("\u200f٥٤٫١٢٣٤\u200f، \u200f٢٤٫٥٦٧٨\u200f", 54.1234, 24.5678),
        ("ما اینجا هستیم ۵۴٫۱۲۳۴ ۲۴٫۵۶۷۸ کمک", 54.1234, 24.5678),
        ("https://maps.apple.com/?q=Dropped%20Pin&sll=54.1,24.4&z=14", 54.1, 24.4),
        ("https://www.waze.com/ul?ll=54.1,24.4&navigate=yes", 54.1, 24.4),
        ("https://www.openstreetmap.org/#map=17/54.1/24.4", 54.1, 24.4),
        ("https://yandex.ru/maps/?ll=24.4,54.1&z=12", 54.1, 24.4),
        ("https://yandex.ru/maps/?pt=24.4,54.1&z=12", 54.1, 24.4),
        ("https://yandex.ru/maps/?whatshere%5Bpoint%5D=24.4%2C54.1&whatshere%5Bzoom%5D=17", 54.1, 24.4),
    ],
)
def test_more_location_forms(text: str, lat: float, lon: float) -> None:
    assert close(parse_location(text), lat, lon)


@pytest.mark.parametrize(
    "text",
    ["Live location", "📍 Live location for 8 hours", "https://maps.app.goo.gl/Xy7ZqW", "https://goo.gl/maps/Xy7ZqW"],
)
def test_links_without_coordinates_give_nothing(text: str) -> None:
    assert parse_location(text) is None


def test_swapped_pairs_are_marked_but_compare_equal() -> None:
    point = parse_location("24.456, 54.123")
    assert point == Point(54.123, 24.456)
    assert point is not None and point.swapped
    straight = parse_location("54.123, 24.456")
    assert straight is not None and not straight.swapped


def test_explicit_hemispheres_are_never_swapped() -> None:
    point = parse_location("E24.456 N54.123")
    assert point is not None and not point.swapped


# --------------------------------------------------------------------------- places and border side


@pytest.mark.parametrize(
    ("name", "side"),
    [
        ("Druskininkai", "LT"),
        ("Medininkai", "LT"),
        ("Adutiškis", "LT"),
        ("Grodno", "BY"),
        ("Гродна", "BY"),
        ("Ashmyany", "BY"),
        ("Sejny", "PL"),
        ("Białystok", "PL"),
        ("Daugavpils", "LV"),
        ("Kaliningrad", "RU"),
    ],
)
def test_border_side_of_towns(name: str, side: str) -> None:
    place = place_named(name)
    assert place is not None and border_side(place.point) == side


def test_every_place_lies_in_its_country() -> None:
    assert len(places()) >= 30
    assert {place.name for place in places() if border_side(place.point) != place.country} == set()


@pytest.mark.parametrize("spelling", ["Šalčininkai", "salcininkai", " SALČININKAI ", "Soleczniki", "Салечнікі"])
def test_place_spellings_are_folded(spelling: str) -> None:
    place = place_named(spelling)
    assert place is not None and place.name == "Šalčininkai"


def test_unknown_place() -> None:
    assert place_named("Atlantis") is None
    assert place_named("") is None


@pytest.mark.parametrize(
    ("point", "side"),
    [
        (Point(54.55, 25.68), "LT"),  # ~2 km west of the line near Medininkai
        (Point(54.55, 25.76), "BY"),  # ~3 km east of it
        (Point(55.3, 26.79), "LT"),  # ~3 km west of the line near Adutiškis
        (Point(55.3, 26.87), "BY"),
        (Point(54.3, 25.45), "LT"),  # east of Šalčininkai
        (Point(54.3, 25.495), "BY"),  # the Belarusian bulge 1 km further east
        (Point(48.85, 2.35), None),
        (Point(0.0, 0.0), None),
        (Point(float("nan"), 24.0), None),
        (Point(54.0, float("inf")), None),
        (Point(1e300, -1e300), None),
    ],
)
def test_border_side(point: Point, side: str | None) -> None:
    assert border_side(point) == side


@pytest.mark.parametrize(
    ("point", "near"),
    [
        (Point(54.55, 25.71), True),  # a few hundred metres from the line
        (Point(54.55, 25.72), True),
        (Point(54.55, 25.68), False),
        (Point(54.55, 25.76), False),
        (Point(54.687, 25.280), False),  # Vilnius
        (Point(48.85, 2.35), False),
        (Point(float("nan"), float("nan")), False),
    ],
)
def test_near_border(point: Point, near: bool) -> None:
    assert near_border(point) is near


def test_check_a_forest_point() -> None:
    assert check(Point(54.55, 25.71)) == PointCheck(
        in_region=True, side="LT", near_border=True, implausible=False, swapped=False
    )


def test_check_shows_a_swap() -> None:
    point = parse_location("25.76 54.55")
    assert point is not None
    assert check(point) == PointCheck(in_region=True, side="BY", near_border=False, implausible=False, swapped=True)


def test_check_flags_implausible_points() -> None:
    assert check(Point(0.0, 0.0)) == PointCheck(
        in_region=False, side=None, near_border=False, implausible=True, swapped=False
    )


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_location_never_raises(text: str) -> None:
    point = parse_location(text)
    assert point is None or (-90 <= point.lat <= 90 and -180 <= point.lon <= 180)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(f"{OLC_DIGITS}{OLC_DIGITS.lower()}0+ /%Bvilnius"), max_size=60))
def test_parse_location_never_raises_on_plus_code_soup(text: str) -> None:
    point = parse_location(text)
    assert point is None or (-90 <= point.lat <= 90 and -180 <= point.lon <= 180)


@settings(max_examples=300, deadline=None)
@given(st.floats(), st.floats())
def test_check_never_raises(lat: float, lon: float) -> None:
    result = check(Point(lat, lon))
    assert result.side in {None, "LT", "BY", "PL", "LV", "RU"}


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=REGION[0], max_value=REGION[1]), st.floats(min_value=REGION[2], max_value=REGION[3]))
def test_format_then_parse_round_trip(lat: float, lon: float) -> None:
    text = format_point(Point(lat, lon))
    point = parse_location(text)
    assert point is not None and format_point(point) == text
    assert abs(point.lat - lat) <= 5e-6 and abs(point.lon - lon) <= 5e-6


@pytest.mark.parametrize(
    "text",
    ["7X2M+QG " * 2500, "CC+9H " + "Vilnius " * 2500, "2" * 20000 + "+", "C" * 20000 + "+QG", "a+" * 10000],
    ids=range(5),
)
def test_huge_plus_code_inputs_are_fast(text: str) -> None:
    started = time.perf_counter()
    parse_location(text)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    "text",
    ["Koordinatės 54.1567, 24.2894", "Grupė miške, koordinatės: 54.1567 24.2894", "wir sind hier 54.1567 24.2894"],
)
def test_a_word_ending_in_s_or_w_is_not_a_hemisphere(text: str) -> None:
    assert parse_location(text) == Point(54.1567, 24.2894)
