"""Paragraphs for scale runs: a word-bigram chain trained on real corpus bodies (fixed seed).

Bigram text reuses real two-word phrases but rarely whole 3-grams beyond common phrases, so
shared shingles between unrelated paragraphs are about as common as in real news.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence


class BigramChain:
    def __init__(self, paragraphs: Sequence[str], seed: int = 7) -> None:
        self._rng = random.Random(seed)
        followers: dict[str, list[str]] = defaultdict(list)
        starts: list[str] = []
        for paragraph in paragraphs:
            words = paragraph.split()
            if len(words) < 4:
                continue
            starts.append(words[0])
            for left, right in itertools.pairwise(words):
                followers[left].append(right)
        if not starts:
            raise ValueError("no paragraphs of four or more words to learn from")
        self._followers = dict(followers)
        self._starts = starts
        lengths = sorted(len(p.split()) for p in paragraphs if len(p.split()) >= 4)
        self._lengths = lengths

    def paragraph(self) -> str:
        rng = self._rng
        length = rng.choice(self._lengths)
        word = rng.choice(self._starts)
        words = [word]
        while len(words) < length:
            options = self._followers.get(word)
            word = rng.choice(options) if options else rng.choice(self._starts)
            words.append(word)
        return " ".join(words)

    def paragraphs(self, count: int) -> Iterator[str]:
        for _ in range(count):
            yield self.paragraph()
