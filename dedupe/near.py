"""Near-duplicate blocks: every LSH candidate is confirmed by its actual Jaccard.

The Jaccard is that of the two blocks' shingle sets at the size the pair calls for (word 3-grams,
word 4-grams when both blocks are long, grapheme n-grams in unspaced scripts). Short blocks
need more: two different short lines easily share a run of words, so below ``short_tokens``
tokens the bar is ``short_threshold``, and below ``min_tokens`` only the exact tier applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dedupe.normalize import is_unspaced, tokens
from dedupe.shingles import jaccard, ngrams, pair_size


@dataclass(frozen=True)
class NearRule:
    threshold: float = 0.45
    short_tokens: int = 10
    short_threshold: float = 0.6
    min_tokens: int = 5

    def __post_init__(self) -> None:
        for name in ("threshold", "short_threshold"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {value}")

    def threshold_for(self, shorter_tokens: int) -> float | None:
        """The Jaccard a pair must reach, given the shorter block's token count (None: never)."""
        if shorter_tokens < self.min_tokens:
            return None
        if shorter_tokens < self.short_tokens:
            return self.short_threshold
        return self.threshold


@dataclass(frozen=True)
class Candidate:
    """A block the index proposed: the caller's reference, its tokens, the estimate."""

    ref: int
    block: NearBlock
    estimated: float


@dataclass(frozen=True)
class NearMatch:
    ref: int
    similarity: float  # exact Jaccard of the pair's shingles
    estimated: float  # MinHash estimate that made it a candidate
    threshold: float  # the bar it cleared
    shingle_size: int


class NearBlock:
    """One block's tokens, kept while its candidates are confirmed."""

    def __init__(self, normalized: str) -> None:
        self.tokens: Sequence[str] = tokens(normalized)
        self.unspaced = is_unspaced(normalized)
        self._grams: dict[int, set[str]] = {}

    def packed(self) -> tuple[tuple[str, ...], bool]:
        """Tokens and script as a plain tuple of strings and a flag, to keep in a cache: the
        garbage collector stops tracking such a tuple, where the block object and its sets would
        add to every full collection."""
        return tuple(self.tokens), self.unspaced

    @classmethod
    def unpacked(cls, packed: tuple[tuple[str, ...], bool]) -> NearBlock:
        block = cls.__new__(cls)
        block.tokens, block.unspaced = packed
        block._grams = {}
        return block

    def grams(self, size: int) -> set[str]:
        found = self._grams.get(size)
        if found is None:
            found = self._grams[size] = ngrams(self.tokens, size)
        return found

    def compare(self, other: NearBlock, rule: NearRule) -> tuple[float, float, int] | None:
        """(Jaccard, bar, n-gram size) of this pair, or None when the pair is too short."""
        bar = rule.threshold_for(min(len(self.tokens), len(other.tokens)))
        if bar is None:
            return None
        size = pair_size(len(self.tokens), len(other.tokens), self.unspaced or other.unspaced)
        return jaccard(self.grams(size), other.grams(size)), bar, size


def best_match(block: NearBlock, candidates: Sequence[Candidate], rule: NearRule) -> NearMatch | None:
    """The most similar candidate that clears the bar (ties: the first given, i.e. the earliest)."""
    best: NearMatch | None = None
    for candidate in candidates:
        compared = block.compare(candidate.block, rule)
        if compared is None:
            continue
        similarity, bar, size = compared
        if similarity < bar:
            continue
        if best is None or similarity > best.similarity:
            best = NearMatch(candidate.ref, similarity, candidate.estimated, bar, size)
    return best


def signatures_may_reach(
    query: npt.NDArray[np.uint32], stored: npt.NDArray[np.uint32], bars: npt.NDArray[np.float64], margin: float
) -> npt.NDArray[np.bool_]:
    """Row by row: whether the Jaccard two full signatures estimate is at least ``bars`` less
    ``margin``, i.e. whether the pair is worth its texts being compared.

    Every permutation counts here, where the index's sketch keeps one byte of 80 of them: a
    candidate whose sketch agreed by chance falls back to its Jaccard. The estimate is of the
    paragraph shingles, and long pairs are confirmed on larger n-grams, whose Jaccard is lower:
    screening on the estimate drops no pair the confirmation would keep.
    """
    estimates = np.count_nonzero(query == stored, axis=1) / max(1, stored.shape[1])
    reaches: npt.NDArray[np.bool_] = estimates >= bars - margin
    return reaches
