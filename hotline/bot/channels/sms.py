"""What an SMS looks like: one message rendered as plain text, Latin diacritics folded into GSM-7, and its cost.

A GSM-7 segment holds 160 characters but a UCS-2 one only 70, so a French text with one ``ê`` would
cost more than twice as much; :func:`to_gsm7` folds such texts, and leaves other scripts untouched.
"""

from __future__ import annotations

import unicodedata

from hotline.bot.channels.base import Outgoing

GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€")  # each costs two septets (escape + character)
BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# Characters whose nearest GSM-7 form is not their base letter (Latin letters with marks are folded by Unicode).
FOLDED = {
    "ł": "l", "Ł": "L", "ı": "i", "đ": "d", "Đ": "D", "œ": "oe", "Œ": "OE", "ĳ": "ij",
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "´": "'", "`": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"', "‹": "'", "›": "'",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
    "…": "...", "•": "-", "·": ".", "\t": " ",
    "\u00a0": " ", "\u2007": " ", "\u2009": " ", "\u200a": " ", "\u202f": " ", "\u2002": " ", "\u2003": " ",
    "\u00ad": "", "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
}  # fmt: skip
OSM = "https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=15/{lat:.5f}/{lon:.5f}"


def sms_segments(text: str) -> tuple[str, int]:
    """Return the SMS encoding a text needs (GSM-7 or UCS-2) and how many segments it costs."""
    if all(ch in GSM7 for ch in text):
        length = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        return "GSM-7", 1 if length <= 160 else -(-length // 153)
    units = len(text.encode("utf-16-le")) // 2
    return "UCS-2", 1 if units <= 70 else -(-units // 67)


def sms_cost(text: str) -> tuple[str, int]:
    """Return the encoding and segment count of a text as it will be sent (after :func:`to_gsm7`)."""
    return sms_segments(to_gsm7(text))


def to_gsm7(text: str) -> str:
    """Fold a Latin-script text into GSM-7 when that is possible; otherwise return it unchanged."""
    folded = "".join(_fold(ch) for ch in unicodedata.normalize("NFC", text))
    return folded if all(ch in GSM7 for ch in folded) else text


def _fold(ch: str) -> str:
    if ch in GSM7:
        return ch
    if ch in FOLDED:
        return FOLDED[ch]
    if ch in BIDI_CONTROLS or unicodedata.combining(ch):
        return ""
    if unicodedata.name(ch, "").startswith("LATIN "):
        base = unicodedata.normalize("NFD", ch)[0]
        return base if base in GSM7 else ch
    return ch


def render_sms(message: Outgoing) -> str:
    """Render one outgoing message as the text of one SMS: location, text, then numbered choices."""
    parts = []
    if message.location is not None:
        lat, lon = message.location
        parts.append(f"{lat:.5f}, {lon:.5f}\n" + OSM.format(lat=lat, lon=lon))
    if message.text:
        parts.append(message.text)
    buttons = [button for row in message.buttons for button in row]
    parts.extend(f"{n}. {button.label}" for n, button in enumerate(buttons, 1))
    return to_gsm7("\n".join(parts))
