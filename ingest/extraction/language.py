"""Article language: what the page declares, checked against what the text is.

Detection uses py3langid (langid.py's model: 97 languages, Indonesian among them, shipped inside
the package, so it works offline, deterministically and in about a millisecond per article).
A declaration is kept unless the detector is confident the text is another language; languages
the detector cannot tell apart reliably (Indonesian/Malay, Norwegian/Danish, ...) defer to it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

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
SAMPLE_CHARS = 1500


@cache
def _identifier() -> Any:
    # The model is read-only data (loading takes about a second): one per process is enough.
    return langid.LanguageIdentifier.from_modelpath(langid.MODEL_DIR / langid.MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str | None, float]:
    """The language of ``text`` and the probability of it or a close language, or (None, 0)."""
    # Long enough to decide (every corpus page decides as it did on 3,000 characters), short
    # enough that detection stays a small share of extraction: its cost grows with the sample.
    # Only the head of the text is collapsed, not a whole long article.
    sample = " ".join(text[: SAMPLE_CHARS * 2].split())[:SAMPLE_CHARS]
    if len(sample) < SAMPLE_CHARS and len(text) > SAMPLE_CHARS * 2:
        sample = " ".join(text.split())[:SAMPLE_CHARS]  # mostly whitespace at the head
    if len(sample) < MIN_TEXT:
        return None, 0.0
    ranked = _identifier().rank(sample)
    language = str(ranked[0][0])
    # Confidence that the text is this language *or a close one*: Indonesian text often scores
    # 0.6 Indonesian / 0.35 Malay, which is a sure "not English" all the same.
    group = next((g for g in _CLOSE_LANGUAGES if language in g), frozenset({language}))
    probability = sum(float(p) for code, p in ranked[:8] if code in group)
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
