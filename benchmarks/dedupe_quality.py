"""Dedupe quality on the labelled set: our engine, exact-hash only and trafilatura, same run.

    python -m benchmarks.dedupe_quality [--limit N] [--seed S] [--json FILE]

Paragraph level: is each block reported as a duplicate (linked to an earlier block, removed as
a repeat or as a template), and for links, is the linked block of the same family. Story level:
does each article join the cluster of an earlier article of the same story.
Prints a table and a JSON document.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.corpus_bodies import Corpus
from benchmarks.labelled import Article, LabelledSet, build

REPEAT_REASONS = {"repeated_block", "repeated_caption", "repeated_title", "template"}
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    by_category: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, truth: bool, predicted: bool, correct_link: bool = True, category: str = "") -> None:
        if predicted and truth and correct_link:
            self.tp += 1
            outcome = "tp"
        elif predicted:
            self.fp += 1
            outcome = "fp"
            if truth:
                self.fn += 1
        elif truth:
            self.fn += 1
            outcome = "fn"
        else:
            self.tn += 1
            outcome = "tn"
        if category:
            self.by_category[category][outcome] += 1

    @property
    def precision(self) -> float | None:
        """None when the system flagged nothing (precision is undefined then)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        precision = self.precision or 0.0
        return 2 * precision * self.recall / (precision + self.recall) if precision + self.recall else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "precision": None if self.precision is None else round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "by_category": {k: dict(v) for k, v in sorted(self.by_category.items())},
        }


# --- matching a system's output back to the labelled blocks ----------------------------------


def _match(blocks: Sequence[str], outputs: Sequence[str]) -> dict[int, int]:
    """Output index -> block index, by normalised text (or containment: datelines get cut)."""
    from dedupe import normalize

    folded = [normalize(b) for b in blocks]
    taken: set[int] = set()
    found: dict[int, int] = {}
    for o, text in enumerate(outputs):
        target = normalize(text)
        candidates = [i for i, f in enumerate(folded) if f == target and i not in taken]
        if not candidates and target:
            candidates = [i for i, f in enumerate(folded) if target in f and i not in taken]
        if candidates:
            found[o] = candidates[0]
            taken.add(candidates[0])
    return found


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


# --- our engine ---------------------------------------------------------------------------------


def run_engine(labelled: LabelledSet, database_url: str) -> tuple[list[list[dict[str, Any]]], list[int | None]]:
    """Ingest every article through the real pipeline; per block: (predicted dup, linked family)."""
    from config import load_settings
    from ingest import migrations
    from ingest.app import App
    from ingest.documents import BlockKind, ParsedBlock, ParsedDocument
    from ingest.pipeline import Input, Pipeline
    from store import repository as repo
    from store.models import Article

    app = App(load_settings(environ={}, database_url=database_url))
    migrations.upgrade(app.engine)
    pipeline = Pipeline(app.sessions, app.cleaner, app.signer, deduper=app.deduper)
    ids: list[int] = []
    for article in labelled.articles:
        document = ParsedDocument(
            blocks=[
                ParsedBlock(BlockKind.CAPTION if b.kind == "caption" else BlockKind.BODY, b.text, "p")
                for b in article.blocks
            ],
            entry_key=f"bench:{article.key}",
            title=article.title,
            url=article.url,
            published_at=article.published,
            language=article.language,
        )
        body = json.dumps({"key": article.key, "blocks": [b.text for b in article.blocks]}).encode()
        result = pipeline.ingest(
            Input(body=body, source=article.source, location=article.key, url=article.url, format="text"),
            documents=[document],
        )
        outcome = result.articles[0]
        if outcome.article_id is None:
            raise RuntimeError(f"{article.key}: {outcome.error}")
        ids.append(outcome.article_id)
    family_at: dict[tuple[int, int], str] = {}
    text_at: dict[tuple[int, int], str] = {}
    predictions: list[list[dict[str, Any]]] = []
    canonical: list[int | None] = []
    with app.sessions() as session:
        stored = {}
        for article, article_id in zip(labelled.articles, ids, strict=True):
            paragraphs = repo.paragraphs_of(session, article_id)
            removals = repo.removals_of(session, article_id)
            stored[article_id] = (paragraphs, removals)
            texts = [b.text for b in article.blocks]
            for o, i in _match(texts, [p.text for p in paragraphs]).items():
                family_at[article_id, paragraphs[o].position] = article.blocks[i].family
                text_at[article_id, paragraphs[o].position] = _fold(article.blocks[i].text)
        id_to_index = {article_id: n for n, article_id in enumerate(ids)}
        for article, article_id in zip(labelled.articles, ids, strict=True):
            paragraphs, removals = stored[article_id]
            texts = [b.text for b in article.blocks]
            per_block: list[dict[str, Any]] = [{"dup": False, "family": None} for _ in texts]
            for o, i in _match(texts, [p.text for p in paragraphs]).items():
                p = paragraphs[o]
                if p.duplicate_of_article_id is not None:
                    place = (p.duplicate_of_article_id, p.duplicate_of_position or 0)
                    # A link to the very same text is right whatever family that text came from.
                    same_text = text_at.get(place) == _fold(texts[i])
                    target = "*" if same_text else family_at.get(place)
                    per_block[i] = {"dup": True, "family": target, "tier": p.duplicate_tier}
            kept = {i for i in _match(texts, [p.text for p in paragraphs]).values()}
            free = [i for i in range(len(texts)) if i not in kept]
            for o, i in _match([texts[i] for i in free], [r.text for r in removals]).items():
                if removals[o].reason in REPEAT_REASONS:
                    per_block[free[i]] = {"dup": True, "family": "*", "tier": removals[o].reason}
            predictions.append(per_block)
            row = session.get(Article, article_id)
            merged = row.canonical_id if row is not None and row.canonical_id not in (None, article_id) else None
            canonical.append(id_to_index.get(merged) if merged is not None else None)
    app.close()
    return predictions, canonical


# --- baselines ----------------------------------------------------------------------------------


def run_exact(labelled: LabelledSet) -> tuple[list[list[bool]], list[bool]]:
    from dedupe import norm_hash

    seen: set[str] = set()
    bodies: set[str] = set()
    blocks: list[list[bool]] = []
    stories: list[bool] = []
    for article in labelled.articles:
        local = {norm_hash(article.title)}
        flags = []
        for block in article.blocks:
            digest = norm_hash(block.text)
            flags.append(digest in seen or digest in local)
            seen.add(digest)
        blocks.append(flags)
        body = norm_hash(" ".join(b.text for b in article.blocks if b.kind == "body"))
        stories.append(body in bodies)
        bodies.add(body)
    return blocks, stories


def _html(article: Article) -> str:
    from html import escape

    parts = [f"<h1>{escape(article.title)}</h1>"]
    for block in article.blocks:
        if block.kind == "caption":
            parts.append(f"<figure><figcaption>{escape(block.text)}</figcaption></figure>")
        else:
            parts.append(f"<p>{escape(block.text)}</p>")
    head = f"<head><title>{escape(article.title)}</title></head>"
    return f"<html>{head}<body><article>{''.join(parts)}</article></body></html>"


def run_trafilatura(labelled: LabelledSet) -> tuple[list[list[bool]], list[bool]]:
    """trafilatura's ``deduplicate=True``: a block counts as flagged when extraction without
    dedupe keeps it and extraction with dedupe drops it; a story when the whole document goes."""
    import trafilatura
    from trafilatura.deduplication import LRU_TEST

    LRU_TEST.clear()
    blocks: list[list[bool]] = []
    stories: list[bool] = []
    for article in labelled.articles:
        html = _html(article)
        plain = trafilatura.extract(html, deduplicate=False, include_comments=False, include_images=True) or ""
        deduped = trafilatura.extract(html, deduplicate=True, include_comments=False, include_images=True)
        texts = [b.text for b in article.blocks]
        kept_plain = set(_match(texts, plain.splitlines()).values())
        kept_dedup = set(_match(texts, (deduped or "").splitlines()).values())
        blocks.append([i in kept_plain and i not in kept_dedup for i in range(len(texts))])
        stories.append(bool(plain) and deduped is None)
    return blocks, stories


# --- scoring ------------------------------------------------------------------------------------


def score(labelled: LabelledSet, database_url: str) -> dict[str, Any]:
    truth_blocks, truth_stories = labelled.truth()
    keys = [a.key for a in labelled.articles]
    story_of = {a.key: a.story for a in labelled.articles}
    results: dict[str, Any] = {}

    started = time.perf_counter()
    ours, canonical = run_engine(labelled, database_url)
    engine_seconds = time.perf_counter() - started
    paragraph, story = Score(), Score()
    for article, flags, predicted in zip(labelled.articles, truth_blocks, ours, strict=True):
        for block, truth, guess in zip(article.blocks, flags, predicted, strict=True):
            correct = guess["family"] in ("*", block.family)
            paragraph.add(truth, guess["dup"], correct, block.category)
    for n, (article, truth_first) in enumerate(zip(labelled.articles, truth_stories, strict=True)):
        merged = canonical[n]
        correct = merged is not None and story_of[keys[merged]] == article.story
        story.add(truth_first is not None, merged is not None, correct, article.category)
    results["engine"] = {
        "paragraph": paragraph.as_json(),
        "story": story.as_json(),
        "seconds": round(engine_seconds, 2),
    }

    for name, runner in (("exact_hash", run_exact), ("trafilatura", run_trafilatura)):
        blocks, stories = runner(labelled)
        paragraph, story = Score(), Score()
        for article, flags, predicted in zip(labelled.articles, truth_blocks, blocks, strict=True):
            for block, truth, guess in zip(article.blocks, flags, predicted, strict=True):
                paragraph.add(truth, guess, True, block.category)
        for article, truth_first, guess in zip(labelled.articles, truth_stories, stories, strict=True):
            story.add(truth_first is not None, guess, True, article.category)
        results[name] = {"paragraph": paragraph.as_json(), "story": story.as_json()}
    results["set"] = {
        "articles": len(labelled.articles),
        "blocks": sum(len(a.blocks) for a in labelled.articles),
        "duplicate_blocks": sum(sum(f) for f in truth_blocks),
        "duplicate_stories": sum(1 for s in truth_stories if s is not None),
        "languages": dict(Counter(a.language for a in labelled.articles)),
    }
    return results


def table(results: dict[str, Any]) -> str:
    lines = [
        f"labelled set: {results['set']['articles']} articles, {results['set']['blocks']} blocks "
        f"({results['set']['duplicate_blocks']} duplicates), {results['set']['duplicate_stories']} repeated stories",
        "",
        f"{'system':<12} {'para P':>7} {'para R':>7} {'para F1':>8} {'story P':>8} {'story R':>8} {'story F1':>9}",
    ]

    def number(value: float | None, width: int) -> str:
        return f"{'n/a':>{width}}" if value is None else f"{value:>{width}.3f}"

    for name in ("engine", "exact_hash", "trafilatura"):
        p, s = results[name]["paragraph"], results[name]["story"]
        lines.append(
            f"{name:<12} {number(p['precision'], 7)} {number(p['recall'], 7)} {number(p['f1'], 8)} "
            f"{number(s['precision'], 8)} {number(s['recall'], 8)} {number(s['f1'], 9)}"
        )
    lines.append("")
    lines.append("engine, paragraph level by case (tp/fp/fn/tn):")
    for category, counts in results["engine"]["paragraph"]["by_category"].items():
        lines.append(f"  {category:<18} " + " ".join(f"{k}={counts.get(k, 0)}" for k in ("tp", "fp", "fn", "tn")))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--seed", type=int, default=20240428)
    parser.add_argument("--limit", type=int, help="stories to use (default: all)")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary folder")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    labelled = build(Corpus(args.corpus), seed=args.seed, limit=args.limit)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'quality.sqlite3'}"
        results = score(labelled, url)
    print(table(results))
    document = json.dumps(results, indent=2, sort_keys=True)
    print(document)
    if args.json:
        args.json.write_text(document + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
