"""The batch shingle hasher against the one-shingle reference, on awkward batches."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from benchmarks.corpus_bodies import Corpus
from dedupe.hashing import ShingleHasher, shingle_hash32
from dedupe.normalize import normalize, tokens


@pytest.fixture(scope="module")
def paragraphs(corpus: Path) -> list[str]:
    return [p for story in Corpus(corpus).stories() for p in [*story.paragraphs, *story.captions]]


def _expected(token_list: list[str], size: int) -> list[int]:
    if not token_list:
        return []
    if len(token_list) <= size:
        return [shingle_hash32(" ".join(token_list))]
    return [shingle_hash32(" ".join(token_list[i : i + size])) for i in range(len(token_list) - size + 1)]


def test_mixed_sizes_empty_and_short_texts_hash_like_the_reference(paragraphs: list[str]) -> None:
    rng = random.Random(5)
    texts = [" ".join(tokens(normalize(p))) for p in paragraphs[::7][:300]]
    # Empty texts at the start, middle and end; one- and two-token texts; sizes 1 to 8.
    texts = ["", *texts[:100], "", "", "satu", "dua kata", *texts[100:], ""]
    sizes = [rng.randint(1, 8) for _ in texts]
    hashes, counts = ShingleHasher().hash_texts(texts, sizes)
    assert len(counts) == len(texts)
    offset = 0
    for text, size, count in zip(texts, sizes, counts.tolist(), strict=True):
        expected = _expected(text.split(" ") if text else [], size)
        assert count == len(expected), text
        assert hashes[offset : offset + count].tolist() == expected, text
        offset += count
    assert offset == len(hashes)


@pytest.mark.parametrize("short", [False, True])
def test_one_size_for_all_texts_hashes_like_the_reference(paragraphs: list[str], short: bool) -> None:
    texts = [" ".join(tokens(normalize(p))) for p in paragraphs[::5][:200]]
    texts = [t for t in texts if len(t.split(" ")) >= 3]
    if short:  # texts shorter than the size: one shingle of all their tokens
        texts = ["satu", *texts[:50], "dua kata", "", *texts[50:]]
    hashes, counts = ShingleHasher().hash_texts(texts, 3)
    expected = [_expected(text.split(" ") if text else [], 3) for text in texts]
    assert counts.tolist() == [len(e) for e in expected]
    assert hashes.tolist() == [h for e in expected for h in e]


def test_only_empty_texts_have_no_shingles() -> None:
    hashes, counts = ShingleHasher().hash_texts(["", ""], 3)
    assert len(hashes) == 0 and counts.tolist() == [0, 0]


def test_text_holding_a_newline_is_refused() -> None:
    with pytest.raises(ValueError, match="newlines"):
        ShingleHasher().hash_texts(["a b\nc"], 3)
