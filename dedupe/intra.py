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


# Up to this many earlier blocks, intersecting sets directly (in C) costs less than keeping an index.
DIRECT_COMPARISONS = 48


def find_repeats(
    texts: Sequence[str], threshold: float = 0.8, shingle_sets: Sequence[set[str] | None] | None = None
) -> list[Repeat | None]:
    """For each text, the earlier text it repeats (the first one at or over ``threshold``), or None.

    An article holds tens of blocks, so the exact shingle Jaccard is computed instead of estimated.
    While few blocks are kept, each new one is intersected with every kept one; past
    ``DIRECT_COMPARISONS`` an inverted index from shingle to the kept blocks that hold it counts the
    shared shingles of every pair that has any, so long articles never compare blocks sharing
    nothing. Either way the first kept block at or over the threshold is the answer.

    ``shingle_sets`` may hold a text's paragraph shingles already made (``shingles(text)``), or None.
    """
    result: list[Repeat | None] = []
    first_by_hash: dict[str, int] = {}
    kept: list[tuple[int, set[str]]] = []  # (index into texts, shingles) of texts that repeat nothing
    holders: dict[str, list[int]] | None = None  # shingle -> positions in ``kept``, once kept is long
    empty: list[int] = []
    for index, text in enumerate(texts):
        folded = normalize(text)
        digest = norm_hash_of_normalized(folded)
        if digest in first_by_hash:
            result.append(Repeat(first_by_hash[digest], "exact", 1.0))
            continue
        given = shingle_sets[index] if shingle_sets is not None else None
        shingle_set = given if given is not None else shingles(folded, normalized=True)
        size = len(shingle_set)
        found: Repeat | None = None
        if holders is None:
            for other_index, other in kept:
                # Jaccard is at most the smaller set's size over the larger's (rounding is
                # monotone, so the float test is as exact): most pairs need no intersection.
                other_size = len(other)
                if (size / other_size if size < other_size else other_size / size if size else 1.0) < threshold:
                    continue
                common = len(shingle_set & other)
                if common:
                    similarity = common / (size + other_size - common)
                    if similarity >= threshold:
                        found = Repeat(other_index, "near", similarity)
                        break
        else:
            shared = Counter(chain.from_iterable([holders.get(shingle, empty) for shingle in shingle_set]))
            for position in sorted(shared):
                other_index, other = kept[position]
                common = shared[position]
                similarity = common / (size + len(other) - common)
                if similarity >= threshold:
                    found = Repeat(other_index, "near", similarity)
                    break
        result.append(found)
        if found is None:
            first_by_hash[digest] = index
            if holders is not None:
                for shingle in shingle_set:
                    holders.setdefault(shingle, []).append(len(kept))
            kept.append((index, shingle_set))
            if holders is None and len(kept) > DIRECT_COMPARISONS:
                holders = {}
                for position, (_, other) in enumerate(kept):
                    for shingle in other:
                        holders.setdefault(shingle, []).append(position)
    return result
