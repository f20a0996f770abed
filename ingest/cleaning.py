"""From parsed blocks to a clean article: title once, body in order, captions apart, credits as data.

Language- and site-specific knowledge comes from ``config/rules`` (``CleaningRules``); this
module only applies it. Every dropped block is kept with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from config import CleaningRules, SiteRules
from dedupe import Lexicon, classify, find_repeats, normalize
from dedupe.shingles import jaccard, shingles
from ingest.documents import BlockKind, ParsedBlock, ParsedDocument
from ingest.extraction.credits import PhotoCredits
from ingest.extraction.language import decide_language

MAX_TITLE_WORDS = 30
MAX_CAPTION_WORDS = 70
MAX_BYLINE_CHARS = 120


@dataclass(frozen=True)
class CleanBlock:
    """A kept block: ``index`` is its position in the parsed document."""

    index: int
    kind: BlockKind
    text: str
    photo_credit: str | None = None


@dataclass(frozen=True)
class RemovedBlock:
    index: int
    text: str
    reason: str
    detail: str | None = None
    similarity: float | None = None


@dataclass
class CleanArticle:
    document: ParsedDocument
    title: str | None
    blocks: list[CleanBlock]
    removed: list[RemovedBlock]
    credit: str | None
    agencies: list[str]
    subtitle: str | None = None
    notes: list[str] = field(default_factory=list)
    language: str | None = None
    byline: str | None = None

    @property
    def body(self) -> list[str]:
        return [b.text for b in self.blocks if b.kind is BlockKind.BODY]

    @property
    def captions(self) -> list[str]:
        return [b.text for b in self.blocks if b.kind is BlockKind.CAPTION]


class Cleaner:
    """Applies one rule set. Build once (patterns compile here), use for every article."""

    def __init__(self, rules: CleaningRules, near_threshold: float = 0.8) -> None:
        self.rules = rules
        self.near_threshold = near_threshold
        self.lexicon = Lexicon.build(rules.chrome_lines, rules.dangling_labels, rules.promo_prefixes)
        # A site's own lexicon holds on that site only, on top of the general one.
        self._site_lexicons = {site.name: self._lexicon_with(site) for site in rules.sites}
        self._site_credit_patterns = {
            site.name: [re.compile(p, re.IGNORECASE) for p in site.credit_patterns] for site in rules.sites
        }
        self.credits = PhotoCredits(rules.photo_credit_patterns)
        self._trailer_patterns = [re.compile(p, re.IGNORECASE) for p in rules.trailer_patterns]
        self._byline_patterns = [re.compile(p, re.IGNORECASE) for p in rules.byline_patterns]
        self._credit_patterns = [re.compile(p, re.IGNORECASE) for p in rules.credit_patterns]
        self._credit_line = _any_match(self._credit_patterns)
        self._credit_line_by_site = {
            name: _any_match([*self._credit_patterns, *patterns])
            for name, patterns in self._site_credit_patterns.items()
        }
        self._trailer = _any_match(self._trailer_patterns)
        self._byline = _any_match(self._byline_patterns)
        self._dateline_patterns = [re.compile(p) for p in rules.dateline_patterns]
        months = "|".join(sorted((re.escape(m) for m in rules.month_names), key=len, reverse=True))
        # "18 Oktober 2024." / "Dec. 22, 2024" / "22 Desember 2024" at the end of a caption.
        self._closing_date = re.compile(
            rf"(?:\b\d{{1,2}}\s+(?:{months})\.?,?\s+\d{{4}}|\b(?:{months})\.?\s+\d{{1,2}},?\s+\d{{4}})"
            r"\s*[.)\]]?\s*(?:\([^()]{1,80}\))?\s*$",
            re.IGNORECASE,
        )
        positions = "|".join(
            sorted((re.escape(w) for w in rules.caption_position_words), key=len, reverse=True)
        )
        self._position_word = re.compile(rf"(?:,\s*(?:{positions})\s*,|\((?:{positions})\))", re.IGNORECASE)
        self._caption_prefixes = tuple(p.casefold() for p in rules.caption_prefixes)

    def _lexicon_with(self, site: SiteRules) -> Lexicon:
        return Lexicon.build(
            self.rules.chrome_lines | site.chrome_lines,
            self.rules.dangling_labels | site.dangling_labels,
            self.rules.promo_prefixes + site.promo_prefixes,
        )

    @cached_property
    def _agency_pattern(self) -> re.Pattern[str]:
        names = sorted(self.rules.agency_aliases, key=len, reverse=True)
        return re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in names) + r")(?!\w)")

    # --- single-block recognisers ---------------------------------------------------------

    def agencies_in(self, text: str) -> list[str]:
        found: list[str] = []
        for match in self._agency_pattern.finditer(text):
            canonical = self.rules.agency_aliases[match.group(1)]
            if canonical not in found:
                found.append(canonical)
        return found

    def _declared_agencies(self, declared: list[str]) -> list[str]:
        """Agencies a wire document names (NITF ``distributor``, ninjs ``source``), under the same
        names as those found in the text: "The Associated Press" is "AP" either way."""
        agencies: list[str] = []
        for name in declared:
            for agency in self.agencies_in(name) or [name]:
                if agency not in agencies:
                    agencies.append(agency)
        return agencies

    def is_credit_line(self, text: str, site: str | None = None) -> bool:
        stripped = text.strip()
        if len(stripped) >= 300:
            return False
        return self._credit_line_by_site.get(site or "", self._credit_line)(stripped)

    def is_trailer(self, text: str) -> bool:
        stripped = text.strip()
        return len(stripped) <= 200 and self._trailer(stripped)

    def is_byline(self, text: str) -> bool:
        stripped = text.strip()
        return len(stripped) <= MAX_BYLINE_CHARS and self._byline(stripped)

    def has_caption_prefix(self, text: str) -> bool:
        return text.strip().casefold().startswith(self._caption_prefixes)

    def caption_score(self, text: str) -> int:
        """How strongly a plain-text block looks like a photo caption (0 = not at all)."""
        if len(text.split()) > MAX_CAPTION_WORDS:
            return 0
        score = 0
        if text.strip().casefold().startswith(self._caption_prefixes):
            score += 2
        if self._position_word.search(text):
            score += 1
        if self._closing_date.search(text):
            score += 1
        credit = self.credits.split(text)[1]
        if credit and "/" in credit:
            score += 1
        return score

    def split_photo_credit(self, text: str) -> tuple[str, str | None]:
        return self.credits.split(text)

    def _strip_dateline(self, text: str) -> tuple[str, str | None]:
        for pattern in self._dateline_patterns:
            match = pattern.match(text)
            if match:
                agency = match.group("agency")
                return text[match.end():], agency
        return text, None

    # --- the whole article ----------------------------------------------------------------

    def clean(self, document: ParsedDocument) -> CleanArticle:
        removed: list[RemovedBlock] = []
        candidates: list[tuple[int, ParsedBlock]] = []
        credit: str | None = document.credit
        agencies = self._declared_agencies(document.agencies)
        title = document.title
        title_index: int | None = None
        lexicon = self._site_lexicons.get(document.site or "", self.lexicon)
        byline = document.byline

        for index, block in enumerate(document.blocks):
            text = " ".join(block.text.split())
            if not text:
                continue
            verdict = classify(text, lexicon)
            if verdict is not None:
                removed.append(RemovedBlock(index, text, verdict.reason, f"matched {verdict.matched!r}"))
                continue
            if block.boilerplate:
                reason, _, marker = block.boilerplate.partition(":")
                if reason == "markup":
                    removed.append(RemovedBlock(index, text, "page_chrome", f"class/id {marker!r}"))
                else:
                    removed.append(RemovedBlock(index, text, reason, f"found by the extractor in <{block.origin}>"))
                continue
            textual = block.kind in (BlockKind.BODY, BlockKind.UNKNOWN)
            if textual and self.is_trailer(text):
                removed.append(RemovedBlock(index, text, "trailer", "editors' initials or copyright line"))
                continue
            if textual and self.is_byline(text):
                byline = byline or text
                removed.append(RemovedBlock(index, text, "byline", "kept as metadata"))
                continue
            if textual and self.is_credit_line(text, document.site):
                if credit is None:
                    credit = text
                else:
                    removed.append(RemovedBlock(index, text, "credit_line", "second credit line"))
                for agency in self.agencies_in(text):
                    if agency not in agencies:
                        agencies.append(agency)
                continue
            if title is None and block.kind in (BlockKind.UNKNOWN, BlockKind.TITLE) and _looks_like_title(text):
                title = text
                title_index = index
                continue
            candidates.append((index, ParsedBlock(block.kind, text, block.origin, block.photo_credit)))

        # Headline repeated in the body (exactly or nearly).
        kept: list[tuple[int, ParsedBlock]] = []
        title_shingles = shingles(title) if title else set()
        folded_title = normalize(title) if title else ""
        block_shingles: dict[int, set[str]] = {}  # by index, for the repeat search below
        for index, block in candidates:
            if title and block.kind is not BlockKind.CAPTION and len(block.text.split()) <= MAX_TITLE_WORDS:
                folded = normalize(block.text)
                if folded == folded_title:
                    similarity = 1.0
                else:
                    block_shingles[index] = shingles(folded, normalized=True)
                    similarity = jaccard(block_shingles[index], title_shingles)
                if similarity >= self.near_threshold:
                    detail = "same as the title" if title_index is None else f"same as the title (block {title_index})"
                    removed.append(RemovedBlock(index, block.text, "repeated_title", detail, similarity))
                    continue
            kept.append((index, block))

        # Classify unknown blocks (plain text) as caption or body by their cues.
        texts = [b.text for _, b in kept]
        repeats = find_repeats(texts, self.near_threshold, [block_shingles.get(index) for index, _ in kept])
        repeated_indices = {r.first_index for r in repeats if r is not None}
        classified: list[tuple[int, ParsedBlock]] = []
        for position, (index, block) in enumerate(kept):
            kind = block.kind
            if kind is BlockKind.UNKNOWN:
                score = self.caption_score(block.text)
                if position in repeated_indices and len(block.text.split()) <= MAX_CAPTION_WORDS:
                    score += 1
                kind = BlockKind.CAPTION if score >= 2 else BlockKind.BODY
            elif kind is BlockKind.BODY and self.has_caption_prefix(block.text):
                # A caption written as a paragraph in the page's body ("FILE – ...", "图注：...").
                kind = BlockKind.CAPTION
            classified.append((index, ParsedBlock(kind, block.text, block.origin, block.photo_credit)))

        blocks: list[CleanBlock] = []
        subtitle: str | None = None
        first_dateline_done = False
        for (index, block), repeat in zip(classified, repeats, strict=True):
            first_block = classified[repeat.first_index][1] if repeat is not None else None
            if repeat is not None and repeat.tier == "near" and _marked_up_captions(block, first_block):
                # Two captions the page marks up apart are two photos, however alike their words
                # ("X speaks in Detroit" / "A supporter listens as X speaks in Detroit").
                repeat = None
            if repeat is not None:
                first_index = classified[repeat.first_index][0]
                reason = "repeated_caption" if block.kind is BlockKind.CAPTION else "repeated_block"
                removed.append(
                    RemovedBlock(
                        index,
                        block.text,
                        reason,
                        f"{repeat.tier} repeat of block {first_index}",
                        repeat.similarity,
                    )
                )
                continue
            text = block.text
            photo_credit: str | None = block.photo_credit
            if block.kind is BlockKind.CAPTION and photo_credit is None:
                text, photo_credit = self.split_photo_credit(text)
            if block.kind is BlockKind.BODY and not first_dateline_done:
                first_dateline_done = True
                stripped, dateline_agency = self._strip_dateline(text)
                if dateline_agency:
                    for name in self.agencies_in(f"({dateline_agency})") or [dateline_agency]:
                        if name not in agencies:
                            agencies.append(name)
                    credit = credit or f"({dateline_agency})"
                    text = stripped
            if block.kind in (BlockKind.BODY, BlockKind.CAPTION):
                blocks.append(CleanBlock(index, block.kind, text, photo_credit))
            elif block.kind is BlockKind.SUBTITLE:
                subtitle = subtitle or text
                blocks.append(CleanBlock(index, BlockKind.BODY, text))
            else:
                removed.append(RemovedBlock(index, text, f"{block.kind.value}_block", "kept as metadata"))
        removed.sort(key=lambda r: r.index)
        language = document.language or decide_language(
            None, " ".join(b.text for b in blocks if b.kind is BlockKind.BODY)
        )
        return CleanArticle(
            document=document,
            title=title,
            blocks=blocks,
            removed=removed,
            credit=credit,
            agencies=agencies,
            subtitle=subtitle,
            language=language,
            byline=byline,
        )


def _any_match(patterns: list[re.Pattern[str]]) -> Callable[[str], bool]:
    """Whether any of ``patterns`` matches at the start: one alternation, tried in order, in one call."""
    try:
        combined = re.compile("|".join(f"(?:{p.pattern})" for p in patterns), re.IGNORECASE) if patterns else None
    except re.error:  # named groups repeated across patterns: try them one by one
        combined = None
    if combined is None or any(p.flags != combined.flags for p in patterns):
        return lambda text: any(p.match(text) for p in patterns)
    match = combined.match
    return lambda text: match(text) is not None


def _marked_up_captions(first: ParsedBlock, second: ParsedBlock | None) -> bool:
    if second is None:
        return False
    return all(b.kind is BlockKind.CAPTION and b.origin not in ("text", "") for b in (first, second))


def _looks_like_title(text: str) -> bool:
    words = text.split()
    return 1 <= len(words) <= MAX_TITLE_WORDS and not text.rstrip().endswith((".", ":", ";", ","))
