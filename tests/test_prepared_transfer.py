"""A prepared input crosses to the writing process in a packed form that loads as what was sent."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy.orm import sessionmaker

from ingest.app import App
from ingest.corpus_dedupe import CorpusDeduper
from ingest.pipeline import ArticleOutcome, Pipeline, PreparedEntry, PreparedInput
from tests.test_parallel_ingest import corpus_inputs


@pytest.fixture(scope="module")
def prepared(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[PreparedInput]:
    """Every input of the parallel-ingest equality test, prepared as a worker prepares it."""
    from tests.conftest import make_app

    app: App = make_app(f"sqlite:///{tmp_path_factory.mktemp('transfer') / 'db.sqlite3'}")
    try:
        deduper = CorpusDeduper.from_settings(sessionmaker(), app.signer, app.settings.dedupe)
        pipeline = Pipeline(sessionmaker(), app.cleaner, app.signer, deduper=deduper)
        return [pipeline.prepare(item) for item in corpus_inputs(corpus)]
    finally:
        app.close()


def assert_same(expected: Any, got: Any, path: str = "input") -> None:
    """Equal field by field, with the same types (an enum member stays one, an array keeps its
    dtype, shape and writability)."""
    assert type(got) is type(expected), path
    if isinstance(expected, np.ndarray):
        assert (got.dtype, got.shape, got.flags.writeable) == (expected.dtype, expected.shape, True), path
        assert np.array_equal(got, expected), path
    elif dataclasses.is_dataclass(expected):
        for f in dataclasses.fields(expected):
            assert_same(getattr(expected, f.name), getattr(got, f.name), f"{path}.{f.name}")
    elif isinstance(expected, list | tuple):
        assert len(got) == len(expected), path
        for index, (a, b) in enumerate(zip(expected, got, strict=True)):
            assert_same(a, b, f"{path}[{index}]")
    else:
        assert got == expected, path


def without_parsed_blocks(item: PreparedInput) -> PreparedInput:
    """What the writing process gets: the parsed blocks stay in the worker (saving never reads them)."""
    entries: list[PreparedEntry | ArticleOutcome] = []
    for e in item.entries:
        if isinstance(e, PreparedEntry):
            document = dataclasses.replace(e.clean.document, blocks=[])
            e = dataclasses.replace(e, clean=dataclasses.replace(e.clean, document=document))
        entries.append(e)
    return dataclasses.replace(item, entries=entries)


def test_every_corpus_input_loads_as_it_was_prepared(prepared: list[PreparedInput]) -> None:
    entries = [e for item in prepared for e in item.entries]
    # Something of every kind crosses: errors, failed entries, articles with captions, credits,
    # removed blocks, dates and empty signature rows.
    assert any(item.error for item in prepared) and any(item.warnings for item in prepared)
    assert any(isinstance(e, ArticleOutcome) for e in entries)
    articles = [e for e in entries if isinstance(e, PreparedEntry)]
    assert len(articles) > 500
    assert any(e.clean.removed for e in articles) and any(e.clean.document.published_at for e in articles)
    assert any(b.photo_credit for e in articles for b in e.clean.blocks)
    assert len({b.kind for e in articles for b in e.clean.blocks}) >= 2
    for index, item in enumerate(prepared):
        assert_same(without_parsed_blocks(item), pickle.loads(pickle.dumps(item, protocol=5)), f"input {index}")


def test_a_block_text_crosses_once(prepared: list[PreparedInput]) -> None:
    item = max(prepared, key=lambda p: sum(len(e.clean.blocks) for e in p.entries if isinstance(e, PreparedEntry)))
    texts = [b.text for e in item.entries if isinstance(e, PreparedEntry) for b in e.clean.blocks if len(b.text) > 40]
    assert len(texts) > 50
    data = pickle.dumps(item, protocol=5)
    assert [data.count(text.encode("utf-8")) for text in texts] == [1] * len(texts)
