"""Why each block of an article was kept, linked or dropped: the data behind ``dupes explain``.

The decisions themselves were made at ingest time and are stored (duplicate links with their
tier and similarity, removals with their reason). This module reads them back and adds the two
numbers an operator wants to judge a decision by: the exact shingle Jaccard of the two texts and
the MinHash estimate from their signatures.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from dedupe import Signer, estimated_jaccard, jaccard, shingles
from store import admin
from store import repository as repo
from store.models import Article, ArticleParagraph, Removal

BOILERPLATE_REASONS = frozenset({"site_chrome", "dangling_label", "promo", "empty", "boilerplate"})
TEMPLATE_REASONS = frozenset({"template", "template_block", "cross_article_boilerplate"})
_REPEAT_DETAIL = re.compile(r"\b(exact|near)\b")


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


class Explainer:
    def __init__(self, session: Session, signer: Signer) -> None:
        self.session = session
        self.signer = signer

    def _estimate(self, a: bytes | None, b: bytes | None, text_a: str, text_b: str) -> float | None:
        try:
            sig_a = self.signer.from_bytes(a) if a else self.signer.for_text(text_a)
            sig_b = self.signer.from_bytes(b) if b else self.signer.for_text(text_b)
            if len(sig_a.hashvalues) != len(sig_b.hashvalues):
                return None  # signatures made with other parameters: no estimate
            return estimated_jaccard(sig_a, sig_b)
        except ValueError:
            return None

    def _similarity(
        self, text: str, other_text: str, recorded: float | None, signature: bytes | None = None,
        other_signature: bytes | None = None, stored_estimate: float | None = None,
    ) -> dict[str, float | None]:
        return {
            "recorded": _round(recorded),
            "exact_jaccard": _round(jaccard(shingles(text), shingles(other_text))),
            "estimated_jaccard": _round(self._estimate(signature, other_signature, text, other_text)),
            "recorded_estimate": _round(stored_estimate),
        }

    def _place(self, article_id: int, position: int | None) -> tuple[dict[str, Any], ArticleParagraph | None]:
        other = self.session.get(Article, article_id)
        target = admin.paragraph_at(self.session, article_id, position) if position is not None else None
        place: dict[str, Any] = {
            "article_id": article_id,
            "position": position,
            "title": other.title if other is not None else None,
            "text": target.text if target is not None else None,
            "deleted": other is None or other.deleted_at is not None,
        }
        return place, target

    def paragraph(self, paragraph: ArticleParagraph, copies: list[tuple[int, int]]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "position": paragraph.position,
            "kind": paragraph.kind,
            "text": paragraph.text,
            "verdict": "kept",
            "tier": None,
            "why": "first seen here",
            "match": None,
            "similarity": None,
            "copies": [{"article_id": a, "position": p} for a, p in copies],
        }
        if paragraph.duplicate_of_article_id is None:
            if copies:
                entry["why"] = f"first seen here; {len(copies)} {'copy' if len(copies) == 1 else 'copies'} elsewhere"
            return entry
        place, target = self._place(paragraph.duplicate_of_article_id, paragraph.duplicate_of_position)
        tier = paragraph.duplicate_tier or "exact"
        entry.update(verdict="linked", tier=tier, match=place)
        entry["why"] = f"{tier} duplicate of article {place['article_id']} #{place['position']}"
        if place["deleted"]:
            entry["why"] += " (that article is deleted)"
        if target is not None:
            entry["similarity"] = self._similarity(
                paragraph.text, target.text, paragraph.similarity, paragraph.signature, target.signature,
                paragraph.estimated,
            )
        return entry

    def removal(self, removal: Removal, article: Article, kept: list[ArticleParagraph]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "block_index": removal.block_index,
            "text": removal.text,
            "verdict": "dropped",
            "reason": removal.reason,
            "detail": removal.detail,
            "tier": removal_tier(removal),
            "match": None,
            "similarity": None,
        }
        if removal.duplicate_of_article_id is not None:
            place, target = self._place(removal.duplicate_of_article_id, removal.duplicate_of_position)
            entry["match"] = place
            if target is not None:
                entry["similarity"] = self._similarity(
                    removal.text, target.text, removal.similarity, None, target.signature
                )
        elif removal.reason == "repeated_title" and article.title:
            entry["match"] = {"article_id": article.id, "position": None, "title": article.title, "text": article.title,
                              "deleted": False}
            entry["similarity"] = self._similarity(removal.text, article.title, removal.similarity)
        elif removal.reason.startswith("repeated_") and kept:
            # The first occurrence is a kept block of this article: the one most like the removed text.
            removed_shingles = shingles(removal.text)
            best = max(kept, key=lambda p: (jaccard(removed_shingles, shingles(p.text)), -p.position))
            entry["match"] = {"article_id": article.id, "position": best.position, "title": article.title,
                              "text": best.text, "deleted": False}
            entry["similarity"] = self._similarity(removal.text, best.text, removal.similarity, None, best.signature)
        return entry

    def article(self, article: Article) -> dict[str, Any]:
        source = repo.get_source(self.session, article.source_id)
        paragraphs = repo.paragraphs_of(self.session, article.id)
        removals = repo.removals_of(self.session, article.id)
        copies = admin.copies_of(self.session, article.id)
        canonical_id = article.canonical_id if article.canonical_id is not None else article.id
        members = admin.cluster_members(self.session, article.id) if canonical_id == article.id else []
        return {
            "article": {
                "id": article.id,
                "title": article.title,
                "source": source.name,
                "version": article.version,
                "deleted": article.deleted_at is not None,
                "canonical_id": canonical_id,
                "is_canonical": canonical_id == article.id,
                "merged_here": members,
                # Why it joined its cluster (body-to-body similarity), when it did.
                "story": (article.extra or {}).get("story"),
                # Which member's text the canonical article carries (its own when null).
                "text_from": article.text_from_id if canonical_id == article.id else None,
            },
            "paragraphs": [self.paragraph(p, copies.get(p.position, [])) for p in paragraphs],
            "removed": [self.removal(r, article, paragraphs) for r in removals],
        }


def removal_tier(removal: Removal) -> str:
    return removal.duplicate_tier or tier_of(removal.reason, removal.detail, removal.similarity)


def tier_of(reason: str, detail: str | None, similarity: float | None) -> str:
    """The tier of a removal: boilerplate, template, title, exact, near or metadata."""
    if reason in BOILERPLATE_REASONS:
        return "boilerplate"
    if reason in TEMPLATE_REASONS:
        return "template"
    if reason == "repeated_title":
        return "title"
    if reason.startswith("repeated_"):
        match = _REPEAT_DETAIL.search(detail or "")
        if match:
            return match.group(1)
        return "exact" if similarity is None or similarity >= 1.0 else "near"
    if reason == "credit_line" or reason.endswith("_block"):
        return "metadata"
    return reason


def explain(session: Session, article_id: int, signer: Signer) -> dict[str, Any]:
    return Explainer(session, signer).article(repo.get_article(session, article_id))


__all__ = ["Explainer", "explain", "removal_tier", "tier_of"]
