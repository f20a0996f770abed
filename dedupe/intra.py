"""Repeats inside one article: exact (normalised hash) and near (shingle Jaccard)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

from dedupe.normalize import norm_hash_of_normalized, normalize
from dedupe.shingles import shingles


@dataclass(frozen=True)
class Repeat:
    first_index: int  # index into the blocks given, of the first occurrence
    tier: str  # exact | near
    similarity: float


def find_repeats(texts: Sequence[str], threshold: float = 0.8) -> list[Repeat | None]:
    """For each text, the earlier text it repeats (the first one at or over ``threshold``), or None.

    An article holds tens of blocks, so the exact shingle Jaccard is computed instead of estimated:
    an inverted index from shingle to the earlier blocks that hold it counts the shared shingles of
    every pair that has any, which costs less than one MinHash per block and leaves no verdict to an
    estimate. Blocks sharing nothing are never compared.
    """
    result: list[Repeat | None] = []
    first_by_hash: dict[str, int] = {}
    kept: list[tuple[int, int]] = []  # (index into texts, shingle count) of texts that repeat nothing
    holders: dict[str, list[int]] = {}  # shingle -> positions in ``kept``
    empty: list[int] = []
    for index, text in enumerate(texts):
        folded = normalize(text)
        digest = norm_hash_of_normalized(folded)
        if digest in first_by_hash:
            result.append(Repeat(first_by_hash[digest], "exact", 1.0))
            continue
        shingle_set = shingles(folded, normalized=True)
        shared = Counter(chain.from_iterable([holders.get(shingle, empty) for shingle in shingle_set]))
        found: Repeat | None = None
        for position in sorted(shared):
            other_index, other_size = kept[position]
            common = shared[position]
            similarity = common / (len(shingle_set) + other_size - common)
            if similarity >= threshold:
                found = Repeat(other_index, "near", similarity)
                break
        result.append(found)
        if found is None:
            first_by_hash[digest] = index
            for shingle in shingle_set:
                holders.setdefault(shingle, []).append(len(kept))
            kept.append((index, len(shingle_set)))
    return result
