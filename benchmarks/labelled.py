"""A labelled dedupe set built reproducibly (fixed seed) from real corpus text.

No public labelled near-duplicate news set is reachable here, so the cases are made from real
article bodies and captions (``corpus_bodies``), each block labelled with the *family* of text it
belongs to. A block is a duplicate when its family appeared before in the stream (in an earlier
article or earlier in the same one), or when it is a template line of its source.

Cases: repeated headlines and captions inside articles; wire paragraphs shared across articles
with 0-3 edited words (at most one edit per eight words); stock captions reused across stories;
per-source template lines (real boilerplate from trafilatura's evaluation data); whole stories
republished with small edits by another source, and published first short then as a longer
update. Negatives: the corpus's same-event clusters (independently written stories of one event)
and short lines that share words (titles of same-event stories, captions of one site).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from benchmarks.corpus_bodies import Corpus, Story

# Real boilerplate lines (trafilatura's "must not appear" snippets) used as per-source templates.
TEMPLATE_LINES = (
    "Can we answer your question on the coronavirus?",
    "The latest news, analysis and insights",
    "Notice to California Residents",
    "Themen in diesem Artikel",
)
SOURCES = 12
TEMPLATE_SOURCES = 3


@dataclass
class Block:
    kind: str  # body | caption
    text: str
    family: str
    category: str
    template: bool = False


@dataclass
class Article:
    key: str
    source: str
    url: str
    title: str
    blocks: list[Block]
    story: str
    category: str  # original | republished | update | first_version
    published: datetime
    language: str = "und"


@dataclass
class LabelledSet:
    articles: list[Article] = field(default_factory=list)

    def truth(self) -> tuple[list[list[bool]], list[str | None]]:
        """Per block: is it a duplicate; per article: the earlier article of its story, if any.

        Besides its family, a block repeats when the very same text (case and spacing aside)
        appeared before: real pages repeat credit lines and quotes verbatim.
        """
        seen: set[str] = set()
        seen_text: set[str] = set()
        story_first: dict[str, str] = {}
        blocks: list[list[bool]] = []
        stories: list[str | None] = []
        for article in self.articles:
            # A headline is not a block of the corpus: it repeats only inside its own article.
            local = {f"title:{article.story}"}
            flags = []
            for block in article.blocks:
                folded = " ".join(block.text.casefold().split())
                flags.append(block.template or block.family in seen or block.family in local or folded in seen_text)
                if block.family.startswith("title:"):
                    local.add(block.family)
                else:
                    seen.add(block.family)
                    seen_text.add(folded)
            blocks.append(flags)
            stories.append(story_first.get(article.story))
            story_first.setdefault(article.story, article.key)
        return blocks, stories


def _edit(words: list[str], count: int, vocabulary: list[str], rng: random.Random) -> list[str]:
    edited = list(words)
    for _ in range(count):
        position = rng.randrange(1, max(2, len(edited) - 1))
        operation = rng.choice(("substitute", "insert", "delete"))
        if operation == "substitute":
            edited[position] = rng.choice(vocabulary)
        elif operation == "insert":
            edited.insert(position, rng.choice(vocabulary))
        elif len(edited) > 8:
            del edited[position]
    return edited


def edit_text(text: str, count: int, vocabulary: list[str], rng: random.Random) -> str:
    return " ".join(_edit(text.split(), count, vocabulary, rng))


def allowed_edits(text: str, rng: random.Random) -> int:
    """0-3 edited words, at most one per eight words."""
    return rng.randint(0, min(3, len(text.split()) // 8))


def build(corpus: Corpus, seed: int = 20240428, limit: int | None = None) -> LabelledSet:
    rng = random.Random(seed)
    stories = [s for s in corpus.stories() if not (s.cluster or "").startswith(("wayback", "urlvariant"))]
    rng.shuffle(stories)
    if limit is not None:
        # Keep every same-event story (the negatives) and fill up with the rest.
        events = [s for s in stories if s.cluster]
        others = [s for s in stories if not s.cluster]
        stories = events[: max(4, limit // 4)] + others[: max(0, limit - max(4, limit // 4))]
    vocabulary = sorted({w for s in stories for p in s.paragraphs for w in p.split() if w.isalpha()})
    base = datetime(2024, 4, 28, 6, 0, tzinfo=UTC)
    clock = iter(base + timedelta(minutes=7 * i) for i in range(100_000))
    labelled = LabelledSet()
    source_of = {s.name: f"source-{i % SOURCES:02d}" for i, s in enumerate(stories)}
    templates = {f"source-{i:02d}": TEMPLATE_LINES[i % len(TEMPLATE_LINES)] for i in range(TEMPLATE_SOURCES)}
    all_captions = [(s.name, j, c) for s in stories for j, c in enumerate(s.captions[:3]) if len(c.split()) >= 6]
    stock = rng.sample(all_captions, min(6, len(all_captions)))
    updates = {s.name for s in rng.sample(stories, len(stories) // 7)}
    republished = {s.name for s in rng.sample(stories, len(stories) // 4)}

    def family(story: Story, index: int, kind: str = "p") -> str:
        return f"{story.name}:{kind}{index}"

    def original_blocks(story: Story, paragraphs: list[str]) -> list[Block]:
        blocks = [Block("body", p, family(story, i), "original") for i, p in enumerate(paragraphs)]
        for j, caption in enumerate(story.captions[:3]):
            at = min(len(blocks), 2 + 3 * j)
            blocks.insert(at, Block("caption", caption, family(story, j, "c"), "original"))
        return blocks

    wire_donors: list[tuple[Story, int, str]] = []
    for story in stories:
        for i, paragraph in enumerate(story.paragraphs):
            if len(paragraph.split()) >= 8:
                wire_donors.append((story, i, paragraph))
    rng.shuffle(wire_donors)
    donors = iter(wire_donors)
    used_donors: set[str] = set()
    included: set[str] = set()

    for number, story in enumerate(stories):
        source = source_of[story.name]
        paragraphs = story.paragraphs
        category = "original"
        if story.name in updates and len(paragraphs) >= 4:
            paragraphs = paragraphs[: max(2, int(len(paragraphs) * 0.65))]
            category = "first_version"
        blocks = original_blocks(story, paragraphs)
        if rng.random() < 0.25:
            blocks.insert(0, Block("body", story.title, f"title:{story.name}", "headline_repeat"))
        captions = [b for b in blocks if b.kind == "caption"]
        if captions and rng.random() < 0.3:
            repeat = captions[0]
            blocks.append(Block("caption", repeat.text, repeat.family, "caption_repeat"))
        # Wire paragraphs of earlier stories, lightly edited.
        if number > 3 and rng.random() < 0.6:
            for _ in range(rng.randint(1, 2)):
                donor = next(donors, None)
                if donor is None or donor[0].name == story.name:
                    continue
                donor_story, index, text = donor
                if family(donor_story, index) not in included or family(donor_story, index) in used_donors:
                    continue
                used_donors.add(family(donor_story, index))
                edits = allowed_edits(text, rng)
                blocks.insert(
                    rng.randrange(len(blocks) + 1),
                    Block(
                        "body",
                        edit_text(text, edits, vocabulary, rng),
                        family(donor_story, index),
                        f"wire_edit_{edits}",
                    ),
                )
        # Stock captions under several stories.
        for owner, caption_index, caption in stock:
            if owner != story.name and rng.random() < 0.12:
                blocks.append(Block("caption", caption, f"{owner}:c{caption_index}", "caption_reuse"))
        if source in templates:
            blocks.append(Block("body", templates[source], f"template:{source}", "template", template=True))
        included.update(b.family for b in blocks)
        labelled.articles.append(
            Article(
                key=f"{story.name}:1",
                source=source,
                url=f"https://{source}.example/{story.name}",
                title=story.title,
                blocks=blocks,
                story=story.name,
                category=category,
                published=next(clock),
                language=story.language,
            )
        )
    # Short lines that share words: titles of same-event stories, each under another story.
    clusters: dict[str, list[Story]] = {}
    for story in stories:
        if story.cluster:
            clusters.setdefault(story.cluster, []).append(story)
    hosts = [a for a in labelled.articles if a.category == "original"]
    for members in clusters.values():
        for member in members:
            host = rng.choice(hosts)
            host.blocks.append(Block("body", member.title, f"short:{member.name}", "short_line"))
    # Second appearances of whole stories: republished copies and updates, later.
    later: list[Article] = []
    by_name = {s.name: s for s in stories}
    for article in list(labelled.articles):
        story = by_name[article.story]
        if story.name in republished:
            blocks = []
            for block in article.blocks:
                if block.category in ("short_line", "caption_reuse", "template", "headline_repeat", "caption_repeat"):
                    continue
                text = block.text
                if block.kind == "body" and rng.random() < 0.25:
                    text = edit_text(text, min(2, len(text.split()) // 8), vocabulary, rng)
                blocks.append(Block(block.kind, text, block.family, "story_copy"))
            if len(blocks) > 4 and rng.random() < 0.5:
                blocks = blocks[:-1]
            other = f"source-{(int(article.source[-2:]) + 5) % SOURCES:02d}"
            later.append(
                Article(
                    key=f"{story.name}:copy",
                    source=other,
                    url=f"https://{other}.example/wire/{story.name}",
                    title=story.title,
                    blocks=blocks,
                    story=story.name,
                    category="republished",
                    published=article.published + timedelta(hours=2),
                    language=story.language,
                )
            )
        if article.category == "first_version":
            blocks = [Block(b.kind, b.text, b.family, "story_update") for b in original_blocks(story, story.paragraphs)]
            later.append(
                Article(
                    key=f"{story.name}:update",
                    source=article.source,
                    url=article.url + "-update",
                    title=re.sub(r"\s+", " ", story.title),
                    blocks=blocks,
                    story=story.name,
                    category="update",
                    published=article.published + timedelta(hours=5),
                    language=story.language,
                )
            )
    rng.shuffle(later)
    labelled.articles.extend(later)
    return labelled
