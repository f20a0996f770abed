"""Template blocks: a source's own boilerplate, recognised by repetition across its stories.

A block (exact normalised text) printed by one source under ``min_stories`` different stories
is that source's template ("Follow us on ...", a standing disclaimer), unless it is a caption:
a stock photo captioned the same way under many stories is content, reported as reused.
Stories, not articles, are counted, so a story arriving as five updates makes no template; and
only blocks up to ``max_words`` words qualify, so a long background paragraph a newsroom
reuses across a series stays content.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TemplateRule:
    min_stories: int = 5
    max_words: int = 40

    def __post_init__(self) -> None:
        if self.min_stories < 2:
            raise ValueError(f"a template needs at least 2 stories, got {self.min_stories}")


@dataclass(frozen=True)
class TemplateVerdict:
    stories: int  # distinct stories of the source with this block, this one included
    crossing: bool  # this story is the one that reaches the threshold

    def explain(self, source: str) -> str:
        return f"template of {source}: the same block in {self.stories} stories"


def template_verdict(kind: str, words: int, stories: int, rule: TemplateRule) -> TemplateVerdict | None:
    """``stories`` counts the source's stories with the block, this one included."""
    if kind == "caption" or words > rule.max_words or stories < rule.min_stories:
        return None
    return TemplateVerdict(stories=stories, crossing=stories == rule.min_stories)
