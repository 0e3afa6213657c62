"""Understand where people are: coordinates, map links and geo: URIs, written in any of the usual ways.

Every function here is pure and total: any string in, a point or None out, never an exception.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, unquote_plus, urlsplit

from hotline.flows.parsers import normalize_digits

REGION = (53.9, 56.4, 23.5, 27.0)  # lat_min, lat_max, lon_min, lon_max of the Lithuania–Belarus border area
_WIDE_AREA = (50.0, 60.0, 18.0, 32.0)

# --------------------------------------------------------------------------- locations


@dataclass(frozen=True)
class Point:
    """A WGS84 position in decimal degrees."""

    lat: float
    lon: float


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
    }
)
# Minutes and seconds: never followed by a degree sign, so "54° 24°" is two components, not one.
_SUB = r"\d{1,2}+(?!\d)(?:[.,]\d++)?+(?!\s*+°)"
_HINT = r"[nsew](?![^\W\d_])"
_COMPONENT = re.compile(
    rf"""
    (?<![\w.])
    (?:(?P<pre>{_HINT}|(?:lat(?:itude)?|lon(?:g(?:itude)?)?|lng|широта|долгота|enlem|boylam)(?![^\W\d_]))
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
    """Find one coordinate pair in free text."""
    text = normalize_digits(text).translate(_LOCATION_MAP).replace("''", '"')
    for token in _url_tokens(text):
        point = _from_url(token)
        if point is not None:
            return point
    return _from_text(text)


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


def _point(lat: float, lon: float, reorder: bool = True) -> Point | None:
    """Build a valid point, swapping lat/lon when they are clearly entered the wrong way round."""
    lat_min, lat_max, lon_min, lon_max = REGION
    if reorder and lon_min <= lat <= lon_max and lat_min <= lon <= lat_max:
        lat, lon = lon, lat
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return Point(lat, lon)
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
