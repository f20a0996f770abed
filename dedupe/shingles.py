"""Shingles: n-grams of tokens (words in spaced scripts, graphemes in unspaced ones).

Sizes fit the text: paragraphs and captions use word 3-grams (grapheme 4-grams in unspaced
scripts); the pair verdict for two long blocks (both >= ``LONG_BLOCK_TOKENS``) uses word 4-grams;
whole articles use word 5-grams (grapheme 8-grams).

Signatures of every block use the paragraph size, never one picked from the block's own length:
an edited copy that crosses a length boundary would otherwise be shingled differently from its
original and never match. Length only chooses the n-gram size of the confirming Jaccard, from
the shorter of the two blocks compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dedupe.normalize import is_unspaced, normalize, tokens

# Recorded with stored signatures: change it whenever tokens, sizes or hashing change.
SHINGLE_SCHEME = "v2:norm2:tok-word-grapheme:p3g4:d5g8:poly64"

LONG_BLOCK_TOKENS = 60


@dataclass(frozen=True)
class ShingleSizes:
    spaced: int
    unspaced: int

    def for_text(self, unspaced: bool) -> int:
        return self.unspaced if unspaced else self.spaced


PARAGRAPH = ShingleSizes(spaced=3, unspaced=4)
LONG_PARAGRAPH = ShingleSizes(spaced=4, unspaced=5)
DOCUMENT = ShingleSizes(spaced=5, unspaced=8)


def ngrams(token_list: Sequence[str], size: int) -> set[str]:
    """Token n-grams joined by one space; a text shorter than ``size`` is one shingle."""
    if not token_list:
        return set()
    if len(token_list) <= size:
        return {" ".join(token_list)}
    # zip over shifted copies: no list slice per n-gram (twice as fast on article bodies).
    return set(map(" ".join, zip(*(token_list[i:] for i in range(size)), strict=False)))


def shingles(
    text: str, *, normalized: bool = False, size: int | None = None, sizes: ShingleSizes = PARAGRAPH
) -> set[str]:
    """The shingle set of ``text`` (paragraph sizes unless told otherwise)."""
    folded = text if normalized else normalize(text)
    if not folded:
        return set()
    n = size or sizes.for_text(is_unspaced(folded))
    return ngrams(tokens(folded), n)


def pair_size(tokens_a: int, tokens_b: int, unspaced: bool) -> int:
    """The n-gram size that confirms a pair of blocks: larger when both are long."""
    sizes = LONG_PARAGRAPH if min(tokens_a, tokens_b) >= LONG_BLOCK_TOKENS else PARAGRAPH
    return sizes.for_text(unspaced)


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def containment(a: set[str], b: set[str]) -> float:
    """Share of ``a`` found in ``b``."""
    return len(a & b) / len(a) if a else 0.0
