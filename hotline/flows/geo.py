"""Understand where people are: coordinates, map links, geo: URIs and plus codes, and which country a point is in.

Every function here is pure and total: any string or point in, an answer or None out, never an exception.

Which side of the border: `border_side` asks tzfpy (timezone-boundary-builder polygons built from OpenStreetMap
boundaries, release 2026e). Lithuania, Belarus, Poland, Latvia and the Kaliningrad region each lie wholly in one
time zone, so the zone names the country. tzfpy ships simplified polygons: on a grid of about 1 million points
(every 0.004°, 53.3–56.6 N, 22.5–27.3 E) it agreed with the unsimplified polygons of timezonefinder everywhere
except 211 points, all within 100 m of the line (median 20 m). `near_border` looks at 36 points on circles of 1/3, 2/3
and 1 km around the point: on 3,800 points near the Lithuania–Belarus line it was set for every point closer than
775 m, for 98% of those 800–900 m away, 90% at 900–1000 m and none beyond about 1.05 km. Answers near the line may be
wrong by the width of a field, and the person may not know either.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from urllib.parse import parse_qs, unquote, unquote_plus, urlsplit

import tzfpy
import yaml

from hotline.flows.parsers import normalize_digits

REGION = (53.9, 56.4, 23.5, 27.0)  # lat_min, lat_max, lon_min, lon_max of the Lithuania–Belarus border area
_WIDE_AREA = (50.0, 60.0, 18.0, 32.0)
NEAR_BORDER_M = 1000.0
_SIDE_BY_ZONE = {
    "Europe/Vilnius": "LT",
    "Europe/Minsk": "BY",
    "Europe/Warsaw": "PL",
    "Europe/Riga": "LV",
    "Europe/Kaliningrad": "RU",
}
_METRES_PER_DEGREE = 111_320.0
_RINGS = 3  # near_border looks at 6, 12 and 18 points on circles of 1/3, 2/3 and 1 times NEAR_BORDER_M

# --------------------------------------------------------------------------- locations


@dataclass(frozen=True)
class Point:
    """A WGS84 position in decimal degrees; `swapped` tells that the sender wrote longitude first."""

    lat: float
    lon: float
    swapped: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class PointCheck:
    """What we can tell about a point without asking anyone."""

    in_region: bool
    side: str | None
    near_border: bool
    implausible: bool
    swapped: bool


@dataclass(frozen=True)
class Place:
    """A town or village that short plus codes can be read against."""

    name: str
    point: Point
    country: str


_LOCATION_MAP = str.maketrans(
    {
        "º": "°",
        "˚": "°",
        "\u2032": "'",
        "\u2019": "'",
        "\u2018": "'",
        "\u00b4": "'",
        "\u02b9": "'",
        "\u2033": '"',
        "\u201d": '"',
        "\u201c": '"',
        "\u02ba": '"',
        "\u2212": "-",
        "\u00a0": " ",
        # Right-to-left messages carry invisible direction marks between the numbers.
        **dict.fromkeys(["\u200e", "\u200f", "\u061c", "\u200b", *map(chr, range(0x202A, 0x202F))], " "),
        **dict.fromkeys(map(chr, range(0x2066, 0x206A)), " "),
    }
)
# Minutes and seconds: never followed by a degree sign, so "54° 24°" is two components, not one.
_SUB = r"\d{1,2}+(?!\d)(?:[.,]\d++)?+(?!\s*+°)"
_HINT = r"[nsew](?![^\W\d_])"
_COMPONENT = re.compile(
    rf"""
    (?<![0-9A-Za-z_.])
    (?:(?<![^\W\d_])  # a hint is a word of its own: the "s" ending "Koordinatės" is not South
       (?P<pre>{_HINT}|(?:lat(?:itude)?|lon(?:g(?:itude)?)?|lng|широта|долгота|enlem|boylam)(?![^\W\d_]))
       \s*+[.:=]?\s*+)?
    (?P<sign>[-+])?
    (?P<deg>\d{{1,3}}+)(?!\d)
    (?:
        (?P<frac>[.,]\d++)(?:\s*+(?P<fsym>°))?
      | \s*+(?P<dsym>°)\s*+(?:(?P<min>{_SUB})\s*+'?\s*+(?:(?P<sec>{_SUB})\s*+"?)?)?
      | :(?P<cmin>{_SUB})(?::(?P<csec>{_SUB}))?
      | (?(pre)\s++(?P<smin>{_SUB})(?:\s++(?P<ssec>{_SUB}))?
              |\s++(?P<tmin>{_SUB})(?:\s++(?P<tsec>{_SUB}))?(?=\s*+{_HINT}))
    )?
    (?(pre)|(?:\s*+(?P<suf>{_HINT}))?)
    """,
    re.VERBOSE | re.IGNORECASE,
)
_GAP = re.compile(r"[\s,;/|]*+")
_LAT_WORDS = frozenset({"n", "s", "lat", "latitude", "широта", "enlem"})
_NEGATIVE_HINTS = frozenset({"s", "w"})

_UNUM = r"[-+]?\d{1,3}+(?!\d)(?:\.\d++)?"
_UDEC = r"[-+]?\d{1,3}+(?!\d)\.\d++"
_URL_PAIR = re.compile(rf"(?<!\d)(?<!\d\.)({_UDEC})(?:\s*+,\s*+|\s++)({_UDEC})(?![\d.])")
_ANY_PAIR = re.compile(rf"(?<!\d)(?<!\d\.)({_UNUM})(?:\s*+,\s*+|\s++)({_UNUM})(?![\d.])")
_GEO = re.compile(rf"geo:\s*+({_UNUM})\s*+,\s*+({_UNUM})", re.IGNORECASE)
_PIN = re.compile(rf"!3d({_UNUM})!4d({_UNUM})")
_AT = re.compile(rf"@({_UNUM}),({_UNUM})")
_OSM_FRAGMENT = re.compile(rf"map=\d{{1,2}}+/({_UNUM})/({_UNUM})")
_URL_HOSTS = ("google.", "goo.gl", "openstreetmap.", "osm.org", "yandex.", "waze.com", "apple.com")
_URL_KEYS = ("q", "query", "daddr", "destination", "to", "ll", "sll", "center", "cbll", "near", "coordinate")
_YANDEX_KEYS = ("pt", "whatshere[point]", "ll")
_URL_STRIP = "<>()[]{}\"'.,;!?"


@dataclass(frozen=True)
class _Component:
    """One coordinate found in text, e.g. `N54.123` or `24°27'21.6"E`."""

    value: float
    axis: str | None
    strong: bool
    start: int
    end: int


def parse_location(text: str) -> Point | None:
    """Find one position in free text: a coordinate pair, a map link, a geo: URI or a plus code."""
    text = normalize_digits(text).translate(_LOCATION_MAP).replace("''", '"')
    for token in _url_tokens(text):
        point = _from_url(token)
        if point is not None:
            return point
    return _from_text(text) or _from_plus_code(text)


def format_point(point: Point) -> str:
    """Write a point the way parse_location reads it back: latitude first, five decimals (about 1 m)."""
    return f"{point.lat:.5f}, {point.lon:.5f}"


def in_region(point: Point) -> bool:
    """Tell whether a point lies in the Lithuania–Belarus border area."""
    lat_min, lat_max, lon_min, lon_max = REGION
    return lat_min <= point.lat <= lat_max and lon_min <= point.lon <= lon_max


def is_implausible(point: Point) -> bool:
    """Flag (0,0), whole-degree pairs and points far outside the wider region as probably wrong."""
    if not (math.isfinite(point.lat) and math.isfinite(point.lon)):
        return True
    if (point.lat == 0 and point.lon == 0) or (point.lat.is_integer() and point.lon.is_integer()):
        return True
    lat_min, lat_max, lon_min, lon_max = _WIDE_AREA
    return not (lat_min <= point.lat <= lat_max and lon_min <= point.lon <= lon_max)


def border_side(point: Point) -> str | None:
    """Name the country a point is in: "LT", "BY", "PL", "LV", "RU" (Kaliningrad), or None elsewhere."""
    return _side(point.lat, point.lon)


def near_border(point: Point) -> bool:
    """Tell whether a border of the countries we know runs within about 1 km of a point."""
    side = border_side(point)
    if side is None:
        return False
    return any(_side(lat, lon) != side for lat, lon in _surroundings(point, NEAR_BORDER_M))


def check(point: Point) -> PointCheck:
    """Say where a point is and whether it looks mistyped."""
    return PointCheck(
        in_region=in_region(point),
        side=border_side(point),
        near_border=near_border(point),
        implausible=is_implausible(point),
        swapped=point.swapped,
    )


def places() -> tuple[Place, ...]:
    """List the towns and villages that short plus codes can be read against."""
    return tuple(dict.fromkeys(_places_by_name().values()))


def place_named(name: str) -> Place | None:
    """Find a known town or village by any of its spellings, ignoring case and accents."""
    return _places_by_name().get(_fold(name.strip()))


def _point(lat: float, lon: float, reorder: bool = True) -> Point | None:
    """Build a valid point, swapping lat/lon when they are clearly entered the wrong way round."""
    lat_min, lat_max, lon_min, lon_max = REGION
    swapped = reorder and lon_min <= lat <= lon_max and lat_min <= lon <= lat_max
    if swapped:
        lat, lon = lon, lat
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return Point(lat, lon, swapped=swapped)
    return None


def _number(raw: str | None) -> float:
    """Read a decimal number written with '.' or ','."""
    return float(raw.replace(",", ".")) if raw else 0.0


# ----- free text


def _from_text(text: str) -> Point | None:
    """Find the first pair of adjacent coordinate components that forms a valid point."""
    previous: _Component | None = None
    for match in _COMPONENT.finditer(text):
        current = _component(match)
        if previous is not None and current is not None and _GAP.fullmatch(text, previous.end, current.start):
            point = _pair(previous, current)
            if point is not None:
                return point
        previous = current
    return None


def _component(match: re.Match[str]) -> _Component | None:
    """Turn a regex match into a coordinate component, or None if minutes/seconds are out of range."""
    groups = match.groupdict()
    minutes = _number(groups["min"] or groups["cmin"] or groups["smin"] or groups["tmin"])
    seconds = _number(groups["sec"] or groups["csec"] or groups["ssec"] or groups["tsec"])
    if minutes >= 60 or seconds >= 60:
        return None
    hint = (groups["pre"] or groups["suf"] or "").casefold() or None
    frac = groups["frac"]
    value = int(groups["deg"]) + _number(f"0{frac}" if frac else None) + minutes / 60 + seconds / 3600
    if groups["sign"] == "-" or hint in _NEGATIVE_HINTS:
        value = -value
    axis = None if hint is None else "lat" if hint in _LAT_WORDS else "lon"
    # Bare decimals need 2+ places to be trusted; a lone "w 2" (Polish "in 2") must not pass as a hemisphere.
    explicit = bool(groups["dsym"] or groups["fsym"]) or (hint is not None and bool(frac or minutes or seconds))
    strong = explicit or bool(frac and len(frac) >= 3)
    return _Component(value, axis, strong, match.start(), match.end())


def _pair(first: _Component, second: _Component) -> Point | None:
    """Combine two components into a point using their hemisphere hints when present."""
    if not (first.strong and second.strong):
        return None
    if first.axis == "lon" or second.axis == "lat":
        first, second = second, first
    if first.axis == "lon" or second.axis == "lat":
        return None
    return _point(first.value, second.value, reorder=first.axis is None and second.axis is None)


# ----- plus codes (Open Location Code)

_OLC_ALPHABET = "23456789CFGHJMPQRVWX"
_OLC_VALUE = {char: value for value, char in enumerate(_OLC_ALPHABET)}
_OLC_DIGITS = "[2-9CFGHJMPQRVWX]"
_PLUS_CODE = re.compile(rf"(?<![^\W_])({_OLC_DIGITS}{{2,8}}+)(0*+)\+({_OLC_DIGITS}*+)(?![^\W_])", re.IGNORECASE)
_OLC_PAIR_DIGITS = 10
_OLC_MAX_DIGITS = 15
_OLC_FULL_PREFIX = 8
_WORD = re.compile(r"[^\W\d_]++")


def _from_plus_code(text: str) -> Point | None:
    """Read the first plus code in text; a short one is read against the nearest place named beside it."""
    mentions: list[tuple[int, Place]] | None = None
    for match in _PLUS_CODE.finditer(text):
        head, padding, tail = (group.upper() for group in match.groups())
        if not _is_plus_code(head, padding, tail):
            continue
        if len(head) + len(padding) == _OLC_FULL_PREFIX:
            return _decode_plus_code(head + tail)
        mentions = _place_mentions(text) if mentions is None else mentions
        if mentions:
            _, place = min(mentions, key=lambda mention: _distance(mention[0], match.start(), match.end()))
            return _recover_short_code(head + tail, len(head), place.point)
    return None


def _is_plus_code(head: str, padding: str, tail: str) -> bool:
    """Check the shape rules of the spec, and ask for a letter so that sums like "2345+22" are not codes."""
    prefix = len(head) + len(padding)
    if prefix % 2 or prefix > _OLC_FULL_PREFIX or not any(char.isalpha() for char in head + tail):
        return False
    if len(tail) == 1 or prefix + len(tail) > _OLC_MAX_DIGITS:
        return False
    if padding:
        return prefix == _OLC_FULL_PREFIX and not tail and len(head) % 2 == 0
    if prefix < _OLC_FULL_PREFIX:
        return bool(tail)
    return _OLC_VALUE[head[0]] * 20 < 180 and _OLC_VALUE[head[1]] * 20 < 360


def _decode_plus_code(digits: str) -> Point:
    """Return the centre of the area that plus-code digits (without '+' and padding) stand for."""
    lat = lon = 0
    lat_cells = lon_cells = 1
    for index in range(0, min(len(digits), _OLC_PAIR_DIGITS), 2):
        lat, lon = lat * 20 + _OLC_VALUE[digits[index]], lon * 20 + _OLC_VALUE[digits[index + 1]]
        lat_cells, lon_cells = lat_cells * 20, lon_cells * 20
    for char in digits[_OLC_PAIR_DIGITS:]:
        row, column = divmod(_OLC_VALUE[char], 4)
        lat, lon = lat * 5 + row, lon * 4 + column
        lat_cells, lon_cells = lat_cells * 5, lon_cells * 4
    # The first pair splits 400 degrees into 20 steps of 20 degrees; only 9 (latitude) and 18 (longitude) are used.
    return Point(-90 + 400 * (lat + 0.5) / lat_cells, -180 + 400 * (lon + 0.5) / lon_cells)


def _recover_short_code(digits: str, head_length: int, reference: Point) -> Point:
    """Put a short code in the cell nearest the reference point, as the spec's "recover nearest" does."""
    missing = _OLC_FULL_PREFIX - head_length
    cell = 20.0 ** (2 - missing // 2)
    offset = _decode_plus_code(_OLC_ALPHABET[0] * missing + digits)
    lat = _nearest(offset.lat + 90, reference.lat + 90, cell) - 90
    lon = _nearest(offset.lon + 180, reference.lon + 180, cell) - 180
    return Point(min(max(lat, -90.0), 90.0), (lon + 180) % 360 - 180)


def _nearest(offset: float, reference: float, cell: float) -> float:
    """Return offset + k * cell closest to the reference."""
    value = math.floor(reference / cell) * cell + offset
    if value - reference > cell / 2:
        return value - cell
    if reference - value > cell / 2:
        return value + cell
    return value


# ----- places


def _place_mentions(text: str) -> list[tuple[int, Place]]:
    """List where known places are named in text, by the middle of each name."""
    index = _places_by_name()
    found = ((word, index.get(_fold(word[0]))) for word in _WORD.finditer(text))
    return [((word.start() + word.end()) // 2, place) for word, place in found if place is not None]


def _distance(position: int, start: int, end: int) -> int:
    """Count the characters between a position and the span text[start:end]."""
    return max(start - position, position - end, 0)


@functools.cache
def _places_by_name() -> Mapping[str, Place]:
    """Load the gazetteer shipped beside this module, keyed by every spelling folded."""
    source = resources.files("hotline.flows").joinpath("geo_data", "places.yaml").read_text(encoding="utf-8")
    index: dict[str, Place] = {}
    for entry in yaml.safe_load(source):
        place = Place(entry["names"][0], Point(float(entry["lat"]), float(entry["lon"])), entry["country"])
        index.update((_fold(name), place) for name in entry["names"])
    return MappingProxyType(index)


_FOLD_LETTERS = str.maketrans({"ł": "l", "ø": "o", "ي": "ی", "ى": "ی", "ك": "ک"})


def _fold(word: str) -> str:
    """Fold case, accents and Arabic/Persian letter variants so that "SALCININKAI" finds "Šalčininkai"."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char)).translate(_FOLD_LETTERS)


# ----- links


def _url_tokens(text: str) -> Iterator[str]:
    """Yield the whitespace-separated pieces of text that look like map links or geo: URIs."""
    for token in text.split():
        token = token.strip(_URL_STRIP)
        low = token.casefold()
        if low.startswith("geo:") or "://" in low or any(host in low for host in _URL_HOSTS):
            yield token


def _from_url(token: str) -> Point | None:
    """Read the position out of a Google/OSM/Apple/Yandex/Waze link or a geo: URI."""
    if token.casefold().startswith("geo:"):
        return _from_geo(token)
    try:
        parts = urlsplit(token if "://" in token else f"https://{token}")
    except ValueError:
        return None
    params = parse_qs(parts.query)
    if "yandex" in parts.netloc.casefold():
        return _first_pair(params, _YANDEX_KEYS, lon_first=True)
    path = unquote(parts.path)
    return (
        _match_point(_PIN.search(path))
        or _mlat_mlon(params)
        or _first_pair(params, _URL_KEYS, lon_first=False)
        or _match_point(_OSM_FRAGMENT.search(parts.fragment))
        or _from_plus_code(path)
        or _match_point(_AT.search(path))
        or _match_point(_URL_PAIR.search(path))
        or _from_text(unquote_plus(parts.path))
    )


def _from_geo(token: str) -> Point | None:
    """Read a geo:lat,lon URI; Android's geo:0,0?q=lat,lon form keeps the real point in q."""
    point = _match_point(_GEO.match(token))
    if point is None or point != Point(0.0, 0.0):
        return point
    query = token.partition("?")[2]
    return _first_pair(parse_qs(query), ("q",), lon_first=False) or point


def _first_pair(params: dict[str, list[str]], keys: Sequence[str], lon_first: bool) -> Point | None:
    """Return the first coordinate pair found in the given query parameters."""
    for key in keys:
        for value in params.get(key, ()):
            match = _ANY_PAIR.search(value) if lon_first else _URL_PAIR.search(value)
            if match is None:
                continue
            first, second = float(match[1]), float(match[2])
            point = _point(second, first) if lon_first else _point(first, second)
            if point is not None:
                return point
    return None


def _mlat_mlon(params: dict[str, list[str]]) -> Point | None:
    """Read OpenStreetMap's separate mlat/mlon marker parameters."""
    lat, lon = params.get("mlat", [""])[0], params.get("mlon", [""])[0]
    match = _ANY_PAIR.fullmatch(f"{lat.strip()},{lon.strip()}")
    return _match_point(match, reorder=False)


def _match_point(match: re.Match[str] | None, reorder: bool = True) -> Point | None:
    """Build a point from a regex match whose two groups are lat and lon."""
    if match is None:
        return None
    return _point(float(match[1]), float(match[2]), reorder)


# ----- border


def _side(lat: float, lon: float) -> str | None:
    """Look up the country of a position given as plain numbers."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return _SIDE_BY_ZONE.get(tzfpy.get_tz(lon, lat))


def _surroundings(point: Point, metres: float) -> Iterator[tuple[float, float]]:
    """Yield (lat, lon) on rings around a point out to a distance, about as far apart on each ring."""
    lat_step = metres / _RINGS / _METRES_PER_DEGREE
    lon_step = lat_step / max(math.cos(math.radians(point.lat)), 0.01)
    for ring in range(1, _RINGS + 1):
        count = 6 * ring
        for index in range(count):
            angle = 2 * math.pi * index / count
            yield point.lat + ring * lat_step * math.cos(angle), point.lon + ring * lon_step * math.sin(angle)
