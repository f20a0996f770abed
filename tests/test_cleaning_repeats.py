"""Repeats inside an article: the inverted-index search gives the all-pairs Jaccard answer on real blocks."""

from __future__ import annotations

import random
from pathlib import Path

from benchmarks.workload import Workload
from dedupe import find_repeats
from dedupe.intra import Repeat
from dedupe.normalize import norm_hash
from dedupe.shingles import jaccard, shingles
from ingest.app import App
from ingest.pipeline import Input, Pipeline


def _block_texts(app: App, corpus: Path) -> list[list[str]]:
    pipeline = Pipeline(app.sessions, app.cleaner, app.signer, deduper=app.deduper)
    workload = Workload(corpus)
    articles: list[list[str]] = []
    for item in [*workload.pages_items(40), *workload.feed_items(100)]:
        documents, _ = pipeline.parse(
            Input(body=item.body, source=item.source, location=item.url, url=item.url, format=item.format), item.format
        )
        articles.extend([" ".join(b.text.split()) for b in d.blocks if b.text.strip()] for d in documents)
    return articles


def _all_pairs(texts: list[str], threshold: float) -> list[Repeat | None]:
    """The plain definition: every earlier kept text compared by exact Jaccard, first match wins."""
    result: list[Repeat | None] = []
    kept: list[tuple[int, str, set[str]]] = []
    for index, text in enumerate(texts):
        found: Repeat | None = None
        for other_index, other_hash, _ in kept:
            if other_hash == norm_hash(text):
                found = Repeat(other_index, "exact", 1.0)
                break
        if found is None:
            for other_index, _, other_shingles in kept:
                similarity = jaccard(shingles(text), other_shingles)
                if similarity >= threshold:
                    found = Repeat(other_index, "near", similarity)
                    break
        result.append(found)
        if found is None:
            kept.append((index, norm_hash(text), shingles(text)))
    return result


def test_same_repeats_as_all_pairs(sqlite_app: App, corpus: Path) -> None:
    articles = _block_texts(sqlite_app, corpus)
    rng = random.Random(5)
    # Add exact and near repeats (one word changed) at random places.
    for texts in list(articles):
        if len(texts) < 4:
            continue
        edited = list(texts)
        words = edited[rng.randrange(len(edited))].split()
        if len(words) > 6:
            words[rng.randrange(len(words))] = "meanwhile"
            edited.insert(rng.randrange(len(edited) + 1), " ".join(words))
        edited.append(edited[rng.randrange(len(edited))])
        articles.append(edited)
    near = exact = 0
    for texts in articles:
        expected = _all_pairs(texts, 0.8)
        found = find_repeats(texts, 0.8)
        assert [(r.first_index, r.tier) if r else None for r in found] == [
            (r.first_index, r.tier) if r else None for r in expected
        ]
        assert all(a is None or b is None or abs(a.similarity - b.similarity) < 1e-9
                   for a, b in zip(found, expected, strict=True))
        near += sum(1 for r in expected if r is not None and r.tier == "near")
        exact += sum(1 for r in expected if r is not None and r.tier == "exact")
    assert len(articles) > 150 and near > 20 and exact > 100  # the comparison covered real repeats of both tiers
