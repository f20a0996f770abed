"""Text normalisation for hashing and shingling, and tokens for every script VOA publishes in.

Folding (version ``NORM_HASH_VERSION``):

- Unicode NFKC and case folding;
- accents on Latin letters fold away ("é" -> "e", Vietnamese tone marks too);
- Cyrillic: stress marks fold away and "ё" becomes "е"; "й", "ї", "ў" stay letters of their own;
- Arabic script (Arabic, Persian, Urdu, Pashto, Kurdish): harakat, superscript alef and tatweel are
  dropped; the alef forms (أ إ آ ٱ) become ا, the yeh forms (ى ی ئ) become ي, keheh (ک) becomes
  kaf (ك), teh marbuta and the heh forms become ه, so text typed on Arabic and Persian
  keyboards compares equal;
- every digit (any script) becomes ``0``, so "2024" and "٢٠٢٤" compare equal;
- punctuation, symbols and whitespace become one space; format characters (soft hyphen, joiners,
  direction marks, BOM) vanish, except ZERO WIDTH NON-JOINER, which separates Persian word parts
  exactly like the space many writers type instead.

Marks of other scripts (Thai and Lao vowels, Devanagari and Bengali signs, Tibetan subjoined
letters, Myanmar and Khmer signs) carry meaning and are kept.

Tokens: a word in scripts that separate words with spaces; a grapheme cluster in Chinese,
Japanese, Korean, Thai, Lao, Khmer, Burmese and Tibetan, where a space does not end a word. A
run of spaced-script letters or digits inside unspaced text stays one token ("usa", "0000").
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import regex

# Version byte in every hash we store: a change of folding rules changes the prefix, so stored
# hashes made by another version never compare equal by accident.
NORM_HASH_VERSION = "2"

# Thai, Lao, Tibetan, Myanmar, Hangul Jamo, Khmer, Kana, CJK ideographs (with 々 〆 〇 〻),
# Hangul syllables and compatibility jamo, halfwidth Kana: written without spaces between words.
_UNSPACED_RANGES = (
    "\u0e00-\u0fff\u1000-\u109f\u1100-\u11ff\u1780-\u17ff\u19e0-\u19ff\u3005-\u3007\u303b"
    "\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\ua9e0-\ua9ff"
    "\uaa60-\uaa7f\uac00-\ud7ff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED_RANGES}]")  # the stdlib engine: fast plain searches
# A grapheme of an unspaced script (base + its marks), or a run of anything else but spaces.
_TOKEN = regex.compile(f"[{_UNSPACED_RANGES}]\\p{{M}}*|[^\\s{_UNSPACED_RANGES}]+")
_ANY_MARK = regex.compile(r"\p{M}")
# Marks that fold away, on NFD text: accents and tone marks after Latin letters; stress marks
# after Cyrillic letters and the diaeresis of ё (е + U+0308); Arabic harakat, hamza marks and
# superscript alef (so أ إ آ become ا before recomposition).
_DROPPED_MARKS = regex.compile(
    r"(?<=\p{Latin})\p{Mn}+"
    r"|(?<=\p{Cyrillic})[\u0300\u0301]+"
    "|(?<=[\u0435\u0415])\u0308"
    r"|[\u064B-\u065F\u0670]+"
)

_ARABIC_LETTERS = {
    0x0671: "\u0627",  # alef wasla -> alef
    0x0672: "\u0627",
    0x0673: "\u0627",
    0x0649: "\u064a",  # alef maksura -> yeh
    0x06CC: "\u064a",  # Farsi yeh -> yeh
    0x06D0: "\u064a",
    0x06A9: "\u0643",  # keheh (Persian kaf) -> kaf
    0x06AA: "\u0643",
    0x0629: "\u0647",  # teh marbuta -> heh
    0x06C1: "\u0647",  # heh goal (Urdu) -> heh
    0x06D5: "\u0647",  # ae -> heh
    0x0640: "",  # tatweel: elongation only
}
_ZWNJ = 0x200C


class _FoldTable(dict[int, str]):
    """``str.translate`` table of the per-character folding, filled in as characters are met.

    A pure function of the character (and the Unicode version), so filling it lazily never
    changes a result; building it for all 1.1M code points up front would cost seconds.
    """

    def __missing__(self, code: int) -> str:
        category = unicodedata.category(chr(code))
        if code == _ZWNJ:
            folded = " "
        elif code in _ARABIC_LETTERS:
            folded = _ARABIC_LETTERS[code]
        elif category == "Nd":
            folded = "0"
        elif category == "Cf":
            folded = ""
        elif category[0] in "PSZ" or category == "Cc":
            folded = " "
        else:
            folded = chr(code)
        self[code] = folded
        return folded


_FOLD = _FoldTable()
for _code in range(128):
    _FOLD[_code]


# Latin-1, Latin Extended-A/B and General Punctuation: news text in Latin scripts is ASCII plus a
# few of these (accented letters, dashes, curly quotes), and each of them folds on its own.
_LATIN_EXTRA = re.compile("[\u0080-\u024f\u2000-\u206f]")
_BEYOND_LATIN = re.compile("[^\u0000-\u024f\u2000-\u206f]")


def _fold_full(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    if not folded.isascii() and (
        not unicodedata.is_normalized("NFD", folded) or _ANY_MARK.search(folded) is not None
    ):
        decomposed = _DROPPED_MARKS.sub("", unicodedata.normalize("NFD", folded))
        folded = unicodedata.normalize("NFC", decomposed)
    return folded.translate(_FOLD)


_LATIN_FOLD = {chr(code): _fold_full(chr(code)) for code in (*range(0x80, 0x250), *range(0x2000, 0x2070))}


# ASCII folds character by character to one ASCII character each (lower case included): one
# bytes.translate does it without a dictionary look-up per character.
_ASCII_FOLD = bytes(ord(_FOLD[ord(chr(code).lower())]) for code in range(128)) + bytes(range(128, 256))

# The cleaner, the in-article repeat search and the corpus dedupe each fold the same paragraphs:
# short texts are remembered (a bounded table, emptied when full; a pure function, so forgetting
# changes nothing).
MEMO_ENTRIES = 1024
MEMO_MAX_CHARS = 2000
_memo: dict[str, str] = {}


def normalize(text: str) -> str:
    """Fold ``text`` to the form that hashing and shingling work on (see the module docstring)."""
    if len(text) > MEMO_MAX_CHARS:
        return _normalize(text)
    folded = _memo.get(text)
    if folded is None:
        if len(_memo) >= MEMO_ENTRIES:
            _memo.clear()
        folded = _memo[text] = _normalize(text)
    return folded


def _normalize(text: str) -> str:
    if not text.isascii() and _BEYOND_LATIN.search(text) is None:
        # Fast path, same result: fold each non-ASCII character alone (none of them combines).
        for char in set(_LATIN_EXTRA.findall(text)):
            text = text.replace(char, _LATIN_FOLD[char])
    if text.isascii():
        return " ".join(text.encode("ascii").translate(_ASCII_FOLD).decode("ascii").split())
    return " ".join(_fold_full(text).split())


def norm_hash(text: str) -> str:
    """A short, versioned hash of the normalised text (33 hex characters)."""
    return norm_hash_of_normalized(normalize(text))


def norm_hash_of_normalized(normalized: str) -> str:
    digest = hashlib.blake2b(normalized.encode("utf-8"), digest_size=16).hexdigest()
    return NORM_HASH_VERSION + digest


def is_unspaced(normalized: str) -> bool:
    """True when most letters belong to scripts written without spaces between words."""
    if normalized.isascii() or _UNSPACED_CHAR.search(normalized) is None:
        return False
    letters = len(normalized) - normalized.count(" ")
    if not letters:
        return False
    unspaced = len(_UNSPACED_CHAR.findall(normalized))
    return unspaced * 2 > letters


def tokens(normalized: str) -> list[str]:
    """Words, or graphemes in unspaced scripts, of already normalised text."""
    if normalized.isascii() or _UNSPACED_CHAR.search(normalized) is None:
        return normalized.split()
    # No token spans a space, so only the words holding an unspaced character need the grapheme
    # pattern: a spaced text quoting a few such words is not read character by character.
    found: list[str] = []
    for word in normalized.split():
        if word.isascii() or _UNSPACED_CHAR.search(word) is None:
            found.append(word)
        else:
            found.extend(_TOKEN.findall(word))
    return found


def word_count(text: str) -> int:
    """Words in spaced scripts; roughly two graphemes a word in unspaced ones (for length buckets)."""
    normalized = normalize(text)
    if is_unspaced(normalized):
        return max(1, len(tokens(normalized)) // 2)
    return len(normalized.split())
