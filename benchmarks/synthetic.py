"""Paragraphs for scale runs: a word-bigram chain trained on real corpus bodies (fixed seed).

Bigram text reuses real two-word phrases but rarely whole 3-grams beyond common phrases, so
shared shingles between unrelated paragraphs are about as common as in real news of the corpus's
size. ``VocabularyDrift`` renews the chain's names over a long run, as news renews its own: the
growth benchmark's option to see how much of its cost comes from the chain's fixed vocabulary
(docs/performance.md, "Is the crowding the workload's?": little).
"""

from __future__ import annotations

import itertools
import random
import zlib
from collections import Counter, defaultdict
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


# Syllables that respell a word for a new period (see ``VocabularyDrift``).
_SYLLABLES = ("ka", "lo", "mi", "nu", "re", "sa", "to", "vi", "de", "ga", "ju", "po", "be", "wa", "zi", "ho")
_PUNCTUATION = "\"'“”‘’()[]{}.,;:!?-–—"


def _core(word: str) -> str:
    """The word without the punctuation around it."""
    return word.strip(_PUNCTUATION)


def _suffix(period: int) -> str:
    """``period`` (at least 1) written in syllables: ka, lo, ..., loka, lolo, ..."""
    syllables = []
    while period:
        period, digit = divmod(period, len(_SYLLABLES))
        syllables.append(_SYLLABLES[digit])
    return "".join(reversed(syllables))


class VocabularyDrift:
    """New names over time: each name of the training text is respelled every ``period`` items.

    A chain's vocabulary is its training text's (13,687 words from the corpus), while a news
    stream's keeps growing with new people, places and events (Heaps' law: about 275,000 words
    in the 55 million words of 100,000 articles, by the Reuters RCV1 fit k = 44, b = 0.49). A
    word seen a few times in training has one or two followers, so the chain repeats the phrase
    around it verbatim: over 100,000 articles the same phrases of rare names ran through
    thousands of unrelated paragraphs, a repetition news does not have. Here each name (a
    capitalised word seen at most ``max_count`` times in training whose lower-case form is not
    in it: 1,906 words, 7% of the chain's words) gets a new spelling every ``period`` items, on
    its own schedule (a fixed offset per word), so new names arrive steadily. Other words and
    scripts without case keep theirs, which leaves the vocabulary's growth well below Heaps'
    figure (109,000 words at 100,000 articles with a period of 2,000): the text still repeats
    more than news does.
    """

    def __init__(self, paragraphs: Sequence[str], period: int, max_count: int = 5) -> None:
        if period < 1:
            raise ValueError(f"a vocabulary period is at least one item, got {period}")
        counts = Counter(word for paragraph in paragraphs for word in paragraph.split())
        self.period = period
        # A capitalised word whose lower-case form is in the text is a sentence's first word.
        lower_case = {core for core in (_core(w) for w in counts) if core[:1].islower()}
        self._offsets = {
            w: zlib.crc32(w.encode()) % period
            for w, n in counts.items()
            if n <= max_count and w[:1].isupper() and _core(w).lower() not in lower_case
        }
        self._spelled: dict[tuple[str, int], str] = {}

    def word(self, word: str, index: int) -> str:
        """``word`` as item ``index`` spells it."""
        offset = self._offsets.get(word)
        if offset is None:
            return word
        era = (index + offset) // self.period
        if era == 0:
            return word
        key = (word, era)
        spelled = self._spelled.get(key)
        if spelled is None:
            stem = word.rstrip(_PUNCTUATION)
            spelled = f"{stem}{_suffix(era)}{word[len(stem):]}"
            self._spelled[key] = spelled
        return spelled

    def paragraph(self, text: str, index: int) -> str:
        return " ".join(self.word(w, index) for w in text.split())
