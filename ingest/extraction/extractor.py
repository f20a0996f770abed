"""The HTML extractor: an article page in, a ``ParsedDocument`` of ordered, typed blocks out.

How the story body is found, first that gives enough text wins:

1. ``site``: the site's own rules (``config/rules/sites``), e.g. Pangea's ``div.wsw`` for VOA;
2. ``container``: the best-scoring container of the pruned page (see ``content``);
3. ``payload``: article HTML shipped in script data (Next.js pages saved without running them);
4. ``json-ld``: the publisher's ``articleBody``, when the markup gave much less than it;
5. ``trafilatura``: its ``bare_extraction``, as a last resort for pages none of the above reads.

Captions come from the whole article region (headline to end of body), so a lead photo above
the body counts; metadata from JSON-LD and meta tags; the language from the declaration,
checked by a detector.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import trafilatura
from lxml import etree

from config import CleaningRules, SiteRules
from dedupe import normalize
from dedupe.shingles import jaccard
from ingest.documents import BlockKind, ParsedBlock, ParsedDocument
from ingest.errors import ParseError
from ingest.extraction.captions import CaptionFinder, FoundCaption
from ingest.extraction.content import BodyReader, RawBlock, choose_container, prune
from ingest.extraction.credits import PhotoCredits
from ingest.extraction.dom import (
    Element,
    Markers,
    document_order,
    lowest_common_ancestor,
    parse_page,
    remove,
    select,
    strip_junk,
    tag_of,
    text_of,
)
from ingest.extraction.language import decide_language
from ingest.extraction.metadata import clean_author, parse_date, read_metadata
from ingest.extraction.payloads import embedded_article_html

MIN_BODY_CHARS = 200
# The markup gave less than this share of the publisher's articleBody: the markup is incomplete.
MIN_SHARE_OF_ARTICLE_BODY = 0.5


@dataclass
class _Body:
    blocks: list[RawBlock]
    how: str

    @property
    def chars(self) -> int:
        return sum(len(b.text) for b in self.blocks if b.kind is BlockKind.BODY and b.boilerplate is None)


def _words(text: str) -> set[str]:
    return set(normalize(text).split())


def _similar_titles(first: str, second: str) -> bool:
    a, b = normalize(first), normalize(second)
    if not a or not b:
        return False
    return a == b or a in b or b in a or jaccard(set(a.split()), set(b.split())) >= 0.5


class HtmlExtractor:
    """Built once from the rules (selectors and patterns compile here), used for every page."""

    def __init__(self, rules: CleaningRules) -> None:
        self.rules = rules
        self.markers = Markers(rules.markup)
        self.credits = PhotoCredits(rules.photo_credit_patterns)
        self.caption_finder = CaptionFinder(self.markers, self.credits)

    # --- the parts ------------------------------------------------------------------------

    def site_for(self, root: Element, url: str | None) -> SiteRules | None:
        try:
            host = (urlsplit(url).hostname or "") if url else ""
        except ValueError:  # an unparseable page URL ("http://[::1/x") names no site; markup still may
            host = ""
        if host:
            for site in self.rules.sites:
                if site.covers(host):
                    return site
        for site in self.rules.sites:
            if site.detect and select(root, site.detect):
                return site
        return None

    def _headline(self, root: Element, title: str | None) -> Element | None:
        headings = [h for h in root.iter("h1") if text_of(h)]
        if title:
            similar = [h for h in headings if _similar_titles(text_of(h), title)]
            return similar[0] if similar else None
        return headings[0] if len(headings) == 1 else None

    def _marked(self, region: Element, pattern_name: str, selectors: tuple[str, ...]) -> list[Element]:
        pattern = getattr(self.markers, pattern_name)
        found = select(region, selectors) if selectors else []
        found.extend(
            e for e in region.iter() if isinstance(e.tag, str) and Markers.matches(pattern, e) and e not in found
        )
        # Innermost only would lose text; outermost only keeps wrappers: keep elements whose
        # ancestors are not already in the list.
        chosen = set(found)
        return [e for e in found if not any(a in chosen for a in e.iterancestors())]

    def _read_body(
        self,
        containers: list[Element],
        order: dict[etree._Element, int],
        claimed: set[Element],
        standfirsts: list[Element],
        bylines: list[Element],
        datelines: list[Element],
        how: str,
    ) -> _Body:
        reader = BodyReader(self.markers, order, claimed, set(standfirsts), set(bylines), set(datelines))
        return _Body(reader.read(containers), how)

    def _fragment_body(self, html: str, how: str) -> tuple[_Body, list[FoundCaption]] | None:
        """The body (and captions) of an HTML fragment; positions are the fragment's own."""
        try:
            root = parse_page(html)
        except (etree.ParserError, ValueError):
            return None
        strip_junk(root)
        prune(root, self.markers)
        containers = choose_container(root, self.markers)
        if not containers:
            return None
        order = document_order(root)
        region = containers[0].getparent() if containers[0].getparent() is not None else containers[0]
        captions, claimed = self.caption_finder.find(root, region, None, order)
        return self._read_body(containers, order, claimed, [], [], [], how), captions

    def _json_ld_body(self, article_body: str) -> _Body:
        if "<p" in article_body:
            parsed = self._fragment_body(article_body, "json-ld")
            if parsed is not None and parsed[0].chars:
                return parsed[0]
        lines = [" ".join(line.split()) for line in article_body.splitlines()]
        return _Body([RawBlock(BlockKind.BODY, line, "json-ld", 0) for line in lines if line], "json-ld")

    def _trafilatura_body(self, html: str, url: str | None) -> _Body | None:
        try:
            extracted = trafilatura.bare_extraction(html, url=url, include_comments=False, include_tables=True)
        except Exception:  # trafilatura is a last resort; its failure must not fail the page
            return None
        if extracted is None:
            return None
        fields = extracted if isinstance(extracted, dict) else extracted.as_dict()
        lines = [" ".join(line.split()) for line in (fields.get("text") or "").split("\n")]
        return _Body([RawBlock(BlockKind.BODY, line, "trafilatura", 0) for line in lines if line], "trafilatura")

    # --- the whole page -------------------------------------------------------------------

    def parse(self, html: str, entry_key: str, url: str | None, location: str) -> ParsedDocument:
        if not html.strip():
            raise ParseError(location, "empty HTML document")
        try:
            root = parse_page(html)
        except (etree.ParserError, ValueError) as exc:
            raise ParseError(location, f"not an HTML document: {exc}") from exc
        meta = read_metadata(root, url)
        payload = embedded_article_html(root)
        site = self.site_for(root, url or meta.canonical_url)
        strip_junk(root)
        if site is not None and site.drop:
            for element in select(root, site.drop):
                remove(element)
        site_bodies = [e for e in select(root, site.body) if len(text_of(e)) >= 50] if site and site.body else []
        protected = [*site_bodies, *root.xpath('//*[@itemprop="articleBody"]')]
        prune(root, self.markers, protected)
        order = document_order(root)

        if site_bodies:
            containers, how = site_bodies[:1], "site"
        else:
            containers, how = choose_container(root, self.markers), "container"
        headline = self._headline(root, meta.title)
        if not containers:
            region: Element = root
        elif headline is not None:
            common = lowest_common_ancestor(headline, containers[0])
            region = common if common is not None else root
        else:
            parent = containers[0].getparent()
            region = parent if parent is not None and len(containers) == 1 else containers[0]
            if len(containers) > 1 and parent is not None:
                region = parent

        captions, claimed = self.caption_finder.find(root, region, site, order) if containers else ([], set())
        standfirsts = [
            e for e in self._marked(region, "standfirst", site.standfirst if site else ())
            if 20 <= len(text_of(e)) <= 600 and e not in claimed
        ]  # fmt: skip
        bylines = [
            e for e in self._marked(region, "byline", site.byline if site else ()) if 0 < len(text_of(e)) <= 200
        ]
        datelines = [
            e for e in self._marked(region, "dateline", site.dateline if site else ()) if 0 < len(text_of(e)) <= 80
        ]
        body = self._read_body(containers, order, claimed, standfirsts, bylines, datelines, how) if containers else None

        if body is None or body.chars < MIN_BODY_CHARS:
            fragment = self._fragment_body(payload, "payload") if payload else None
            if fragment is not None and fragment[0].chars > (body.chars if body else 0):
                body, captions = fragment
        if meta.article_body and (body is None or body.chars < MIN_SHARE_OF_ARTICLE_BODY * len(meta.article_body)):
            body = self._json_ld_body(meta.article_body)
        if body is None or body.chars < MIN_BODY_CHARS:
            fallback = self._trafilatura_body(html, url)
            if fallback is not None and fallback.chars > (body.chars if body else 0):
                body = fallback
        blocks = self._assemble(body, captions, standfirsts, order, containers)
        title = text_of(headline) if headline is not None else meta.title
        if not title:
            title = meta.title
        byline_texts = [text_of(e) for e in bylines if parse_date(text_of(e)) is None]
        authors = meta.authors or [a for a in (clean_author(t) for t in byline_texts[:1]) if a]
        body_text = " ".join(b.text for b in blocks if b.kind is BlockKind.BODY and b.boilerplate is None)
        return ParsedDocument(
            blocks=blocks,
            entry_key=entry_key,
            title=title,
            url=url or meta.canonical_url,
            canonical_url=meta.canonical_url,
            published_at=meta.published_at,
            updated_at=meta.updated_at,
            byline=", ".join(authors) if authors else None,
            authors=authors,
            language=decide_language(meta.declared_language, f"{title or ''}\n{body_text}"),
            section=meta.section,
            site=site.name if site else None,
            extraction=body.how if body else None,
        )

    def _assemble(
        self,
        body: _Body | None,
        captions: list[FoundCaption],
        standfirsts: list[Element],
        order: dict[etree._Element, int],
        containers: list[Element],
    ) -> list[ParsedBlock]:
        raw: list[RawBlock] = list(body.blocks) if body else []
        inside = set()
        for container in containers:
            inside.update(container.iter())
        read = {b.text for b in raw if b.kind is BlockKind.SUBTITLE}
        for element in standfirsts[:1]:
            text = text_of(element)
            if element not in inside and text not in read:
                raw.append(RawBlock(BlockKind.SUBTITLE, text, tag_of(element), order.get(element, 0)))
        for caption in captions:
            raw.append(RawBlock(BlockKind.CAPTION, caption.text, caption.origin, caption.position, caption.credit))
        raw.sort(key=lambda b: b.position)  # stable: blocks of one element keep their order
        return [ParsedBlock(b.kind, b.text, b.origin, b.photo_credit, b.boilerplate) for b in raw]
