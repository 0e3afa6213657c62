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
    in_region,
    is_implausible,
    near_border,
    parse_location,
    place_named,
    places,
)

OLC_DIGITS = "23456789CFGHJMPQRVWX"
PERSIAN = str.maketrans("0123456789.", "۰۱۲۳۴۵۶۷۸۹٫")
ARABIC = str.maketrans("0123456789.,", "٠١٢٣٤٥٦٧٨٩٫،")
VILNIUS = Point(54.687, 25.280)


def close(point: Point | None, lat: float, lon: float) -> bool:
    return point is not None and abs(point.lat - lat) < 1e-6 and abs(point.lon - lon) < 1e-6


# --------------------------------------------------------------------------- coordinates and links

DMS_LAT = 54 + 7 / 60 + 22.8 / 3600
DMS_LON = 24 + 27 / 60 + 21.6 / 3600


@pytest.mark.parametrize(
    ("text", "lat", "lon"),
    [
        ("54.123, 24.456", 54.123, 24.456),
        ("54.123 24.456", 54.123, 24.456),
        ("54,123 24,456", 54.123, 24.456),
        ("54.123;24.456", 54.123, 24.456),
        ("54.123,24.456", 54.123, 24.456),
        ("54.123/24.456", 54.123, 24.456),
        ("N54.123 E24.456", 54.123, 24.456),
        ("N 54.123, E 24.456", 54.123, 24.456),
        ("54.123N 24.456E", 54.123, 24.456),
        ("54.123 N, 24.456 E", 54.123, 24.456),
        ("E24.456 N54.123", 54.123, 24.456),
        ("lat 54.123 lon 24.456", 54.123, 24.456),
        ("Lat: 54.1, Long: 24.4", 54.1, 24.4),
        ("latitude=54.123 longitude=24.456", 54.123, 24.456),
        ("широта 54.123 долгота 24.456", 54.123, 24.456),
        ("-33.8688, 151.2093", -33.8688, 151.2093),
        ("S33.8688 W70.5", -33.8688, -70.5),
        ("54.1234° N, 24.5678° E", 54.1234, 24.5678),
        ("54°07'22.8\"N 24°27'21.6\"E", DMS_LAT, DMS_LON),
        ("54°07′22.8″N 24°27′21.6″E", DMS_LAT, DMS_LON),
        ("54° 07’ 22.8” N, 24° 27’ 21.6” E", DMS_LAT, DMS_LON),
        ("54°07'22.8''N 24°27'21.6''E", DMS_LAT, DMS_LON),
        ("54 07 22.8 N 24 27 21.6 E", DMS_LAT, DMS_LON),
        ("54°07'N 24°27'E", 54 + 7 / 60, 24 + 27 / 60),
        ("54 07 N 24 27 E", 54 + 7 / 60, 24 + 27 / 60),
        ("N 54 07.380 E 024 27.360", 54.123, 24.456),
        ("54°07'22.8\" 24°27'21.6\"", DMS_LAT, DMS_LON),
        ("٥٤٫١٢٣، ٢٤٫٤٥٦", 54.123, 24.456),
        ("۵۴٫۱۲۳ ۲۴٫۴۵۶", 54.123, 24.456),
        ("24.456, 54.123", 54.123, 24.456),
        ("we are 7 people 54.123 24.456 one sick", 54.123, 24.456),
        ("we are 7 54.123 24.456", 54.123, 24.456),
        ("help!!! location 54.12345,24.45678 please hurry", 54.12345, 24.45678),
        ("https://www.google.com/maps?q=54.1,24.4", 54.1, 24.4),
        ("https://maps.google.com/?q=54.1,24.4", 54.1, 24.4),
        ("https://www.google.com/maps/place/Forest/@54.1,24.4,15z", 54.1, 24.4),
        ("https://www.google.com/maps/@54.1,24.4,15z", 54.1, 24.4),
        ("https://www.google.com/maps/search/54.1,+24.4", 54.1, 24.4),
        ("https://www.google.com/maps?ll=54.1,24.4", 54.1, 24.4),
        ("https://www.google.com/maps/place/X/@54.0,24.0,15z/data=!3m1!4b1!4m5!3m4!8m2!3d54.1!4d24.4", 54.1, 24.4),
        ("look here: <https://www.google.com/maps?q=54.1%2C24.4>", 54.1, 24.4),
        ("google.com/maps?q=54.1,24.4", 54.1, 24.4),
        ("https://www.openstreetmap.org/?mlat=54.1&mlon=24.4#map=15/54.1/24.4", 54.1, 24.4),
        ("https://www.openstreetmap.org/#map=15/54.1/24.4", 54.1, 24.4),
        ("https://maps.apple.com/?ll=54.1,24.4", 54.1, 24.4),
        ("https://maps.apple.com/?q=Dropped%20Pin&sll=54.1,24.4", 54.1, 24.4),
        ("https://yandex.ru/maps/?ll=24.4,54.1&z=12", 54.1, 24.4),
        ("https://yandex.by/maps/?pt=24.4,54.1,pm2rdm&z=12", 54.1, 24.4),
        ("https://waze.com/ul?ll=54.1,24.4", 54.1, 24.4),
        ("https://www.waze.com/ul?ll=54.1%2C24.4&navigate=yes", 54.1, 24.4),
        ("geo:54.1,24.4", 54.1, 24.4),
        ("geo:54.1,24.4?z=15", 54.1, 24.4),
        ("GEO:54.1,24.4;u=35", 54.1, 24.4),
        ("geo:0,0?q=54.1,24.4(Forest)", 54.1, 24.4),
        ("my location geo:54.1,24.4 please", 54.1, 24.4),
    ],
)
def test_parse_location(text: str, lat: float, lon: float) -> None:
    point = parse_location(text)
    assert close(point, lat, lon), point


@pytest.mark.parametrize(
    "text",
    [
        "",
        "help",
        "7 people 2 children",
        "5 3",
        "we are 5 3 kids",
        "54 24",
        "54.1 24.4",
        "12:30 14:45",
        "w 2 w 3",
        "N54 E24",
        "100.123 200.456",
        "95.123, 24.456",
        "54.123, 190.456",
        "54 65 22 N 24 27 21 E",
        "https://maps.app.goo.gl/AbCdEf",
        "https://www.google.com/maps?q=Vilnius",
        "we are 7, one is sick, 2 kids",
        "call +370 612 34567",
        "54.123 and then 24.456",
    ],
)
def test_parse_location_rejects(text: str) -> None:
    assert parse_location(text) is None


def test_point_is_frozen_and_comparable() -> None:
    point = Point(54.1, 24.4)
    assert point == Point(54.1, 24.4)
    with pytest.raises(AttributeError):
        point.lat = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("point", "inside"),
    [
        (Point(54.5, 25.0), True),
        (Point(REGION[0], REGION[2]), True),
        (Point(REGION[1], REGION[3]), True),
        (Point(53.8, 25.0), False),
        (Point(54.5, 27.1), False),
        (Point(0.0, 0.0), False),
    ],
)
def test_in_region(point: Point, inside: bool) -> None:
    assert in_region(point) is inside


@pytest.mark.parametrize(
    ("point", "implausible"),
    [
        (Point(0.0, 0.0), True),
        (Point(54.0, 24.0), True),
        (Point(-33.9, 151.2), True),
        (Point(49.9, 24.5), True),
        (Point(54.5, 33.0), True),
        (Point(float("nan"), 24.5), True),
        (Point(54.5, 24.5), False),
        (Point(58.0, 30.5), False),
        (Point(54.0, 24.5), False),
    ],
)
def test_is_implausible(point: Point, implausible: bool) -> None:
    assert is_implausible(point) is implausible


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


@settings(max_examples=300, deadline=None)
@given(
    st.floats(min_value=REGION[0], max_value=REGION[1]),
    st.floats(min_value=REGION[2], max_value=REGION[3]),
    st.integers(min_value=4, max_value=6),
    st.sampled_from(["plain", "space", "comma", "google", "geo", "persian", "arabic", "osm", "yandex", "hint"]),
)
def test_location_roundtrip(lat: float, lon: float, places: int, style: str) -> None:
    a, b = f"{lat:.{places}f}", f"{lon:.{places}f}"
    text = {
        "plain": f"{a}, {b}",
        "space": f"we are here {a} {b} help",
        "comma": f"{a.replace('.', ',')} {b.replace('.', ',')}",
        "google": f"https://www.google.com/maps?q={a},{b}",
        "geo": f"geo:{a},{b}?z=15",
        "persian": f"{a} {b}".translate(PERSIAN),
        "arabic": f"{a}, {b}".translate(ARABIC),
        "osm": f"https://www.openstreetmap.org/?mlat={a}&mlon={b}#map=15/{a}/{b}",
        "yandex": f"https://yandex.ru/maps/?ll={b},{a}&z=15",
        "hint": f"N{a} E{b}",
    }[style]
    assert close(parse_location(text), float(a), float(b)), text
