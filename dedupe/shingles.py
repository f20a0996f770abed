"""Shingles: word n-grams for spaced scripts, character n-grams for unspaced ones."""

from __future__ import annotations

from dedupe.normalize import is_unspaced, normalize

SHINGLE_SCHEME = "w3c4-v1"  # recorded with stored signatures; change it when the rules change


def shingle_size(word_total: int) -> int:
    """Word n-gram size for a block of ``word_total`` words: 3 for short, larger for long text."""
    if word_total < 60:
        return 3
    if word_total < 400:
        return 4
    return 5


def shingles(text: str, *, normalized: bool = False, size: int | None = None) -> set[str]:
    """The shingle set of ``text``.

    Blocks shorter than the n-gram size give one shingle (the whole folded text), so short
    captions still compare instead of all hashing to the empty set.
    """
    folded = text if normalized else normalize(text)
    if not folded:
        return set()
    if is_unspaced(folded):
        chars = folded.replace(" ", "")
        n = size or 4
        if len(chars) <= n:
            return {chars}
        return {chars[i : i + n] for i in range(len(chars) - n + 1)}
    words = folded.split()
    n = size or shingle_size(len(words))
    if len(words) <= n:
        return {" ".join(words)}
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def containment(a: set[str], b: set[str]) -> float:
    """Share of ``a`` found in ``b``."""
    return len(a & b) / len(a) if a else 0.0
