"""Article language: what the page declares, checked against what the text is.

Detection uses py3langid (langid.py's model: 97 languages, Indonesian among them, shipped inside
the package, so it works offline, deterministically and in about a millisecond per article).
A declaration is kept unless the detector is confident the text is another language; languages
the detector cannot tell apart reliably (Indonesian/Malay, Norwegian/Danish, ...) defer to it.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from typing import Any

import numpy as np
import py3langid.langid as langid

# Pairs a character n-gram model confuses on news text: a declaration naming one of them wins.
_CLOSE_LANGUAGES = (
    frozenset({"id", "ms", "jv"}),
    frozenset({"no", "nb", "nn", "da"}),
    frozenset({"hr", "bs", "sr"}),
    frozenset({"cs", "sk"}),
    frozenset({"es", "gl", "ca"}),
    frozenset({"pt", "gl"}),
)
MIN_TEXT = 40  # characters; below this a detection is noise
CONFIDENT = 0.90
SAMPLE_CHARS = 1000


MAX_CACHED_WORDS = 200_000


class _Identifier(langid.LanguageIdentifier):  # type: ignore[misc]
    """py3langid's identifier, scoring the same features at a fraction of the cost.

    - The model's weights are held as float32 (they ship as float16): the library multiplies them
      in float32 anyway, but converting the rows of every text costs more than the product.
    - Features come from the same byte automaton, walked a word at a time: the state after a word
      depends only on the state before it and its bytes, so (state, word) -> (state, features) is
      remembered and common words are walked once. Features are counted in the same order, so
      the scores are the library's to the last bit.
    """

    __slots__ = ("_label_columns", "_labels", "_words")

    def __init__(self, nb_ptc: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(np.asarray(nb_ptc, dtype=np.float32), *args, **kwargs)
        # Values hold tuples, not lists: tuples of ints leave the garbage collector's sight, so
        # the table (up to MAX_CACHED_WORDS words) adds nothing to what each full collection walks.
        self._words: dict[tuple[int, bytes], tuple[int, tuple[int, ...]]] = {}
        # ``rank`` reports the first column of each label (aliases fold into it).
        first: dict[str, int] = {}
        for column, label in enumerate(self.nb_classes):
            first.setdefault(str(label), column)
        self._labels = list(first)
        self._label_columns = np.array(list(first.values()), dtype=np.intp)

    def ranked(self, text: str, count: int) -> list[tuple[str, float]]:
        """The first ``count`` entries of ``rank(text)``, without sorting every language: the
        same labels, scores and order (ties in label order, as ``rank``'s stable sort)."""
        scores = self._decide(text)[self._label_columns]
        order = np.argsort(-scores, kind="stable")[:count]
        return [(self._labels[i], float(scores[i])) for i in order.tolist()]

    def _raw_score(self, text: bytes) -> Any:
        visits = self._visit_counts(text)
        if visits:
            return self._sparse_score(visits, self.nb_ptc)
        return super()._raw_score(text)

    def _visit_counts(self, text: bytes) -> Counter[int] | None:
        nextmove, rowbase, output = self.tk_nextmove, self._rowbase, self.tk_output
        words = self._words
        if len(words) > MAX_CACHED_WORDS:
            words.clear()
        features: list[int] = []
        state = 0
        *heads, last = text.split(b" ")
        for word in heads:
            known = words.get((state, word))
            if known is None:
                walked = state
                found: list[int] = []
                for byte in word:
                    walked = nextmove[rowbase[walked] + byte]
                    if output[walked] >= 0:
                        found.append(output[walked])
                walked = nextmove[rowbase[walked] + 32]  # the space that ended the word
                if output[walked] >= 0:
                    found.append(output[walked])
                known = words[(state, word)] = (walked, tuple(found))
            state = known[0]
            features.extend(known[1])
        for byte in last:
            state = nextmove[rowbase[state] + byte]
            if output[state] >= 0:
                features.append(output[state])
        return Counter(features) if features else None


@cache
def _identifier() -> Any:
    # The model is read-only data (loading takes about a second): one per process is enough.
    return _Identifier.from_modelpath(langid.MODEL_DIR / langid.MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str | None, float]:
    """The language of ``text`` and the probability of it or a close language, or (None, 0)."""
    # Long enough to decide (every corpus page and the entries of every corpus feed decide as they
    # did on 3,000 characters), short enough that detection stays a small share of cleaning a
    # feed entry: its cost grows with the sample.
    # Only the head of the text is collapsed, not a whole long article.
    sample = " ".join(text[: SAMPLE_CHARS * 2].split())[:SAMPLE_CHARS]
    if len(sample) < SAMPLE_CHARS and len(text) > SAMPLE_CHARS * 2:
        sample = " ".join(text.split())[:SAMPLE_CHARS]  # mostly whitespace at the head
    if len(sample) < MIN_TEXT:
        return None, 0.0
    ranked = _identifier().ranked(sample, 8)
    language = ranked[0][0]
    # Confidence that the text is this language *or a close one*: Indonesian text often scores
    # 0.6 Indonesian / 0.35 Malay, which is a sure "not English" all the same.
    group = next((g for g in _CLOSE_LANGUAGES if language in g), frozenset({language}))
    probability = sum(p for code, p in ranked if code in group)
    return language, min(1.0, probability)


def _close(first: str, second: str) -> bool:
    return any(first in group and second in group for group in _CLOSE_LANGUAGES)


def decide_language(declared: str | None, text: str) -> str | None:
    detected, probability = detect_language(text)
    if detected is None:
        return declared
    if declared is None:
        return detected if probability >= 0.5 else None
    if declared == detected or _close(declared, detected):
        return declared
    return detected if probability >= CONFIDENT else declared
