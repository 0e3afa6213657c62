"""Guess which served language a person writes in, from a first message, a locale or a phone number.

Every function here is pure and total: any string in, a served BCP 47 code or None out, never an exception.
``detect_language`` decides by script first (Ge'ez, Sinhala, Tamil, Devanagari, Arabic, Cyrillic, Latin), then
within a script by marker letters and frequent words, and only then asks lingua, restricted to the few
languages that share the script, returning None when lingua is not confident enough. The lingua detectors
are built lazily, once per script, from the models bundled in the wheel: no network, no clock.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

SERVED: tuple[str, ...] = (
    "ar",
    "fa",
    "ps",
    "ckb",
    "kmr",
    "fr",
    "es",
    "en",
    "ru",
    "uk",
    "be",
    "lt",
    "pl",
    "tr",
    "so",
    "ti",
    "am",
    "ur",
    "hi",
    "ta",
    "si",
)

_MAX_CHARS = 2000
_MIN_LETTERS = 3
_MIN_CONFIDENCE = 0.5
_LOW_ACCURACY = True  # 100% on tests/i18n either way, ~20 MB instead of ~280 MB of models

# --------------------------------------------------------------------------- lingua

_LINGUA: dict[str, Language] = {
    "ar": Language.ARABIC,
    "fa": Language.PERSIAN,
    "ur": Language.URDU,
    "ru": Language.RUSSIAN,
    "uk": Language.UKRAINIAN,
    "be": Language.BELARUSIAN,
    "en": Language.ENGLISH,
    "fr": Language.FRENCH,
    "es": Language.SPANISH,
    "lt": Language.LITHUANIAN,
    "pl": Language.POLISH,
    "tr": Language.TURKISH,
    "so": Language.SOMALI,
}
_CODE_OF: dict[Language, str] = {language: code for code, language in _LINGUA.items()}
_GROUPS: dict[str, tuple[str, ...]] = {
    "arabic": ("ar", "fa", "ur"),
    "cyrillic": ("ru", "uk", "be"),
    "latin": ("en", "fr", "es", "lt", "pl", "tr", "so"),
}


@lru_cache(maxsize=len(_GROUPS))
def _detector(group: str) -> LanguageDetector:
    """Build, once, the lingua detector for one script group."""
    builder = LanguageDetectorBuilder.from_languages(*(_LINGUA[code] for code in _GROUPS[group]))
    return (builder.with_low_accuracy_mode() if _LOW_ACCURACY else builder).build()


def _lingua_confidences(group: str, text: str) -> dict[str, float]:
    """Return lingua's confidence per served code of a script group."""
    values = _detector(group).compute_language_confidence_values(text)
    return {_CODE_OF[value.language]: value.value for value in values}


def _lingua_pick(group: str, text: str, among: Iterable[str], boosts: Mapping[str, float]) -> str | None:
    """Return lingua's choice among some codes of a group, helped by word boosts, or None when unsure."""
    confidences = _lingua_confidences(group, text)
    candidates = {code: confidences.get(code, 0.0) for code in among}
    total = sum(candidates.values())
    if total <= 0:
        return None
    scores = {code: value / total + boosts.get(code, 0.0) for code, value in candidates.items()}
    return _best(scores, _MIN_CONFIDENCE)


# --------------------------------------------------------------------------- scripts

_SCRIPT_RANGES: tuple[tuple[str, int, int], ...] = (
    ("ethiopic", 0x1200, 0x139F),
    ("ethiopic", 0x2D80, 0x2DDF),
    ("ethiopic", 0xAB00, 0xAB2F),
    ("sinhala", 0x0D80, 0x0DFF),
    ("tamil", 0x0B80, 0x0BFF),
    ("devanagari", 0x0900, 0x097F),
    ("devanagari", 0xA8E0, 0xA8FF),
    ("arabic", 0x0600, 0x06FF),
    ("arabic", 0x0750, 0x077F),
    ("arabic", 0x08A0, 0x08FF),
    ("cyrillic", 0x0400, 0x052F),
    ("latin", 0x0041, 0x024F),
    ("latin", 0x1E00, 0x1EFF),
)
# Words every served language uses alike (greetings, SOS): they tell nothing about the language.
_UNIVERSAL = frozenset(("sos", "ok", "okay", "gps", "salam", "salaam", "سلام", "السلام", "عليكم", "علیکم", "ሰላም"))
_NOISE = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+|\S*\d\S*", re.IGNORECASE)


def _script_of(char: str) -> str | None:
    """Return the script of one letter, or None for a script no served language uses."""
    point = ord(char)
    for script, low, high in _SCRIPT_RANGES:
        if low <= point <= high:
            return script
    return None


def _clean(text: str) -> str:
    """Normalise a message and drop links, addresses and tokens with digits (coordinates, numbers)."""
    text = unicodedata.normalize("NFKC", text[:_MAX_CHARS]).replace("\u0640", "")
    return " ".join(word for word in _words(_NOISE.sub(" ", text).casefold()) if word not in _UNIVERSAL)


def _dominant_script(text: str) -> tuple[str, int] | None:
    """Return the script most letters of the text are in, with their count."""
    counts: dict[str, int] = {}
    for char in text:
        if char.isalpha() and (script := _script_of(char)) is not None:
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return None
    script = max(counts, key=lambda name: counts[name])
    return script, counts[script]


def _vocabulary(words: str) -> frozenset[str]:
    """Return the set of the space-separated words."""
    return frozenset(words.split())


def _word_char(char: str) -> bool:
    """Tell whether a character belongs to a word: a letter, a digit, a combining mark or a ZWNJ."""
    return char.isalnum() or char == "\u200c" or unicodedata.category(char).startswith("M")


def _words(text: str) -> list[str]:
    """Split a text into words, keeping vowel signs, harakat and Persian ZWNJ inside them."""
    return "".join(char if _word_char(char) else " " for char in text).split()


def _best(scores: Mapping[str, float], minimum: float) -> str | None:
    """Return the single top-scoring code if it reaches the minimum, else None."""
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    if not ranked or ranked[0][1] < minimum or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return None
    return ranked[0][0]


def _count(text: str, letters: str) -> int:
    """Count how many characters of the text are among the letters."""
    return sum(1 for char in text if char in letters)


def _hits(words: Iterable[str], vocabulary: frozenset[str]) -> int:
    """Count the words found in a vocabulary."""
    return sum(1 for word in words if word in vocabulary)


# --------------------------------------------------------------------------- Ge'ez: Tigrinya or Amharic

_TI_WORDS = _vocabulary(
    "ኣሎ ኣሎና ኣለና ኣለዉ ኣለዉና ኣለኹ ኣብ ናብ ኢና እዩ ኢዩ እየ ኢኹም ሓገዝ ሓግዙና ሓግዙ ሓግዙኒ ክንደይ ብኽብረትኩም በጃኹም "
    "ንደሊ ንደሊ የብልናን የብለይን የለን ማይ ቆልዑ ንሕና ኣነ ሓወይ ሓፍተይ ኣዝዩ ዝሑል መግቢ ኣይፋልን ከመይ ዘሎ ዘለና ጠፊእና"
)
_AM_WORDS = _vocabulary(
    "ነው ነን ናቸው ነኝ አለ አሉ አለን አለኝ እባካችሁ እባክህ እባክሽ እባክዎ እባክዎን እርዱን እርዱኝ እርዳታ ውሃ የለም የለንም "
    "የለኝም ውስጥ ላይ ወደ እኛ እኔ ልጆች ልጅ በጣም ምግብ ምንም እና ይህ ነበር ጠፍተናል ጠፋን ሰዎች ወንድሜ እህቴ ቶሎ ኑ"
)
_TI_SUFFIXES = ("ኩም", "ኹም", "ኹ", "ክን")
_AM_SUFFIXES = ("ለን", "ናል", "ኛል", "ችሁ", "ቷል", "ዋል", "ችን")
_TI_LETTERS = "ኣ" + "".join(chr(point) for point in (*range(0x1250, 0x125E), *range(0x12B8, 0x12C6)))
_TI_WEAK_LETTERS = "ሓሑሒሕ"
_AM_LETTERS = "ኝኛችቻ"
_AM_WEAK_LETTERS = "አ"


def _suffix_hits(words: Iterable[str], suffixes: tuple[str, ...]) -> int:
    """Count the words with one of the suffixes (and something before it)."""
    return sum(1 for word in words if len(word) > 2 and word.endswith(suffixes))


def _ethiopic(text: str) -> str | None:
    """Tell Tigrinya from Amharic by marker letters, frequent words and verb endings."""
    words = _words(text)
    scores = {
        "ti": 3 * _hits(words, _TI_WORDS)
        + 2 * (_suffix_hits(words, _TI_SUFFIXES) + _count(text, _TI_LETTERS))
        + _count(text, _TI_WEAK_LETTERS),
        "am": 3 * _hits(words, _AM_WORDS)
        + 2 * (_suffix_hits(words, _AM_SUFFIXES) + _count(text, _AM_LETTERS))
        + _count(text, _AM_WEAK_LETTERS),
    }
    return _best(scores, 1)


# --------------------------------------------------------------------------- Arabic script

_ARABIC_FOLD = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ۀ": "ه", "ة": "ه", "أ": "ا", "إ": "ا", "آ": "ا"})


def _fold_arabic(words: Iterable[str]) -> frozenset[str]:
    """Fold Arabic letter variants so that Arabic- and Persian-keyboard spellings compare equal."""
    return frozenset(word.translate(_ARABIC_FOLD) for word in words)


_ARABIC_WORDS: dict[str, frozenset[str]] = {
    "ar": _fold_arabic(
        _vocabulary(
            "في من على الى إلى عن مع نحن انا أنا هذا هذه لا لم لن يوجد عندنا معنا ساعدونا ساعدوني الرجاء ارجوكم "
            "مساعدة نحتاج مرحبا اخي أخي اختي الغابة الحدود الشرطة كثير ماء أطفال اطفال مريض مريضة ضايعين عالقين "
            "ونحن بالغابة يومين"
        )
    ),
    "fa": _fold_arabic(
        _vocabulary(
            "ما در هستیم هستم است را کمک کنید لطفا لطفاً نداریم داریم شدیم گم خیلی از با یک این که برادرم خواهرم "
            "مادرم پدرم مرز جنگل نیست هست گیر کرده ماندیم بچه ها تو میکنیم می"
        )
    ),
    "ur": _fold_arabic(
        _vocabulary("ہم میں ہیں ہے کریں کرو کی کے کا نہیں ہمیں ہماری ہمارے پاس اور بھائی پانی مدد گیا گئے تھے ہو")
    ),
    "ps": _fold_arabic(
        _vocabulary("په موږ مونږ زموږ زه زما دی دي یو کې ته سره وکړئ مرسته مهرباني ورک شوي لرو نشته ماشومان اوبه")
    ),
    "ckb": _fold_arabic(
        _vocabulary("ئێمە من لە بۆ تکایە یارمەتی یارمەتیمان نییە هەیە ون بووین زۆر سەرما منداڵ ئاو دارستان")
    ),
}
_ARABIC_LETTERS: dict[str, tuple[str, float]] = {
    "ckb": ("ەێۆڵڕ", 2.0),
    "ps": ("ټډړښږځڅېۍګڼ", 2.0),
    "ur": ("ےںٹڈڑہھ", 2.0),
    "ar": ("ةىأإؤ", 1.0),
}
_LINGUA_WEIGHT = 3.0


def _arabic_scores(text: str) -> dict[str, float]:
    """Score ar, fa, ur, ps and ckb by marker letters and frequent words."""
    words = _fold_arabic(_words(text))
    scores = {code: 2.0 * _hits(words, vocabulary) for code, vocabulary in _ARABIC_WORDS.items()}
    for code, (letters, weight) in _ARABIC_LETTERS.items():
        scores[code] += weight * _count(text, letters)
    scores["ar"] += sum(1 for word in words if len(word) > 3 and word.startswith("ال"))
    return scores


def _arabic(text: str) -> str | None:
    """Tell Arabic, Persian, Urdu, Pashto and Sorani apart: rules first, lingua as a tie-breaker."""
    scores = _arabic_scores(text)
    ranked = sorted(scores.values(), reverse=True)
    if ranked[0] >= 2 and ranked[0] - ranked[1] >= 2:
        return _best(scores, 2)
    confidences = _lingua_confidences("arabic", text)
    for code, value in confidences.items():
        scores[code] += _LINGUA_WEIGHT * value
    return _best(scores, _LINGUA_WEIGHT * _MIN_CONFIDENCE)


# --------------------------------------------------------------------------- Cyrillic

_CYRILLIC_FORBIDDEN: dict[str, str] = {
    "ru": "іїєґў",
    "uk": "ыэёъў",
    "be": "ищъїєґ",
}


def _cyrillic(text: str) -> str | None:
    """Tell Russian, Ukrainian and Belarusian apart by letters each lacks, then by lingua."""
    misses = {code: _count(text, letters) for code, letters in _CYRILLIC_FORBIDDEN.items()}
    misses["be"] += _words(text).count("в")  # Belarusian says у/ў for "in"
    fewest = min(misses.values())
    among = [code for code, miss in misses.items() if miss == fewest]
    if len(among) == 1:
        return among[0]
    return _lingua_pick("cyrillic", text, among, {})


# --------------------------------------------------------------------------- Latin

_KMR_WORDS = _vocabulary(
    "hene heye alîkarî alikari alîkari zarok kerema xwe bikin bikî winda nîne nexweş nexwes birayê biraye sînor "
    "sinor polîs bûye buye bûn bune bûne asê xwarin nemaye jî û çawa hatin vegerandin birçî tî hewce dayika bavê "
    "silav nizanin dikarî dikarin"
)
_KMR_WEAK_WORDS = _vocabulary("em ez tu me min av li ji ne in ye tune nine bike bun ase mane pir sar")
_KMR_STEMS = ("alîkar", "alikar", "zarok", "darist", "nexwe", "xwe", "westiya")
_KMR_LETTERS = "êîû"
_KMR_MINIMUM = 2.0
_LATIN_WORDS: dict[str, frozenset[str]] = {
    "en": _vocabulary("i we am are is the help please pls plz my us our need lost from hello with water"),
    "fr": _vocabulary(
        "nous vous sommes est je suis aidez aide svp plaît plait merci bonjour dans avec les des mon eau besoin"
    ),
    "es": _vocabulary("hola ayuda ayudenos ayúdenos estamos somos por favor con tenemos necesito necesitamos hay"),
    "lt": _vocabulary("mes esame padėkite padekite prašau prasau pagalbos pagalba reikia miške miske labas ačiū"),
    "pl": _vocabulary("pomocy pomoc jesteśmy jestesmy proszę prosze lesie nie mamy dzień jest nas"),
    "tr": _vocabulary("yardım yardim lütfen lutfen biz var yok merhaba acil edin ormanda"),
    "so": _vocabulary("fadlan caawiya caawi waxaan nahay waa biyo iyo ayaa noo"),
}
_LATIN_WORD_WEIGHT = 0.3


def _kurmanji_score(text: str) -> float:
    """Score how Kurmanji a Latin-script text looks."""
    words = _words(text)
    stems = sum(1 for word in words if word not in _KMR_WORDS and word.startswith(_KMR_STEMS))
    weak = _hits(words, _KMR_WEAK_WORDS) + _count(text, _KMR_LETTERS)
    return _hits(words, _KMR_WORDS) + stems + 0.5 * weak


def _latin(text: str) -> str | None:
    """Tell Kurmanji by rules, then the other Latin-script languages by lingua helped by frequent words."""
    if _kurmanji_score(text) >= _KMR_MINIMUM:
        return "kmr"
    words = _words(text)
    boosts = {code: _LATIN_WORD_WEIGHT * _hits(words, vocabulary) for code, vocabulary in _LATIN_WORDS.items()}
    return _lingua_pick("latin", text, _GROUPS["latin"], boosts)


# --------------------------------------------------------------------------- public API

_SINGLE_SCRIPT = {"sinhala": "si", "tamil": "ta", "devanagari": "hi"}


def detect_language(text: str) -> str | None:
    """Return the served language a first message is most likely in, or None when it gives too little."""
    cleaned = _clean(text)
    dominant = _dominant_script(cleaned)
    if dominant is None:
        return None
    script, letters = dominant
    if script in _SINGLE_SCRIPT:
        return _SINGLE_SCRIPT[script]
    if letters < _MIN_LETTERS:
        return None
    if script == "ethiopic":
        return _ethiopic(cleaned)
    if script == "arabic":
        return _arabic(cleaned)
    if script == "cyrillic":
        return _cyrillic(cleaned)
    return _latin(cleaned)


_CODE_ALIASES: dict[str, str] = {
    **{code: code for code in SERVED},
    "ara": "ar",
    "arb": "ar",
    "apc": "ar",
    "ajp": "ar",
    "acm": "ar",
    "arz": "ar",
    "ary": "ar",
    "fas": "fa",
    "per": "fa",
    "pes": "fa",
    "prs": "fa",
    "pus": "ps",
    "pbt": "ps",
    "pbu": "ps",
    "pst": "ps",
    "ku": "kmr",
    "kur": "kmr",
    "fra": "fr",
    "fre": "fr",
    "spa": "es",
    "eng": "en",
    "rus": "ru",
    "ukr": "uk",
    "bel": "be",
    "lit": "lt",
    "pol": "pl",
    "tur": "tr",
    "som": "so",
    "tir": "ti",
    "amh": "am",
    "urd": "ur",
    "hin": "hi",
    "tam": "ta",
    "sin": "si",
}


def language_from_code(code: str | None) -> str | None:
    """Map a Telegram language_code or a locale string (fa-IR, prs, ku, en_US) to a served code."""
    if not code:
        return None
    subtags = code.strip().replace("_", "-").casefold().split("-")
    primary = subtags[0].split(".")[0].split("@")[0]
    if primary in {"ku", "kur"} and "arab" in subtags[1:]:
        return "ckb"
    return _CODE_ALIASES.get(primary)


_CALLING_CODES: dict[str, str | None] = {
    "370": "lt",
    "48": "pl",
    "371": None,
    "372": None,
    "375": "ru",
    "7": "ru",
    "380": "uk",
    **dict.fromkeys(("963", "964", "962", "961", "967", "249", "20", "218", "216", "212", "213", "966"), "ar"),
    "98": "fa",
    "93": "fa",
    "92": "ur",
    "91": "hi",
    "94": "si",
    "90": "tr",
    "252": "so",
    "291": "ti",
    "251": "am",
    **dict.fromkeys(
        ("243", "242", "237", "221", "224", "225", "223", "226", "227", "228", "229", "235", "236"),
        "fr",
    ),
    **dict.fromkeys(("53", "34", "52"), "es"),
    **dict.fromkeys(("44", "1", "353", "234", "233", "254", "256"), "en"),
}
_PHONE_SEPARATORS = re.compile(r"[\s\-().\u00a0/]")


def _international_digits(number: str) -> str | None:
    """Return the digits of an international number (+, 00 or Telegram's bare digits), else None."""
    compact = _PHONE_SEPARATORS.sub("", number.strip())
    if compact.startswith("+"):
        compact = compact[1:]
    elif compact.startswith("00"):
        compact = compact[2:]
    elif compact.startswith("0"):
        return None
    return compact if compact.isascii() and compact.isdigit() else None


def language_from_phone(number: str) -> str | None:
    """Guess a served language from the country calling code of an international phone number."""
    digits = _international_digits(number)
    if not digits:
        return None
    for length in (3, 2, 1):
        if digits[:length] in _CALLING_CODES and len(digits) > length:
            return _CALLING_CODES[digits[:length]]
    return None
