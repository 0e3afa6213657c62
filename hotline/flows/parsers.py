"""Understand what people in distress write: head counts, yes/no answers, menu choices, and the phrases behind them.

Every parser here is pure and total: any string in, a value or None out, never an exception.
Messages arrive from panicked people typing on phones in many languages and scripts, so the
parsers normalise digits, accents, Arabic letter variants and stretched letters before matching.
The words themselves live in ``vocabulary/*.yaml``, one list per language; ``Lexicon`` finds
their phrases in folded text.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import yaml

YesNo = Literal["yes", "no", "unknown"]
Options = Sequence[tuple[str, Sequence[str]]]

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # safe either way; the C one starts faster
_MAX_ANSWER = 2000
MAX_TEXT = 4000  # longer messages are read only this far

# --------------------------------------------------------------------------- text folding

_ARABIC_DIGITS = {
    **{chr(0x0660 + i): str(i) for i in range(10)},
    **{chr(0x06F0 + i): str(i) for i in range(10)},
    "\u066b": ".",
    "\u060c": ",",
    "\u066c": "",
}
_ARABIC_CHARS = re.compile(f"[{''.join(_ARABIC_DIGITS)}]")
_OTHER_DIGIT = re.compile(r"[^\x00-\x7f\D]")
# Keyboards and regions spell the same word differently (Persian vs Arabic yeh/kaf, ta marbuta, Sorani letters,
# Turkish dotless i, Polish ł, typographic apostrophes); folding them to one form lets one vocabulary match them all.
_LETTER_MAP = str.maketrans(
    {
        "ı": "i",
        "ł": "l",
        "ی": "ي",
        "ى": "ي",
        "ک": "ك",
        "ة": "ه",
        "ہ": "ه",
        "ھ": "ه",
        "ە": "ه",
        "ۆ": "و",
        "ڵ": "ل",
        "ڕ": "ر",
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
# French elision glues words together ("d'eau", "n'est"); split them so "eau" and the negation stay visible.
_ELISION = re.compile(r"\b(qu|[cdjlmnst])['\u2019](?=\w)")
_ELIDED = {"l": "", "qu": "que "} | {letter: f"{letter}e " for letter in "cdjmnst"}
_DROPPED_CATEGORIES = frozenset({"Mn", "Cf"})
_WORD_CATEGORIES = frozenset("LMN")


class _CharTable(dict[int, str | None]):
    """A str.translate table that decides each character once, by its Unicode category, then remembers."""

    def __init__(self, decide: Callable[[str], str | None], fixed: Mapping[int, str | None] | None = None) -> None:
        super().__init__(fixed or {})
        self.decide = decide

    def __missing__(self, code: int) -> str | None:
        self[code] = self.decide(chr(code))
        return self[code]


# After NFKD: drop combining marks and invisible format characters, then unify letter variants.
_UNMARK = _CharTable(lambda c: None if unicodedata.category(c) in _DROPPED_CATEGORIES else c, _LETTER_MAP)
# Anything but letters, marks and digits separates words.
_SEPARATE = _CharTable(lambda c: c if unicodedata.category(c)[0] in _WORD_CATEGORIES else " ")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_SQUEEZE = re.compile(r"(.)\1+")
_CLAUSE_BREAK = re.compile(r"[,.!?;:\u060c\u061b\u061f\u0964\u1362\u1363\u1364\u1367\n]")
_CLAUSES = re.compile(r"([,.!;:\u060c\u061b\u0964\u1362\u1363\u1364\n]|[?\u061f\u00bf\u1367])")
_QUESTION_MARKS = frozenset("?\u061f\u00bf\u1367")
# Map links, phone numbers, coordinates and clock times carry digits and letters that are never words.
_NOISE = re.compile(
    r"\b(?:[a-z][\w+.-]*://|www\.|geo:)\S*|\+\d[\d\s-]{6,}\d|(?<!\d)(?:\d++(?:[.,]\d++)?\s?[°º˚'’′\"”″]{1,2}\s?)+|(?<!\d)\d++(?:[.,:]\d++)+",
    re.IGNORECASE,
)
_DIGIT_JOINS = re.compile(r"\d(?=[^\x00-\x7f])|[^\x00-\x7f](?=\d)")
BREAK = "."  # stands for a sentence or comma break in token lists
QUESTION = "?"  # stands for a question mark in token lists
_BREAKS = frozenset({BREAK, QUESTION})


def normalize_digits(text: str) -> str:
    """Map Arabic-Indic (٠-٩) and Persian/Extended (۰-۹) digits to ASCII, the Arabic decimal separator ٫ to '.', the Arabic comma ، to ',', and drop the Arabic thousands separator ٬."""  # noqa: E501
    text = _ARABIC_CHARS.sub(lambda match: _ARABIC_DIGITS[match[0]], text)
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
    text = _ELISION.sub(lambda match: _ELIDED[match[1]], text)
    if text.isascii():
        return text.translate(_LETTER_MAP)
    return unicodedata.normalize("NFKD", text).translate(_UNMARK)


def _words(folded: str) -> list[str]:
    """Split folded text into words of letters, marks and digits."""
    if folded.isascii():
        return _ASCII_WORD.findall(folded)
    return folded.translate(_SEPARATE).split()


def tokens(text: str) -> list[str]:
    """Fold text into words, with BREAK after every sentence or comma and QUESTION after every question.

    Links, phone numbers, coordinates and times become a BREAK; "%" becomes the word "percent".
    """
    folded = _fold(_NOISE.sub(" . ", normalize_digits(text))).replace("%", " percent ")
    folded = folded if folded.isascii() else _DIGIT_JOINS.sub(lambda match: f"{match[0]} ", folded)
    found: list[str] = []
    for index, part in enumerate(_CLAUSES.split(folded)):
        if index % 2:
            found.append(QUESTION if part in _QUESTION_MARKS else BREAK)
        else:
            found += _words(part)
    return found


def _squeeze(word: str) -> str:
    """Collapse stretched letters ("yesss", "noooo") to one."""
    return _SQUEEZE.sub(r"\1", word)


def _longest(words: Sequence[str], start: int, vocab: Mapping[tuple[str, ...], object], longest: int) -> int:
    """Return how many words from `start` form the longest phrase in `vocab` (0 if none)."""
    for size in range(min(longest, len(words) - start), 0, -1):
        if tuple(words[start : start + size]) in vocab:
            return size
    return 0


# --------------------------------------------------------------------------- vocabulary files


def load_vocabulary(name: str) -> dict[str, Any]:
    """Read one of the package's ``vocabulary/<name>.yaml`` files."""
    text = (resources.files("hotline.flows") / "vocabulary" / f"{name}.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.load(text, Loader=_YAML_LOADER)
    return loaded


def phrase_lists(section: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, str]]:
    """Yield (phrase, category path) for every phrase under a section of {category: {language: [phrases]}}."""
    for key, value in section.items():
        name = f"{path}:{key}" if path else str(key)
        if isinstance(value, Mapping):
            yield from phrase_lists(value, name)
            continue
        for phrase in value:
            if not isinstance(phrase, str):
                raise TypeError(f"{name}: {phrase!r} must be quoted")
            yield phrase, path


def _spellings(by_language: Mapping[str, str]) -> Iterator[str]:
    """Yield every "|"-separated spelling of a {language: "a|b|c"} mapping."""
    for language, spellings in by_language.items():
        if not isinstance(spellings, str):
            raise TypeError(f"{language}: {spellings!r} must be a quoted string")
        yield from (spelling.strip() for spelling in spellings.split("|"))


# --------------------------------------------------------------------------- phrase lexicon

_GAP_WORDS = 3
_STEM = 2  # letters a "word*" needs at least
_SMALL_NUMBER = 24
_CLITICS = ("وبال", "وال", "بال", "فال", "كال", "ولل", "لل", "ال", "و", "ف", "ب", "ل")


@dataclass(frozen=True)
class Hit:
    """A phrase found in a token list: tokens[start:end] mean `value`."""

    start: int
    end: int
    value: str
    precise: bool = True  # no "word*" in the phrase: it wins a tie with one that has


@dataclass(frozen=True)
class _Slot:
    """One position of a phrase: a set of words, word beginnings, a gap or a small number."""

    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    gap: bool = False
    number: bool = False

    def accepts(self, variants: tuple[str, ...]) -> bool:
        """Tell whether a word (given as its spelling variants) fills this slot."""
        if self.number:
            word = variants[0]
            return word.isascii() and word.isdigit() and len(word) <= 2 and int(word) <= _SMALL_NUMBER
        return any(v in self.exact or (self.prefixes and v.startswith(self.prefixes)) for v in variants)


_GAP = _Slot(gap=True)
_NUMBER_SLOT = _Slot(number=True)


@dataclass
class Lexicon:
    """Phrases from the vocabulary files, indexed by their first word, found in token lists.

    A phrase is words separated by spaces: "a|b" is either word, "word*" any word starting so, "~" up to
    three words of the same clause in between, "<n>" a number from 0 to 24 in digits. Arabic-script words
    also match without a leading clitic (و، ف، ب، ل، ال).
    """

    entries: Iterable[tuple[str, str]]
    _phrases: list[tuple[tuple[_Slot, ...], str, bool]] = field(default_factory=list, init=False)
    _exact: dict[str, list[int]] = field(default_factory=dict, init=False)
    _prefix: dict[str, list[tuple[str, int]]] = field(default_factory=dict, init=False)  # by first two letters
    _number_first: list[int] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        for phrase, value in self.entries:
            slots = _compile(phrase)
            index = len(self._phrases)
            self._phrases.append((slots, value, not any(slot.prefixes for slot in slots)))
            if slots[0].number:
                self._number_first.append(index)
            for word in slots[0].exact:
                self._exact.setdefault(word, []).append(index)
            for prefix in slots[0].prefixes:
                self._prefix.setdefault(prefix[:_STEM], []).append((prefix, index))

    def find(self, words: Sequence[str]) -> list[Hit]:
        """Return every phrase occurrence in a token list, each (start, value) once with its longest end."""
        variants = [_variants(word) for word in words]
        hits: list[Hit] = []
        for start, forms in enumerate(variants):
            candidates = self._candidates(forms)
            if not candidates:
                continue
            best: dict[str, tuple[int, bool]] = {}
            for index in candidates:
                slots, value, precise = self._phrases[index]
                end = _match(slots, 1, start + 1, words, variants)
                if end is not None and (end, precise) > best.get(value, (-1, False)):
                    best[value] = (end, precise)
            hits += [Hit(start, end, value, precise) for value, (end, precise) in best.items()]
        return hits

    def _candidates(self, forms: tuple[str, ...]) -> set[int]:
        """Collect the phrases whose first slot one of the word's spellings fills."""
        found = set(self._number_first) if self._number_first and _NUMBER_SLOT.accepts(forms) else set()
        for form in forms:
            found.update(self._exact.get(form, ()))
            found.update(index for prefix, index in self._prefix.get(form[:_STEM], ()) if form.startswith(prefix))
        return found


def _compile(phrase: str) -> tuple[_Slot, ...]:
    """Turn a phrase of the vocabulary syntax into slots; refuse a phrase that is empty or ends in a gap."""
    slots: list[_Slot] = []
    for raw in phrase.split():
        if raw in ("~", "<n>"):
            slots.append(_GAP if raw == "~" else _NUMBER_SLOT)
        elif "|" in raw:
            slots.append(_alternatives(raw.split("|"), phrase))
        else:
            words = _words(_fold(raw.rstrip("*")))
            slots += [_Slot(frozenset({word})) for word in words[:-1]]
            slots += [_alternatives([f"{words[-1]}*" if raw.endswith("*") else words[-1]], phrase)] if words else []
    if not slots or slots[0].gap or slots[-1].gap:
        raise ValueError(f"unusable phrase {phrase!r}")
    return tuple(slots)


def _alternatives(spellings: list[str], phrase: str) -> _Slot:
    """Build one slot from "a|b*" spellings, each a single word."""
    exact: set[str] = set()
    prefixes: list[str] = []
    for spelling in spellings:
        words = _words(_fold(spelling.rstrip("*")))
        if len(words) != 1 or (spelling.endswith("*") and len(words[0]) < _STEM):
            raise ValueError(f"{spelling!r} in {phrase!r} must be one word, two letters at least before a *")
        (prefixes.append if spelling.endswith("*") else exact.add)(words[0])
    return _Slot(frozenset(exact), tuple(prefixes))


def _variants(word: str) -> tuple[str, ...]:
    """Return a word and, for Arabic script, the word without each leading clitic it may carry."""
    if not ("\u0600" <= word[:1] <= "\u06ff"):
        return (word,)
    stripped = [word[len(clitic) :] for clitic in _CLITICS if word.startswith(clitic) and len(word) - len(clitic) > 1]
    return (word, *dict.fromkeys(stripped))


def _match(
    slots: Sequence[_Slot], slot: int, position: int, words: Sequence[str], variants: Sequence[tuple[str, ...]]
) -> int | None:
    """Return where a phrase ends if its slots from `slot` on match the words from `position`, else None."""
    if slot == len(slots):
        return position
    if slots[slot].gap:
        for skip in range(_GAP_WORDS + 1):
            if skip and (position + skip > len(words) or words[position + skip - 1] in _BREAKS):
                return None
            end = _match(slots, slot + 1, position + skip, words, variants)
            if end is not None:
                return end
        return None
    if position >= len(words) or not slots[slot].accepts(variants[position]):
        return None
    return _match(slots, slot + 1, position + 1, words, variants)


# --------------------------------------------------------------------------- head counts

_NUMBERS = load_vocabulary("numbers")
_PEOPLE = load_vocabulary("people")
_ZERO_ANSWERS = (
    "none|no|nobody|no one|noone|nope|nadie|ninguno|non|personne|нет|никого|никто|لا|لا أحد|ولا حد|hiç|"
    "hiç kimse|hiçkimse|yok|هیچ|هیچکس|هیچ کس"
)
_NUMBER = re.compile(r"(?<![^\W\d_])(-?)(\d++)((?:[.,]\d++)?)")  # not inside Arabizi words ("wa7ed")
_MAX_DIGITS = 9
_MAX_GROUP_DIGITS = 3
_TENS = frozenset({20, 30, 40, 50})


def _phrase(text: str) -> tuple[str, ...]:
    """Fold a vocabulary phrase exactly like incoming text."""
    return tuple(_words(_fold(text)))


def _number_vocab() -> dict[tuple[str, ...], int]:
    """Index every number word of every language by its folded spelling; refuse one spelling with two values."""
    vocab: dict[tuple[str, ...], int] = {}
    for language, values in _NUMBERS["numbers"].items():
        for value, spellings in values.items():
            for spelling in _spellings({language: spellings}):
                if vocab.setdefault(_phrase(spelling), int(value)) != int(value):
                    raise ValueError(f"{spelling!r} ({language}) means both {vocab[_phrase(spelling)]} and {value}")
    return vocab


_COUNT_VOCAB = _number_vocab()
_COUNT_LONGEST = max(len(key) for key in _COUNT_VOCAB)
_NUMBER_STARTS = frozenset(key[0] for key in _COUNT_VOCAB)


def _arabizi_numbers() -> re.Pattern[str]:
    """Match the number words whose letters include digits ("3ashra", "5amsa"): those digits are not numbers."""
    spellings = {
        word for (word, *more) in _COUNT_VOCAB if not more and not word.isdigit() and any(map(str.isdigit, word))
    }
    return re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(spellings, key=len, reverse=True))) + r")\b")


_DIGIT_SPELLINGS = _arabizi_numbers()
_WHOLE_ANSWER_ONLY = frozenset(_phrase(word) for word in _spellings({"all": _NUMBERS["whole_answer_only"]}))
_COLLECTIVE = frozenset(_phrase(word) for word in _spellings({"all": _NUMBERS["collective"]}))
_ZERO_VOCAB = frozenset(_phrase(word) for word in _ZERO_ANSWERS.split("|"))


def parse_count(text: str, limit: int = 500) -> int | None:
    """Read a number of people from a short answer."""
    if len(text) > _MAX_ANSWER:
        return None
    folded = _fold(text)
    numbers = _digit_numbers(_DIGIT_SPELLINGS.sub(" ", folded))
    if numbers is None:
        return None
    words = _words(folded)
    if not numbers and tuple(words) in _ZERO_VOCAB:
        return 0
    values = numbers | {value for _, _, value in _word_numbers(words, whole_answer=len(words) == 1)}
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


def _word_numbers(words: Sequence[str], whole_answer: bool = False) -> Iterator[tuple[int, int, int]]:
    """Yield (start, end, value) of numbers written as words, longest phrase first ("on bir" is 11, not 10 and 1)."""
    index = 0
    while index < len(words):
        size = _longest(words, index, _COUNT_VOCAB, _COUNT_LONGEST) if words[index] in _NUMBER_STARTS else 0
        phrase = tuple(words[index : index + size])
        if size and (whole_answer or phrase not in _WHOLE_ANSWER_ONLY):
            yield index, index + size, _COUNT_VOCAB[phrase]
        index += size or 1


# --------------------------------------------------------------------------- people in a message

# Coordinates, times, map links and phone numbers hold digits that are never head counts.
_NOUNS = frozenset({"person", "adult", "adult_one", "child", "child_one", "child_two", "others", "unit", "group"})
_CUE_REACH = 2
_FILLER_REACH = 2
_SUBSET_SIZE = 1


_PEOPLE_TAG = "people:"


def _people_entries() -> Iterator[tuple[str, str]]:
    """Yield (phrase, "people:<category>") for people.yaml; refuse a phrase filed under two categories."""
    seen: dict[str, str] = {}
    for phrase, category in phrase_lists(_PEOPLE):
        key = _fold(" ".join(phrase.split()))
        if seen.setdefault(key, category) != category:
            raise ValueError(f"{phrase!r} is both {seen[key]} and {category}")
        yield phrase, f"{_PEOPLE_TAG}{category}"


PEOPLE_PHRASES = tuple(_people_entries())  # for a Lexicon shared with other phrases; see count_people
_PEOPLE_LEXICON = Lexicon(PEOPLE_PHRASES)


@dataclass
class _Tally:
    """What a message says about who is in the group, gathered word by word."""

    totals: list[int] = field(default_factory=list)
    adults: int = 0
    others: int = 0
    children: list[int] = field(default_factory=list)
    singular_children: int = 0
    members: set[str] = field(default_factory=set)
    lone_adults: int = 0
    writer: bool = False
    seen: bool = False
    alone: bool = False


@dataclass(frozen=True)
class _Reading:
    """A message's tokens with its people phrases, by where they start and end."""

    words: Sequence[str]
    starting: dict[int, Hit]
    ending: dict[int, Hit]

    def after(self, position: int) -> Hit | None:
        """Return the phrase starting at `position`, skipping a few filler words."""
        for _ in range(_FILLER_REACH + 1):
            hit = self.starting.get(position)
            if hit is None or hit.value != "filler":
                return hit
            position = hit.end
        return None

    def before(self, position: int, categories: frozenset[str] | set[str], used: Set[int] = frozenset()) -> Hit | None:
        """Return the phrase of one of `categories` ending right at `position`, unless another number took it."""
        hit = self.ending.get(position)
        return hit if hit is not None and hit.value in categories and hit.start not in used else None

    def cue_before(self, position: int) -> bool:
        """Tell whether "we are", "нас", "family of"... ends a few words before `position`, in the same clause."""
        for distance in range(_CUE_REACH + 1):
            hit = self.ending.get(position - distance)
            if hit is not None and hit.value == "total_cue":
                return True
            if position - distance - 1 < 0 or self.words[position - distance - 1] in _BREAKS:
                return False
        return False


def parse_people(text: str) -> tuple[int | None, int | None]:
    """Read how many people a message speaks of and how many of them are children: (total, children)."""
    words = tokens(text[:MAX_TEXT])
    return count_people(words, _PEOPLE_LEXICON.find(words))


def count_people(words: Sequence[str], found: Iterable[Hit]) -> tuple[int | None, int | None]:
    """Count people in tokens whose phrases a Lexicon holding PEOPLE_PHRASES has found: (total, children)."""
    hits = _leftmost_longest(
        [
            Hit(h.start, h.end, h.value.removeprefix(_PEOPLE_TAG), h.precise)
            for h in found
            if h.value.startswith(_PEOPLE_TAG)
        ]
    )
    reading = _Reading(words, {hit.start: hit for hit in hits}, {hit.end: hit for hit in hits})
    tally = _Tally()
    used: set[int] = set()
    for start, end, value in _numbers(reading):
        used |= _count_number(reading, tally, (start, end, value), used)
    for hit in hits:
        if hit.start not in used:
            _count_word(reading, tally, hit)
    return _total(tally), _children(tally)


def _leftmost_longest(hits: list[Hit]) -> list[Hit]:
    """Keep non-overlapping phrases, the longest at each place, scanning left to right."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, h.start - h.end, not h.precise)):
        if not kept or hit.start >= kept[-1].end:
            kept.append(hit)
    return kept


def _numbers(reading: _Reading) -> Iterator[tuple[int, int, int]]:
    """Yield (start, end, value) of every number small enough to count people, "twenty five" read as 25."""
    words = reading.words
    found = [(i, i + 1, int(w)) for i, w in enumerate(words) if _is_digits(w) and len(w) <= _MAX_GROUP_DIGITS]
    found += [n for n in _word_numbers(words) if not _is_noun_after_digits(reading, n[0])]
    found.sort()
    skip_to = 0
    for index, (start, end, value) in enumerate(found):
        if start < skip_to:
            continue
        following = found[index + 1] if index + 1 < len(found) else None
        if following and value in _TENS and following[0] == end and following[2] < 10:
            yield start, following[1], value + following[2]
            skip_to = following[1]
        else:
            yield start, end, value


def _is_noun_after_digits(reading: _Reading, start: int) -> bool:
    """Tell whether a number word right after digits is really a noun ("6 ሰባት" is six people, not 6 and 7)."""
    hit = reading.starting.get(start)
    previous = reading.words[start - 1] if start else ""
    return hit is not None and hit.value in _NOUNS and _is_digits(previous)


def _is_digits(word: str) -> bool:
    """Tell whether a token is a number written in ASCII digits."""
    return word.isascii() and word.isdigit()


def _count_number(reading: _Reading, tally: _Tally, number: tuple[int, int, int], used: Set[int]) -> set[int]:
    """File one number under what it counts; return where the nouns it used start."""
    start, end, value = number
    follows = reading.after(end)
    if follows is not None and follows.value == "total_cue":
        return set()  # "une famille de quatre": the article, not the count
    noun = follows if follows is not None and follows.value in _NOUNS else reading.before(start, _NOUNS, used)
    kind = noun.value if noun else None
    if kind is None and (reading.cue_before(start) or tuple(reading.words[start:end]) in _COLLECTIVE):
        tally.totals.append(value)
    elif kind is None and value > 1 and (counted := reading.starting.get(end)) and counted.value == "count_after":
        tally.totals.append(value)  # "9 of us" is the group; "one of us" is someone in it
    elif kind in ("person", "adult", "adult_one") and noun is not None and _with_others(reading, start, noun):
        tally.others += value
    elif kind == "person":
        tally.totals.append(value)
    elif kind == "adult_one" and value == 1:
        tally.lone_adults += 1  # "one man is bleeding" points at someone; "3 men and a woman" lists them
    elif kind in ("adult", "adult_one"):
        tally.adults += value
    elif kind == "others":
        tally.others += value
    elif kind in ("child", "child_one", "child_two"):
        _count_children(reading, tally, start, value)
    return {noun.start} if noun else set()


def _with_others(reading: _Reading, start: int, noun: Hit) -> bool:
    """Tell whether counted people are someone's companions ("with 7 people", "5 qof oo kale", "4 autres")."""
    follows = reading.after(noun.end)
    if follows is not None and follows.value == "others":
        return True
    return reading.before(start, {"with", "others"}) is not None and noun.value == "person"


def _count_children(reading: _Reading, tally: _Tally, start: int, value: int) -> None:
    """Add a numbered group of children, unless it singles one out of the children just counted ("3 kids, 1 baby")."""
    singles_out = value == _SUBSET_SIZE and tally.children and start and reading.words[start - 1] in _BREAKS
    if not singles_out:
        tally.children.append(value)


def _count_word(reading: _Reading, tally: _Tally, hit: Hit) -> None:
    """Note what a phrase with no number says: a singular child, a relative, the writer, a resident's sighting."""
    if hit.value in ("child_one", "adult_one", "child_two") and _points_back(reading, hit.start):
        return
    if hit.value == "child_one":
        tally.singular_children += 1
    elif hit.value == "child_two":
        tally.children.append(2)
    elif hit.value == "adult_one":
        tally.lone_adults += 1
    elif hit.value == "member":
        tally.members.add(" ".join(reading.words[hit.start : hit.end]))
    elif hit.value == "self":
        tally.writer = True
    elif hit.value == "seen":
        tally.seen = True
    elif hit.value == "alone":
        tally.alone = True


def _points_back(reading: _Reading, start: int) -> bool:
    """Tell whether a noun refers to someone already mentioned ("the baby", "الطفل")."""
    if reading.before(start, {"definite"}) is not None:
        return True
    return reading.words[start].startswith(("ال", "وال", "بال"))


def _total(tally: _Tally) -> int | None:
    """Decide the group's size; one person only when seen by a resident or said to be alone."""
    total = _group_size(tally)
    if total == 1 and not (tally.seen or tally.alone):
        return None  # "one of us fainted" says who is hurt, not how many are there
    return total


def _group_size(tally: _Tally) -> int | None:
    """Add up the group: a stated total first, else adults, companions and children, else the people named."""
    children = sum(tally.children) or tally.singular_children
    named = len(tally.members) + tally.writer
    if tally.totals:
        return tally.totals[0]
    if tally.adults or tally.others:
        listed = tally.adults + (tally.lone_adults if tally.adults else 0)
        return listed + tally.others + (1 if tally.others else 0) + children  # "X with 6 others" is 7
    if named and named + children >= 2:
        return named + children
    return 1 if (tally.lone_adults and tally.seen) or tally.alone else None


def _children(tally: _Tally) -> int | None:
    """Return the stated number of children: numbered groups first, else singular mentions, else None."""
    return sum(tally.children) if tally.children else tally.singular_children or None


# --------------------------------------------------------------------------- yes / no / don't know

_ANSWERS = load_vocabulary("answers")
_EMOJI = str.maketrans(
    {"👍": " yes ", "👌": " ok ", "✅": " yes ", "✔": " yes ", "👎": " no ", "❌": " no ", "🤷": " idk "}
)
_SCAN_WORDS = 8


def _yes_no_vocab() -> dict[tuple[str, ...], YesNo]:
    """Index every yes/no/unknown phrase by its folded, squeezed spelling; refuse contradictions."""
    vocab: dict[tuple[str, ...], YesNo] = {}
    for answer, by_language in _ANSWERS["answers"].items():
        for phrase in _spellings(by_language):
            key = tuple(_squeeze(w) for w in _phrase(phrase))
            if vocab.setdefault(key, _answer(answer)) != answer:
                raise ValueError(f"{phrase!r} means both {vocab[key]} and {answer}")
    return vocab


def _answer(value: object) -> YesNo:
    """Narrow a vocabulary value back to the YesNo literal."""
    return "yes" if value == "yes" else "no" if value == "no" else "unknown"


_YES_NO_VOCAB = _yes_no_vocab()
_YES_NO_LONGEST = max(len(key) for key in _YES_NO_VOCAB)
# Too short or too common to trust unless they are the entire answer ("y no sé", "ya se fue", "la casa").
_WHOLE_ONLY: dict[str, YesNo] = {word: _answer(answer) for word, answer in _ANSWERS["whole_only"].items()}


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
    answer = _YES_NO_VOCAB[tuple(words[:size])]
    following = _longest(words, size, _YES_NO_VOCAB, _YES_NO_LONGEST)
    if following and _YES_NO_VOCAB[tuple(words[size : size + following])] != answer:
        return None
    return answer


def _scan_yes_no(words: list[str]) -> YesNo | None:
    """Look through a short answer for yes/no words anywhere ("she says yes"), refusing mixed signals."""
    found: set[YesNo] = set()
    index = 0
    while index < len(words):
        size = _longest(words, index, _YES_NO_VOCAB, _YES_NO_LONGEST)
        if size:
            found.add(_YES_NO_VOCAB[tuple(words[index : index + size])])
        index += size or 1
    return found.pop() if len(found) == 1 else None


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
