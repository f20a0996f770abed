"""The in-article repeat search answers the same with direct set intersections and with its index."""

from __future__ import annotations

import importlib
import random

import pytest

from benchmarks.workload import Workload
from dedupe import find_repeats
from dedupe.shingles import shingles
from ingest.formats.feed import parse_feed
from tests.conftest import CORPUS

intra = importlib.import_module("dedupe.intra")


def _articles() -> list[list[str]]:
    articles = [
        [" ".join(b.text.split()) for b in document.blocks if b.text.strip()]
        for item in Workload(CORPUS).feed_items(150)
        for document in parse_feed(item.body, item.url).documents
    ]
    rng = random.Random(3)
    # Long articles (past the direct-comparison limit), with exact and near repeats spread through.
    for _ in range(20):
        blocks = [text for article in rng.sample(articles, 8) for text in article]
        for _ in range(10):
            words = rng.choice(blocks).split()
            if len(words) > 6:
                words[rng.randrange(len(words))] = "meanwhile"
            blocks.insert(rng.randrange(len(blocks) + 1), " ".join(words))
        articles.append(blocks)
    return articles


def test_direct_and_indexed_search_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    articles = _articles()
    assert max(len(a) for a in articles) > 2 * intra.DIRECT_COMPARISONS
    results = []
    for limit in (0, intra.DIRECT_COMPARISONS, 10**9):
        monkeypatch.setattr(intra, "DIRECT_COMPARISONS", limit)
        results.append([find_repeats(texts, 0.8) for texts in articles])
    assert results[0] == results[1] == results[2]
    near = sum(1 for found in results[0] for r in found if r is not None and r.tier == "near")
    assert near > 50


def test_shingles_handed_in_give_the_same_answer() -> None:
    articles = _articles()[:200]
    rng = random.Random(9)
    for texts in articles:
        given = [shingles(text) if rng.random() < 0.5 else None for text in texts]
        assert find_repeats(texts, 0.8, given) == find_repeats(texts, 0.8)
