"""Repeats inside one article: exact (normalised hash) and near (MinHash, confirmed by Jaccard)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from datasketch import LeanMinHash

from dedupe.normalize import norm_hash
from dedupe.shingles import jaccard, shingles
from dedupe.signatures import Signer, estimated_jaccard


@dataclass(frozen=True)
class Repeat:
    first_index: int  # index into the blocks given, of the first occurrence
    tier: str  # exact | near
    similarity: float


def find_repeats(
    texts: Sequence[str], signer: Signer, threshold: float = 0.8
) -> list[Repeat | None]:
    """For each text, the earlier text it repeats, or None.

    A near candidate needs a MinHash estimate within 0.15 of the threshold and is then
    confirmed by its exact shingle Jaccard, so estimation noise never decides on its own.
    """
    result: list[Repeat | None] = []
    hashes: dict[str, int] = {}
    kept: list[tuple[int, set[str], LeanMinHash]] = []
    for index, text in enumerate(texts):
        digest = norm_hash(text)
        if digest in hashes:
            result.append(Repeat(hashes[digest], "exact", 1.0))
            continue
        shingle_set = shingles(text)
        signature = signer.for_shingles(shingle_set)
        found: Repeat | None = None
        for other_index, other_shingles, other_signature in kept:
            estimate = estimated_jaccard(signature, other_signature)
            if estimate < threshold - 0.15:
                continue
            exact = jaccard(shingle_set, other_shingles)
            if exact >= threshold:
                found = Repeat(other_index, "near", exact)
                break
        result.append(found)
        if found is None:
            hashes[digest] = index
            kept.append((index, shingle_set, signature))
    return result
