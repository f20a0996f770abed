"""Text normalisation for hashing and shingling.

Folding: Unicode NFKC, case, accents on Latin letters, digits (all become ``0``), punctuation
and whitespace. Two blocks whose folded forms are equal are exact duplicates.
"""

from __future__ import annotations

import hashlib
import unicodedata

# Version byte in every hash we store: a change of folding rules changes the prefix, so stored
# hashes made by another version never compare equal by accident.
NORM_HASH_VERSION = "1"

# Scripts written without spaces between words: shingles are character n-grams there.
_UNSPACED_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0E7F),  # Thai
    (0x0E80, 0x0EFF),  # Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables (spaced, but short words: char grams work better)
)


def is_unspaced_char(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _UNSPACED_RANGES)


def _fold_char(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Nd":
        return "0"
    if category[0] in "PSZC":
        return " "
    return char


def normalize(text: str) -> str:
    """Fold ``text`` to the form that hashing and shingling work on."""
    composed = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", composed)
    out: list[str] = []
    previous_base = ""
    for char in decomposed:
        if unicodedata.category(char) == "Mn":
            # Accents on Latin letters fold away ("é" -> "e"); marks in other scripts (Thai
            # vowels, Arabic harakat are kept apart below) carry meaning and stay.
            if previous_base and ord(previous_base) < 0x0250:
                continue
            if 0x064B <= ord(char) <= 0x065F or ord(char) == 0x0670:  # Arabic diacritics
                continue
            out.append(char)
            continue
        if char == "\u0640":  # Arabic tatweel: elongation only
            continue
        folded = _fold_char(char)
        out.append(folded)
        previous_base = char if folded != " " else ""
    return " ".join(unicodedata.normalize("NFC", "".join(out)).split())


def norm_hash(text: str) -> str:
    """A short, versioned hash of the normalised text (33 hex characters)."""
    digest = hashlib.blake2b(normalize(text).encode("utf-8"), digest_size=16).hexdigest()
    return NORM_HASH_VERSION + digest


def is_unspaced(normalized: str) -> bool:
    """True when most letters belong to scripts written without spaces."""
    letters = [c for c in normalized if not c.isspace()]
    if not letters:
        return False
    unspaced = sum(1 for c in letters if is_unspaced_char(c))
    return unspaced * 2 > len(letters)


def word_count(text: str) -> int:
    normalized = normalize(text)
    if is_unspaced(normalized):
        # Roughly two characters a word in CJK/Thai text; good enough for length buckets.
        return max(1, len(normalized.replace(" ", "")) // 2)
    return len(normalized.split())
