"""Whole stories: is a new article the same story as an earlier one, and which text to keep.

Two bodies are the same story when the Jaccard of their word 5-gram sets (grapheme 8-grams in
unspaced scripts) reaches ``jaccard`` (a republished copy with small edits), or when the shorter
body is contained in the longer one to ``containment`` (a trimmed wire copy, a later update that
adds to the story). Stories about the same event written independently share few 5-grams (the
corpus's same-event clusters stay at or under 0.23 containment), so they stay apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from dedupe.normalize import is_unspaced, normalize, tokens
from dedupe.shingles import DOCUMENT, ngrams


@dataclass(frozen=True)
class StoryRule:
    jaccard: float = 0.5
    containment: float = 0.7
    min_shingles: int = 15  # bodies with fewer 5-grams than this are too short to call

    def __post_init__(self) -> None:
        for name in ("jaccard", "containment"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {value}")


def body_shingles(paragraphs: Sequence[str], *, normalized: bool = False) -> set[str]:
    """Word 5-grams (grapheme 8-grams) of a body; n-grams run across paragraph breaks."""
    folded = " ".join(p if normalized else normalize(p) for p in paragraphs)
    size = DOCUMENT.for_text(is_unspaced(folded))
    return ngrams(tokens(folded), size)


@dataclass(frozen=True)
class StorySimilarity:
    jaccard: float
    containment: float  # shared / the smaller body's shingles
    shared: int
    size_new: int
    size_old: int

    def same_story(self, rule: StoryRule) -> bool:
        if min(self.size_new, self.size_old) < rule.min_shingles:
            return False
        return self.jaccard >= rule.jaccard or self.containment >= rule.containment

    def explain(self) -> str:
        return (
            f"body 5-gram Jaccard {self.jaccard:.2f}, containment {self.containment:.2f} "
            f"({self.shared} shared of {self.size_new} new / {self.size_old} earlier)"
        )


def story_similarity(new: set[str], old: set[str]) -> StorySimilarity:
    return _similarity(len(new & old), len(new), len(old))


def hashed_story_similarity(new: npt.NDArray[np.uint64], old: npt.NDArray[np.uint64]) -> StorySimilarity:
    """``story_similarity`` of two bodies given as sorted distinct 64-bit shingle hashes
    (``Signer.document``): the same figures, without making the n-gram strings."""
    return _similarity(len(np.intersect1d(new, old, assume_unique=True)), len(new), len(old))


def may_be_same_story(estimate: float, size_new: int, size_old: int, rule: StoryRule, margin: float) -> bool:
    """Whether two bodies whose shingle Jaccard is estimated at ``estimate`` (from their
    signatures) could meet ``rule``, allowing the estimate to be ``margin`` too low.

    The rule asks for a Jaccard of ``rule.jaccard``, or for the shorter body to be contained to
    ``rule.containment``; with both sizes known, that containment is itself a Jaccard
    (``shared = c * smaller``, ``union = size_new + size_old - shared``), so one bar covers both.
    """
    smaller = min(size_new, size_old)
    if smaller < rule.min_shingles:
        return False
    shared = rule.containment * smaller
    bar = min(rule.jaccard, shared / (size_new + size_old - shared))
    return estimate >= bar - margin


def _similarity(shared: int, size_new: int, size_old: int) -> StorySimilarity:
    union = size_new + size_old - shared
    smaller = min(size_new, size_old)
    return StorySimilarity(
        jaccard=shared / union if union else 0.0,
        containment=shared / smaller if smaller else 0.0,
        shared=shared,
        size_new=size_new,
        size_old=size_old,
    )


@dataclass(frozen=True)
class Member:
    """A member of a story cluster, as far as choosing its text goes."""

    article_id: int
    words: int
    when: datetime  # the source's update or publication time, else when we stored it


def choose_text(members: Sequence[Member], completeness: float = 0.9) -> Member:
    """The most complete and most recent text: the newest member with at least ``completeness``
    of the longest body's words (ties: the lowest id)."""
    if not members:
        raise ValueError("a story cluster has at least one member")
    longest = max(m.words for m in members)
    eligible = [m for m in members if m.words >= completeness * longest]
    return max(eligible, key=lambda m: (m.when, -m.article_id))
