"""The cleaner's pre-filtered repeat search gives exactly ``find_repeats``'s answer."""

from __future__ import annotations

import random
from pathlib import Path

from benchmarks.workload import Workload
from dedupe import find_repeats
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


def test_same_repeats_as_find_repeats(sqlite_app: App, corpus: Path) -> None:
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
    cleaner = sqlite_app.cleaner
    repeats = 0
    for texts in articles:
        expected = find_repeats(texts, sqlite_app.signer, cleaner.near_threshold)
        assert cleaner.repeats(texts) == expected
        repeats += sum(1 for r in expected if r is not None)
    assert len(articles) > 150 and repeats > 100  # the comparison covered real repeats, near and exact
