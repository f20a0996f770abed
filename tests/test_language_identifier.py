"""Our language identifier scores exactly as py3langid's own, on real text of many languages."""

from __future__ import annotations

import json

import py3langid.langid as langid
import pytest

import ingest.extraction.language as language
from ingest.extraction.language import SAMPLE_CHARS, _identifier
from tests.conftest import CORPUS


def _texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted((CORPUS / "pages").glob("*.expected.txt"))]
    for path in sorted((CORPUS / "pages").glob("*.expected.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("articleBody"), str):
            texts.append(data["articleBody"])
        elif isinstance(data, dict) and isinstance(data.get("content"), str):
            texts.append(data["content"])
    return [t for t in texts if t.strip()]


def test_scores_are_the_librarys_to_the_last_bit() -> None:
    library = langid.LanguageIdentifier.from_modelpath(langid.MODEL_DIR / langid.MODEL_FILE, norm_probs=True)
    ours = _identifier()
    texts = _texts()
    assert len(texts) > 50
    samples = [" ".join(t.split())[:SAMPLE_CHARS] for t in texts] + [t[:4000] for t in texts[:20]]
    samples += ["", " ", "x", "a b", "  two  spaces  ", "中文文本 " * 40, "ok " * 500]
    for sample in samples * 2:  # the second round from remembered words
        assert ours.rank(sample) == library.rank(sample), sample[:80]
    assert {code for code, _ in (ours.rank(s)[0] for s in samples[:80])} >= {"en", "id"}


def test_remembered_words_are_bounded_and_forgetting_them_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(language, "MAX_CACHED_WORDS", 50)
    ours = _identifier()
    text = " ".join(f"word{i}" for i in range(120))
    first = ours.rank(text)
    assert len(ours._words) <= 50 + 120
    ours.rank(text)
    assert ours.rank(text) == first
    assert len(ours._words) <= 50 + 120


def test_the_head_of_the_ranking_is_ranks_head() -> None:
    ours = _identifier()
    samples = [" ".join(t.split())[:SAMPLE_CHARS] for t in _texts()]
    samples += ["", "x", "ok " * 500, "中文文本 " * 40, "Der Hund. Le chien. The dog. Anjing itu."]
    for sample in samples:
        for count in (1, 8, 200):
            assert ours.ranked(sample, count) == ours.rank(sample)[:count], sample[:80]


def _feed_entry_texts() -> list[str]:
    import feedparser

    from ingest.formats.fragments import fragment_blocks

    texts = []
    for path in sorted((CORPUS / "feeds").glob("*")):
        if path.is_dir() or path.suffix == ".json":
            continue
        for entry in feedparser.parse(path.read_bytes()).entries:
            html = (entry.get("content") or [{}])[0].get("value") or entry.get("summary") or ""
            text = " ".join(block.text for block in fragment_blocks(html))
            if len(text) > 200:
                texts.append(text)
    return texts


def test_the_sample_decides_as_a_three_times_longer_one(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts() + _feed_entry_texts()
    assert sum(len(t) > 3 * SAMPLE_CHARS for t in texts) > 50
    decided = [language.decide_language(None, t) for t in texts]
    monkeypatch.setattr(language, "SAMPLE_CHARS", 3 * SAMPLE_CHARS)
    assert [language.decide_language(None, t) for t in texts] == decided
    assert {"en", "id"} <= set(decided)


def test_remembered_words_add_nothing_for_the_garbage_collector_to_walk() -> None:
    import gc

    ours = _identifier()
    for text in _texts()[:30]:
        ours.rank(" ".join(text.split())[:SAMPLE_CHARS])
    gc.collect()
    assert len(ours._words) > 1000
    assert not any(gc.is_tracked(value) or gc.is_tracked(key) for key, value in ours._words.items())
