"""normalize() remembers short texts and folds ASCII in one pass: the same results as folding afresh."""

from __future__ import annotations

import importlib
import random

import pytest

from dedupe import find_repeats
from tests.conftest import CORPUS

normalize_module = importlib.import_module("dedupe.normalize")


def _reference(text: str) -> str:
    """The folding as written before the ASCII table and the memo."""
    if not text.isascii() and normalize_module._BEYOND_LATIN.search(text) is None:
        for char in set(normalize_module._LATIN_EXTRA.findall(text)):
            text = text.replace(char, normalize_module._LATIN_FOLD[char])
    if text.isascii():
        return " ".join(text.lower().translate(normalize_module._FOLD).split())
    return " ".join(normalize_module._fold_full(text).split())


def _texts() -> list[str]:
    rng = random.Random(7)
    texts = [chr(code) for code in range(0x3000)]
    texts += ["".join(chr(rng.randrange(0, 128)) for _ in range(rng.randrange(1, 80))) for _ in range(3000)]
    texts += ["".join(chr(rng.randrange(0, 0x3000)) for _ in range(rng.randrange(1, 40))) for _ in range(3000)]
    for path in sorted((CORPUS / "pages").glob("*.expected.txt"))[:20]:
        texts += path.read_text(encoding="utf-8", errors="replace").splitlines()
    return texts


def test_folding_is_the_same_as_before_remembered_or_not(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts()
    for text in texts:
        assert normalize_module.normalize(text) == _reference(text), repr(text)
    for text in texts:  # now from the memo where short enough
        assert normalize_module.normalize(text) == _reference(text), repr(text)
    monkeypatch.setattr(normalize_module, "MEMO_ENTRIES", 10)
    for text in texts[:200]:
        assert normalize_module.normalize(text) == _reference(text), repr(text)
        assert len(normalize_module._memo) <= 10


def test_long_texts_are_not_remembered() -> None:
    text = "Long paragraph. " * 1000
    assert len(text) > normalize_module.MEMO_MAX_CHARS
    normalize_module.normalize(text)
    assert text not in normalize_module._memo


def test_repeats_found_once_texts_are_folded_once() -> None:
    story = "A paragraph of the story that runs on"
    texts = ["Photo: AP", story + ".", "photo -- ap", story + "!"]
    found = find_repeats(texts)
    assert found[0] is None and found[1] is None
    assert found[2] is not None and found[2].first_index == 0 and found[2].tier == "exact"
    assert found[3] is not None and found[3].first_index == 1 and found[3].tier == "exact"
