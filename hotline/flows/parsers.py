"""Understand what people in distress write: head counts, yes/no answers and menu choices.

Every function here is pure and total: any string in, a value or None out, never an exception.
Messages arrive from panicked people typing on phones in many languages and scripts, so the
parsers normalise digits, accents, Arabic letter variants and stretched letters before matching.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Literal

YesNo = Literal["yes", "no", "unknown"]
Options = Sequence[tuple[str, Sequence[str]]]

_MAX_ANSWER = 2000

# --------------------------------------------------------------------------- text folding

_ARABIC_DIGITS = str.maketrans(
    {
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
        "\u066b": ".",
        "\u060c": ",",
        "\u066c": None,
    }
)
_OTHER_DIGIT = re.compile(r"[^\x00-\x7f\D]")
# Keyboards and regions spell the same word differently (Persian vs Arabic yeh/kaf, ta marbuta, Turkish
# dotless i, typographic apostrophes); folding them to one form lets a single vocabulary match them all.
_LETTER_MAP = str.maketrans(
    {
        "ı": "i",
        "ی": "ي",
        "ى": "ي",
        "ک": "ك",
        "ة": "ه",
        "ہ": "ه",
        "ھ": "ه",
        "\u0640": None,
        "'": None,
        "\u2019": None,
        "\u2018": None,
        "\u02bc": None,
        "`": None,
        "\u00b4": None,
        "\u2212": "-",
    }
)
_DROPPED_CATEGORIES = frozenset({"Mn", "Cf"})
_WORD_CATEGORIES = frozenset("LMN")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_SQUEEZE = re.compile(r"(.)\1+")
_CLAUSE_BREAK = re.compile(r"[,.!?;:\u060c\u061b\u061f\u0964\u1362\u1363\u1361\n]")


def normalize_digits(text: str) -> str:
    """Map Arabic-Indic (٠-٩) and Persian/Extended (۰-۹) digits to ASCII, the Arabic decimal separator ٫ to '.', the Arabic comma ، to ',', and drop the Arabic thousands separator ٬."""  # noqa: E501
    text = text.translate(_ARABIC_DIGITS)
    if text.isascii():
        return text
    return _OTHER_DIGIT.sub(_ascii_digit, text)


def _ascii_digit(match: re.Match[str]) -> str:
    """Turn any other script's decimal digit (Devanagari, Bengali, fullwidth…) into ASCII."""
    char = match.group()
    value = unicodedata.decimal(char, None)
    return char if value is None else str(value)


def _fold(text: str) -> str:
    """Lower-case, strip accents and harakat, and unify letter variants so spellings compare equal."""
    text = normalize_digits(text).casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    return text.translate(_LETTER_MAP)


def _words(folded: str) -> list[str]:
    """Split folded text into words of letters, marks and digits."""
    if folded.isascii():
        return _ASCII_WORD.findall(folded)
    kept = (c if unicodedata.category(c)[0] in _WORD_CATEGORIES else " " for c in folded)
    return "".join(kept).split()


def _squeeze(word: str) -> str:
    """Collapse stretched letters ("yesss", "noooo") to one."""
    return _SQUEEZE.sub(r"\1", word)


def _longest(words: Sequence[str], start: int, vocab: dict[tuple[str, ...], str | int], longest: int) -> int:
    """Return how many words from `start` form the longest phrase in `vocab` (0 if none)."""
    for size in range(min(longest, len(words) - start), 0, -1):
        if tuple(words[start : start + size]) in vocab:
            return size
    return 0


# --------------------------------------------------------------------------- head counts

_NUMBER_WORDS: dict[int, str] = {
    0: "zero|zéro|cero|ноль|нуль|صفر|sıfır",
    1: "one|un|une|uno|una|один|одна|одно|واحد|واحدة|یک|یه|bir|alone|seul|seule|solo|sola|yalnız|تنها|وحدي",
    2: "two|deux|dos|два|две|двое|дві|اثنان|اثنين|اثنتان|اثنتين|إثنين|دو|iki",
    3: "three|trois|tres|три|трое|ثلاثة|ثلاث|سه|üç",
    4: "four|quatre|cuatro|четыре|четверо|чотири|أربعة|اربعة|أربع|چهار|dört",
    5: "five|cinq|cinco|пять|пятеро|خمسة|خمس|پنج|beş",
    6: "six|seis|шесть|шестеро|шість|ستة|ست|شش|شیش|altı",
    7: "seven|sept|siete|семь|семеро|сім|سبعة|سبع|هفت|yedi",
    8: "eight|huit|ocho|восемь|восьмеро|вісім|ثمانية|ثمان|ثماني|هشت|sekiz",
    9: "nine|neuf|nueve|девять|девятеро|تسعة|تسع|نه|dokuz",
    10: "ten|dix|diez|десять|десятеро|عشرة|عشر|ده|on",
    11: "eleven|onze|once|одиннадцать|أحد عشر|احدعش|یازده|on bir|onbir",
    12: "twelve|douze|doce|двенадцать|اثنا عشر|اثني عشر|اطنعش|دوازده|on iki|oniki",
    13: "thirteen|treize|trece|тринадцать|ثلاثة عشر|ثلاث عشرة|سیزده|on üç|onüç",
    14: "fourteen|quatorze|catorce|четырнадцать|أربعة عشر|أربع عشرة|چهارده|on dört|ondört",
    15: "fifteen|quinze|quince|пятнадцать|خمسة عشر|خمس عشرة|پانزده|پونزده|on beş|onbeş",
    16: "sixteen|seize|dieciséis|шестнадцать|ستة عشر|ست عشرة|شانزده|شونزده|on altı|onaltı",
    17: "seventeen|dix-sept|diecisiete|семнадцать|سبعة عشر|سبع عشرة|هفده|هیفده|on yedi|onyedi",
    18: "eighteen|dix-huit|dieciocho|восемнадцать|ثمانية عشر|ثماني عشرة|هجده|هیجده|هژده|on sekiz|onsekiz",
    19: "nineteen|dix-neuf|diecinueve|девятнадцать|تسعة عشر|تسع عشرة|نوزده|on dokuz|ondokuz",
    20: "twenty|vingt|veinte|двадцать|عشرون|عشرين|بیست|yirmi",
}
_ZERO_ANSWERS = (
    "none|no|nobody|no one|noone|nope|nadie|ninguno|non|personne|нет|никого|никто|لا|لا أحد|ولا حد|hiç|"
    "hiç kimse|hiçkimse|yok|هیچ|هیچکس|هیچ کس"
)
# Turkish "on" (10) is an English preposition too; trust it only as a (nearly) bare answer.
_SHORT_ONLY = frozenset({("on",)})
_NUMBER = re.compile(r"(-?)(\d++)((?:[.,]\d++)?)")
_MAX_DIGITS = 9


def _phrase(text: str) -> tuple[str, ...]:
    """Fold a vocabulary phrase exactly like incoming text."""
    return tuple(_words(_fold(text)))


def _number_vocab() -> dict[tuple[str, ...], str | int]:
    """Index every number word by its folded spelling."""
    return {_phrase(word): value for value, words in _NUMBER_WORDS.items() for word in words.split("|")}


_COUNT_VOCAB = _number_vocab()
_COUNT_LONGEST = max(len(key) for key in _COUNT_VOCAB)
_ZERO_VOCAB = frozenset(_phrase(word) for word in _ZERO_ANSWERS.split("|"))


def parse_count(text: str, limit: int = 500) -> int | None:
    """Read a number of people from a short answer."""
    if len(text) > _MAX_ANSWER:
        return None
    folded = _fold(text)
    numbers = _digit_numbers(folded)
    if numbers is None:
        return None
    words = _words(folded)
    if not numbers and tuple(words) in _ZERO_VOCAB:
        return 0
    values = numbers | _word_numbers(words)
    if len(values) != 1:
        return None
    value = values.pop()
    return value if value <= limit else None


def _digit_numbers(folded: str) -> set[int] | None:
    """Collect whole numbers written in digits; None if any is negative, decimal or absurdly long."""
    found: set[int] = set()
    for match in _NUMBER.finditer(folded):
        sign, digits, fraction = match.groups()
        negative = sign and (match.start() == 0 or not folded[match.start() - 1].isalnum())
        if negative or fraction or len(digits) > _MAX_DIGITS:
            return None
        found.add(int(digits))
    return found


def _word_numbers(words: list[str]) -> set[int]:
    """Collect numbers written as words, preferring the longest phrase ("on bir" is 11, not 10 and 1)."""
    found: set[int] = set()
    index = 0
    while index < len(words):
        size = _longest(words, index, _COUNT_VOCAB, _COUNT_LONGEST)
        phrase = tuple(words[index : index + size])
        if size and (phrase not in _SHORT_ONLY or len(words) <= 2):
            found.add(int(_COUNT_VOCAB[phrase]))
        index += size or 1
    return found


# --------------------------------------------------------------------------- yes / no / don't know

_YES_NO_WORDS: dict[YesNo, str] = {
    "yes": (
        "yes|yeah|yea|yep|yup|ye|yh|ok|okay|sure|of course|correct|affirmative|oui|ouais|ouai|bien sûr|"
        "d'accord|sí|claro|نعم|ايوه|أيوة|ايوا|أيوا|اي|إي|أجل|بلى|aywa|aiwa|naam|بله|آره|بلی|bale|areh|да|так|"
        "ага|конечно|da|evet|var|بەڵێ|بەلێ|erê|belê|haa|እወ|አዎ|አዎን|ہاں|جی|جی ہاں|haan|han|ji|ji haan|हाँ|हां|जी|"
        "जी हाँ|जी हां|ஆம்|ஆமா|ஓம்|ඔව්|taip|tak|na pewno|هو"
    ),
    "no": (
        "no|nope|nah|nop|negative|not really|non|nan|لا|لأ|نه|نخیر|нет|ні|не|net|ne|hayır|yok|نەخێر|na|maya|"
        "ኣይፋል|አይ|አይደለም|نہیں|جی نہیں|nahi|nahin|nai|नहीं|नही|जी नहीं|இல்லை|නැහැ|නෑ|nie"
    ),
    "unknown": (
        "don't know|i don't know|i do not know|do not know|idk|dunno|not sure|i'm not sure|im not sure|unsure|"
        "no idea|maybe|perhaps|je ne sais pas|je sais pas|sais pas|jsp|j'sais pas|chais pas|aucune idée|"
        "peut-être|no sé|no lo sé|ni idea|tal vez|quizás|ما بعرف|ما اعرف|لا أعرف|لا اعرف|مش عارف|مش عارفة|"
        "ما ادري|لا ادري|مدري|ممكن|نمی‌دانم|نمیدانم|نمیدونم|نمی دانم|نمی دونم|شاید|nemidonam|nemidanam|не знаю|"
        "не ведаю|ня ведаю|не знаем|не знает|не уверен|не уверена|может быть|наверное|ne znayu|"
        "bilmiyorum|bilmem|emin değilim|"
        "belki|نازانم|nizanim|ma garanayo|ma aqaano|ኣይፈልጥን|አላውቅም|پتہ نہیں|معلوم نہیں|pata nahi|पता नहीं|"
        "मालूम नहीं|தெரியாது|දන්නේ නැහැ|දන්නෑ|nežinau|nie wiem|chyba|może|نه پوهیږم|نه پوهېږم"
    ),
}
# Too short or too common to trust unless they are the entire answer ("y no sé", "ya se fue", "la casa").
_WHOLE_ONLY: dict[str, YesNo] = {"y": "yes", "ya": "yes", "are": "yes", "n": "no", "la": "no"}
_EMOJI = str.maketrans(
    {"👍": " yes ", "👌": " ok ", "✅": " yes ", "✔": " yes ", "👎": " no ", "❌": " no ", "🤷": " idk "}
)
_SCAN_WORDS = 8


def _yes_no_vocab() -> dict[tuple[str, ...], str | int]:
    """Index every yes/no/unknown phrase by its folded, squeezed spelling; refuse contradictions."""
    vocab: dict[tuple[str, ...], str | int] = {}
    for answer, phrases in _YES_NO_WORDS.items():
        for phrase in phrases.split("|"):
            key = tuple(_squeeze(w) for w in _phrase(phrase))
            if vocab.setdefault(key, answer) != answer:
                raise ValueError(f"{phrase!r} means both {vocab[key]} and {answer}")
    return vocab


_YES_NO_VOCAB = _yes_no_vocab()
_YES_NO_LONGEST = max(len(key) for key in _YES_NO_VOCAB)


def parse_yes_no(text: str) -> YesNo | None:
    """Tell whether an answer means yes, no or don't know; None when it cannot tell."""
    folded = _fold(text[:_MAX_ANSWER].translate(_EMOJI))
    words = [_squeeze(w) for w in _words(folded)]
    if len(words) == 1 and words[0] in _WHOLE_ONLY:
        return _WHOLE_ONLY[words[0]]
    clause = next((part for part in _CLAUSE_BREAK.split(folded) if part.strip()), "")
    first = [_squeeze(w) for w in _words(clause)] or words
    size = _longest(first, 0, _YES_NO_VOCAB, _YES_NO_LONGEST)
    if size:
        return _leading_answer(first, size)
    return _scan_yes_no(words) if len(words) <= _SCAN_WORDS else None


def _leading_answer(words: list[str], size: int) -> YesNo | None:
    """Return the answer that opens the reply, unless the very next words contradict it ("yes no")."""
    answer = _answer(_YES_NO_VOCAB[tuple(words[:size])])
    following = _longest(words, size, _YES_NO_VOCAB, _YES_NO_LONGEST)
    if following and _answer(_YES_NO_VOCAB[tuple(words[size : size + following])]) != answer:
        return None
    return answer


def _scan_yes_no(words: list[str]) -> YesNo | None:
    """Look through a short answer for yes/no words anywhere ("she says yes"), refusing mixed signals."""
    found: set[YesNo] = set()
    index = 0
    while index < len(words):
        size = _longest(words, index, _YES_NO_VOCAB, _YES_NO_LONGEST)
        if size:
            found.add(_answer(_YES_NO_VOCAB[tuple(words[index : index + size])]))
        index += size or 1
    return found.pop() if len(found) == 1 else None


def _answer(value: str | int) -> YesNo:
    """Narrow a vocabulary value back to the YesNo literal."""
    return "yes" if value == "yes" else "no" if value == "no" else "unknown"


# --------------------------------------------------------------------------- menu choices

_LONE_NUMBER = re.compile(r"[\W_]*+(\d{1,3}+)[\W_]*+")
_TYPO_RATIO = 0.8
_TYPO_MIN_LENGTH = 4
_TYPO_MAX_WORDS = 40
_EXACT = 1000


def parse_choice(text: str, options: list[tuple[str, list[str]]]) -> str | None:
    """Match an answer to one option: its 1-based number in any digit script, one of its labels, or an obvious typo of one."""  # noqa: E501
    if len(text) > _MAX_ANSWER or not options:
        return None
    folded = _fold(text)
    lone = _LONE_NUMBER.fullmatch(folded)
    if lone is not None:
        return _by_number(lone[1], options)
    words = _words(folded)
    best = _best(_label_scores(words, options))
    if best is None:
        best = _best(_typo_scores(words, options))
    if best is not None:
        return options[best][0]
    digits = [w for w in words if w.isascii() and w.isdigit()]
    return _by_number(digits[0], options) if len(digits) == 1 and len(words) <= 3 else None


def parse_many_choices(text: str, options: list[tuple[str, list[str]]]) -> list[str]:
    """Return every option named in an answer like '1 3 5', '1,3', 'water and food' (in option order, no duplicates)."""
    if len(text) > _MAX_ANSWER or not options:
        return []
    words = _words(_fold(text))
    chosen = _numbered(words, len(options))
    spans = _label_spans(words, options)
    chosen |= {index for start, end, index in spans if not _inside(start, end, index, spans)}
    covered = {position for start, end, _ in spans for position in range(start, end)}
    free = [w for position, w in enumerate(words) if position not in covered and not w.isdigit()]
    for word in free[:_TYPO_MAX_WORDS]:
        best = _best(_typo_scores([word], options))
        if best is not None:
            chosen.add(best)
    return [value for index, (value, _) in enumerate(options) if index in chosen]


def _by_number(digits: str, options: Options) -> str | None:
    """Return the value of the option with this 1-based number."""
    number = int(digits)
    return options[number - 1][0] if 1 <= number <= len(options) else None


def _numbered(words: list[str], count: int) -> set[int]:
    """Collect option indexes typed as numbers; '135' means 1, 3 and 5 when there are fewer than ten options."""
    chosen: set[int] = set()
    for word in words:
        if not (word.isascii() and word.isdigit()) or len(word) > 3:
            continue
        if 1 <= int(word) <= count:
            chosen.add(int(word) - 1)
        elif count < 10 and all(1 <= int(d) <= count for d in word):
            chosen.update(int(d) - 1 for d in word)
    return chosen


def _label_words(options: Options) -> Iterator[tuple[int, tuple[str, ...]]]:
    """Yield (option index, folded label words) for every non-empty label."""
    for index, (_, labels) in enumerate(options):
        for label in labels:
            phrase = _phrase(label)
            if phrase:
                yield index, phrase


def _label_scores(words: list[str], options: Options) -> dict[int, float]:
    """Score options by exact answer match, else by the longest label contained as whole words."""
    scores: dict[int, float] = {}
    for index, phrase in _label_words(options):
        if tuple(words) == phrase:
            scores[index] = _EXACT
        elif _contains(words, phrase):
            scores[index] = max(scores.get(index, 0), len(phrase))
    return scores


def _typo_scores(words: list[str], options: Options) -> dict[int, float]:
    """Score options by the closest difflib match between long-enough answer and label words."""
    candidates = list(dict.fromkeys(w for w in words if len(w) >= _TYPO_MIN_LENGTH))[:_TYPO_MAX_WORDS]
    scores: dict[int, float] = {}
    for index, phrase in _label_words(options):
        for label_word in (w for w in phrase if len(w) >= _TYPO_MIN_LENGTH):
            for word in candidates:
                ratio = _ratio(word, label_word)
                if ratio >= _TYPO_RATIO:
                    scores[index] = max(scores.get(index, 0), ratio)
    return scores


def _ratio(word: str, label_word: str) -> float:
    """Return difflib's similarity, skipping the slow path when the quick upper bounds already fail."""
    matcher = difflib.SequenceMatcher(None, word, label_word)
    if matcher.real_quick_ratio() < _TYPO_RATIO or matcher.quick_ratio() < _TYPO_RATIO:
        return 0.0
    return matcher.ratio()


def _best(scores: dict[int, float]) -> int | None:
    """Return the single top-scoring option, or None when nothing scored or there is a tie."""
    if not scores:
        return None
    top = max(scores.values())
    winners = [index for index, score in scores.items() if score == top]
    return winners[0] if len(winners) == 1 else None


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    """Tell whether the phrase appears in words as consecutive whole words."""
    return f" {' '.join(phrase)} " in f" {' '.join(words)} "


def _label_spans(words: list[str], options: Options) -> list[tuple[int, int, int]]:
    """List (start, end, option index) for every place a label occurs in the answer."""
    spans: list[tuple[int, int, int]] = []
    for index, phrase in _label_words(options):
        if not _contains(words, phrase):
            continue
        size = len(phrase)
        spans += [(s, s + size, index) for s in range(len(words) - size + 1) if tuple(words[s : s + size]) == phrase]
    return spans


def _inside(start: int, end: int, index: int, spans: list[tuple[int, int, int]]) -> bool:
    """Tell whether a label match sits inside a longer match of another option ("sick" in "very sick")."""
    return any(s <= start and end <= e and e - s > end - start and i != index for s, e, i in spans)
