"""A reproducible, growing ingest workload built from the real corpus.

Two kinds of items, both made from real news text with a fixed seed:

- **pages**: the corpus's article pages, replicated with seeded edits (a few words changed in some
  paragraphs, a per-source template line, paragraphs of shared wire copy in about 30% of them);
- **feeds**: RSS files whose items carry full content (``content:encoded``): first the real
  article bodies of the corpus's expected outputs, then new stories written by a word-bigram
  chain trained on those bodies (``benchmarks.synthetic``), so that a large run holds mostly
  distinct stories as a newsroom's store does, not thousands of copies of the same eighty. About
  20% of items republish a recent story (edited), about 30% carry paragraphs of one of the
  wire stories of the moment, and every item ends with its source's template line. With a
  ``vocabulary_period``, the chain's names get new spellings as the run goes on, as news gets new
  names (``benchmarks.synthetic.VocabularyDrift``); by default they keep the training text's.

Every item has its own URL, so each one is a new article for the pipeline.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import lxml.html
from lxml import etree

from benchmarks.synthetic import BigramChain, VocabularyDrift

WIRE_SHARE = 0.30
REPUBLISH_SHARE = 0.20
RECENT_STORIES = 300  # republished stories come from this many latest ones
PER_FEED = 50  # entries per feed file
# Wire stories running at once, and how many items before they are replaced: spread over all
# seven sources, so one source prints a wire paragraph in a story or two, as a newsroom does (in
# five stories of one source it would be that source's template).
WIRE_STORIES = 8
WIRE_STORY_ITEMS = 350
TEMPLATE_LINES = (
    "Follow {source} on social media for the latest news.",
    "Ikuti berita terbaru {source} di media sosial.",
    "Sign up for the {source} newsletter.",
)


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"a number of items is at least 0, got {value}")
    return value


def add_vocabulary_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--vocabulary-period",
        type=_non_negative,
        default=0,
        metavar="ITEMS",
        help="renew the names of the generated stories every ITEMS items, as news does "
        "(0, the default: the training text's names throughout)",
    )


def add_pace_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--articles-per-day",
        type=_non_negative,
        default=0,
        metavar="ARTICLES",
        help="replay the run as news arriving at this many articles a day, so that the dedupe window "
        "slides over it (0, the default: every article arrives on the same day, inside the window)",
    )


class ReplayClock:
    """The deduper's "now" while a run replays news at ``per_day`` articles a day.

    A day passes with every ``per_day`` articles ingested, so a run of N articles spans N / per_day
    days and the dedupe window (``dedupe.window_days``) holds the last ``window_days * per_day``
    articles once it is full, as it would in a newsroom taking in that many a day.
    """

    def __init__(self, per_day: int, start: datetime) -> None:
        if per_day < 1:
            raise ValueError(f"a day holds at least one article, got {per_day}")
        self.per_day = per_day
        self.start = start
        self.articles = 0

    def advance(self, articles: int) -> None:
        self.articles += articles

    def __call__(self) -> datetime:
        return self.start + timedelta(days=self.articles // self.per_day)


@dataclass(frozen=True)
class WorkItem:
    source: str
    url: str
    body: bytes
    format: str  # html | feed
    articles: int  # how many articles the item should yield


def _bodies_from_expected(corpus: Path) -> list[list[str]]:
    bodies: list[list[str]] = []
    for path in sorted((corpus / "pages").glob("*.expected.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        text = ""
        if isinstance(data, dict):
            if isinstance(data.get("articleBody"), str):
                text = data["articleBody"]
            elif isinstance(data.get("body"), dict):
                sections = data["body"].get("sections") or []
                text = "\n".join(p for s in sections for p in (s.get("paragraphs") or []) if isinstance(p, str))
            elif isinstance(data.get("content"), str):
                text = data["content"]
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n+", text) if len(p.split()) >= 8]
        if len(paragraphs) >= 3:
            bodies.append(paragraphs)
    for path in sorted((corpus / "pages").glob("newspaper4k__*.expected.txt")):
        paragraphs = [" ".join(p.split()) for p in path.read_text(encoding="utf-8", errors="replace").split("\n")
                      if len(p.split()) >= 8]
        if len(paragraphs) >= 3:
            bodies.append(paragraphs)
    return bodies


def _template_line(source: str) -> str:
    return TEMPLATE_LINES[zlib.crc32(source.encode()) % len(TEMPLATE_LINES)].format(source=source)


def _edit_words(paragraph: str, rng: random.Random, edits: int) -> str:
    words = paragraph.split()
    for _ in range(edits):
        if len(words) > 3:
            words[rng.randrange(len(words))] = rng.choice(["said", "reported", "officials", "Tuesday", "more"])
    return " ".join(words)


class Workload:
    def __init__(self, corpus: Path, seed: int = 20261125, vocabulary_period: int | None = None) -> None:
        self.corpus = corpus
        self.seed = seed
        self.vocabulary_period = vocabulary_period
        self.pages = sorted(p for p in (corpus / "pages").glob("*.html") if ".expected" not in p.name)
        self.bodies = _bodies_from_expected(corpus)
        rng = random.Random(seed)
        self.wire_pool = [p for body in rng.sample(self.bodies, min(40, len(self.bodies))) for p in body[:4]]

    def _article_paragraphs(self, rng: random.Random, base: list[str], source: str, wire: list[str]) -> list[str]:
        paragraphs = [_edit_words(p, rng, rng.randint(0, 3)) if rng.random() < 0.3 else p for p in base]
        if rng.random() < WIRE_SHARE:
            at = rng.randrange(len(paragraphs) + 1)
            paragraphs[at:at] = rng.sample(wire, min(len(wire), rng.randint(2, 4)))
        paragraphs.append(_template_line(source))
        return paragraphs

    def pages_items(self, count: int) -> Iterator[WorkItem]:
        """``count`` HTML pages: the corpus's pages in turn, each copy edited and re-addressed."""
        rng = random.Random(self.seed)
        for index in range(count):
            path = self.pages[index % len(self.pages)]
            source = path.name.split("__")[1] if "__" in path.name else "site"
            body = path.read_bytes()
            if index >= len(self.pages):
                body = self._edit_page(body, rng, source)
            yield WorkItem(source, f"https://{source}.example/{index}", body, "html", 1)

    def _edit_page(self, body: bytes, rng: random.Random, source: str) -> bytes:
        try:
            tree = lxml.html.document_fromstring(body)
        except (etree.ParserError, ValueError):
            return body
        paragraphs = [p for p in tree.iter("p") if p.text and len(p.text.split()) > 6]
        for p in rng.sample(paragraphs, min(len(paragraphs), 3)):
            p.text = _edit_words(p.text or "", rng, rng.randint(1, 3))
        if paragraphs:
            parent = paragraphs[-1].getparent()
            if parent is not None:
                extra = etree.SubElement(parent, "p")
                extra.text = _template_line(source)
                if rng.random() < WIRE_SHARE:
                    for text in rng.sample(self.wire_pool, 2):
                        wire = etree.Element("p")
                        wire.text = text
                        parent.insert(max(0, parent.index(paragraphs[-1])), wire)
        return bytes(lxml.html.tostring(tree, encoding="utf-8"))

    def feed_items(self, articles: int, per_feed: int = PER_FEED) -> Iterator[WorkItem]:
        """RSS files with full content, ``per_feed`` items each, ``articles`` items in all."""
        rng = random.Random(self.seed + 1)
        corpus_paragraphs = [p for body in self.bodies for p in body]
        stories = BigramChain(corpus_paragraphs, seed=self.seed + 2)
        wire_stories = BigramChain(corpus_paragraphs, seed=self.seed + 3)
        drift = None if self.vocabulary_period is None else VocabularyDrift(corpus_paragraphs, self.vocabulary_period)

        def written(chain: BigramChain, count: int, index: int) -> list[str]:
            made = chain.paragraphs(count)
            return list(made) if drift is None else [drift.paragraph(p, index) for p in made]

        recent: deque[list[str]] = deque(maxlen=RECENT_STORIES)
        wires = [self.wire_pool]
        start = datetime(2026, 1, 1, tzinfo=UTC)
        made = 0
        feed_index = 0
        while made < articles:
            source = f"wire-{feed_index % 7}"
            items = []
            for _ in range(min(per_feed, articles - made)):
                if made < len(self.bodies):
                    base = self.bodies[made]
                elif recent and rng.random() < REPUBLISH_SHARE:
                    base = rng.choice(recent)
                else:
                    length = len(rng.choice(self.bodies))
                    base = written(stories, length, made)
                recent.append(base)
                if made >= len(self.bodies) and made % WIRE_STORY_ITEMS == 0:
                    wires = [written(wire_stories, 6, made) for _ in range(WIRE_STORIES)]
                paragraphs = self._article_paragraphs(rng, base, source, rng.choice(wires))
                content = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
                published = format_datetime(start + timedelta(minutes=made))
                items.append(
                    f"<item><title>{html.escape(base[0][:90])} #{made}</title>"
                    f"<link>https://{source}.example/story/{made}</link><guid>{source}-{made}</guid>"
                    f"<pubDate>{published}</pubDate>"
                    f"<content:encoded><![CDATA[{content}]]></content:encoded></item>"
                )
                made += 1
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
                'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
                f"<title>{source}</title><link>https://{source}.example/</link><description>bench</description>"
                + "".join(items)
                + "</channel></rss>"
            )
            yield WorkItem(source, f"https://{source}.example/feed-{feed_index}.xml", xml.encode(), "feed", len(items))
            feed_index += 1
