"""The scale workload's names change over time, as news's do; everything else keeps its words."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from benchmarks.synthetic import VocabularyDrift
from benchmarks.workload import Workload

TRAINING = [
    "Officials in Rukban said the camp was cut off on Tuesday.",
    "The officials said Rukban had no water, officials said.",
    "Aid reached the camp in Jordan after talks.",
    "Talks in Jordan went on.",
]


def _words(items: list[bytes]) -> set[str]:
    text = b" ".join(items).decode()
    paragraphs = re.findall(r"<p>(.*?)</p>", text)
    return {word for p in paragraphs for word in p.split()}


def test_a_name_is_respelled_once_a_period_and_the_same_within_it() -> None:
    drift = VocabularyDrift(TRAINING, period=10)
    spellings = [drift.word("Rukban", index) for index in range(40)]
    # Four periods, each a run of one spelling, the first the word itself.
    runs = [spelling for spelling, _ in itertools.groupby(spellings)]
    assert runs[0] == "Rukban"
    assert len(runs) in (4, 5) and len(set(runs)) == len(runs)
    assert all(run.startswith("Rukban") for run in runs)
    # Punctuation stays where it was; the same item spells the name the same way every time.
    assert drift.word("Rukban,", 35) == drift.word("Rukban,", 35)
    assert drift.word("Rukban,", 35).endswith(",")
    assert drift.paragraph("In Rukban, talks.", 35).split()[1] == drift.word("Rukban,", 35)


def test_common_words_and_sentence_starts_keep_their_spelling() -> None:
    drift = VocabularyDrift(TRAINING, period=10, max_count=2)
    for index in (0, 15, 99):
        # Lower case; "Officials" is "officials" at a sentence's start; "Jordan" is seen twice
        # (a name) but "Talks" has a lower-case form in the text.
        assert drift.word("camp", index) == "camp"
        assert drift.word("Officials", index) == "Officials"
        assert drift.word("Talks", index) == "Talks"
    assert drift.word("Jordan", 95) != "Jordan"
    # More often than ``max_count`` in training: a word everyone uses, kept.
    assert VocabularyDrift(TRAINING, period=10, max_count=1).word("Jordan", 95) == "Jordan"


def test_a_period_must_hold_an_item() -> None:
    with pytest.raises(ValueError, match="at least one item"):
        VocabularyDrift(TRAINING, period=0)


def test_the_workload_gains_names_as_it_goes_and_the_fixed_one_does_not(corpus: Path) -> None:
    def late_words(period: int | None) -> tuple[set[str], set[str]]:
        items = [item.body for item in Workload(corpus, vocabulary_period=period).feed_items(1_200, per_feed=100)]
        return _words(items[2:6]), _words(items[8:12])

    early, late = late_words(200)
    fixed_early, fixed_late = late_words(None)
    # Without the drift, later items use the early ones' words (the chain's training vocabulary);
    # with it, a good share of the later items' words are names the early ones never had.
    new_with_drift = late - early
    new_fixed = fixed_late - fixed_early
    assert len(new_with_drift) > 2 * len(new_fixed)
    assert len(new_with_drift - fixed_late) > 200
