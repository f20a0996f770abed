"""Find the story body in a page and read it as ordered blocks.

1. Prune: hidden elements, navigation/aside/footer, and subtrees whose class or id marks them as
   chrome (share bars, related links, newsletter and comment boxes, ads) — never a subtree that
   holds most of the page's paragraph text, whatever its class says.
2. Choose the body container: the site's selector when the site has rules; otherwise the
   element that collects the most paragraph score (Readability's scoring: commas and length of
   each paragraph, given to its parent and, decaying, to its ancestors; discounted by link
   density; raised by content markers), plus siblings that score nearly as well (stories split
   around ads).
3. Read the container in document order: paragraphs, list items, subheads, quotes; text split
   at ``<br>``; link lists and marked chrome inside the body become blocks that carry the reason
   they are chrome, so the cleaner records them as removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from ingest.documents import BlockKind
from ingest.extraction.dom import (
    BLOCK_TAGS,
    FURNITURE_TAGS,
    HEADING_TAGS,
    Element,
    Markers,
    is_hidden,
    link_density,
    remove,
    tag_of,
    text_of,
)

MIN_PARAGRAPH = 25  # characters for a paragraph to score
_COMMAS = re.compile("[,，、،;；]")
_NEVER_PRUNED = frozenset({"html", "body", "main", "article"})
_PARAGRAPH_TAGS = ("p", "pre", "td", "blockquote", "div", "section", "li", "font", "span", "article")
_INLINE_BREAK = "\n"
# A place name and a dash alone on a line: the dateline of the paragraph that follows.
_OPENING_DATELINE = re.compile(r"^[^\W\d][^.!?]{0,40}\s[-–—]{1,2}$")


@dataclass
class RawBlock:
    kind: BlockKind
    text: str
    origin: str
    position: int
    photo_credit: str | None = None
    boilerplate: str | None = None


def _has_block_child(element: Element) -> bool:
    return any(tag_of(d) in BLOCK_TAGS for d in element.iterdescendants())


def paragraph_text_length(element: Element) -> int:
    return sum(len(text_of(p)) for p in element.iter("p"))


def prune(root: Element, markers: Markers, protected: Iterable[Element] = ()) -> None:
    """Remove chrome from ``root`` in place (see the module docstring)."""
    keep: set[Element] = set()
    for element in protected:
        keep.add(element)
        keep.update(element.iterancestors())
    total = paragraph_text_length(root)
    doomed: list[Element] = []
    doomed_set: set[Element] = set()
    for element in root.iter():
        if not isinstance(element.tag, str) or element in keep:
            continue
        tag = tag_of(element)
        if tag in _NEVER_PRUNED:
            continue
        if is_hidden(element) or tag in FURNITURE_TAGS or (
            Markers.matches(markers.boilerplate, element) and not Markers.matches(markers.content, element)
        ):
            # Document order: an ancestor already doomed takes this one with it, so the
            # subtree walks below would be wasted (nested chrome is common).
            if doomed_set and any(a in doomed_set for a in element.iterancestors()):
                continue
            if total and paragraph_text_length(element) > max(1000, total // 2):
                continue  # a wrapper with an unlucky class name: it holds the story
            if _wraps_caption(element, markers):
                continue  # a gallery's "read more" expander around a caption
            doomed.append(element)
            doomed_set.add(element)
    for element in doomed:
        remove(element)


def _wraps_caption(element: Element, markers: Markers) -> bool:
    captions = [
        e for e in element.iter()
        if isinstance(e.tag, str) and (tag_of(e) == "figcaption" or Markers.matches(markers.caption, e))
    ]  # fmt: skip
    if not captions:
        return False
    caption_chars = max(len(text_of(c)) for c in captions)
    return caption_chars > 0 and len(text_of(element)) <= caption_chars * 1.5 + 40


def _own_text(element: Element) -> str:
    """Text of ``element`` that is not inside a block-level child."""
    parts = [element.text or ""]
    for child in element:
        if tag_of(child) not in BLOCK_TAGS:
            parts.append(text_of(child))
        parts.append(child.tail or "")
    return " ".join(" ".join(parts).split())


def _initial_score(element: Element, markers: Markers) -> float:
    tag = tag_of(element)
    score = {"div": 5.0, "article": 8.0, "section": 3.0, "pre": 3.0, "td": 3.0, "blockquote": 3.0}.get(tag, 0.0)
    if tag in ("address", "ol", "ul", "dl", "dd", "dt", "li", "form"):
        score -= 3
    if tag in HEADING_TAGS or tag == "th":
        score -= 5
    if Markers.matches(markers.content, element) or element.get("itemprop") == "articleBody":
        score += 25
    if Markers.matches(markers.boilerplate, element):
        score -= 25
    return score


class _LinkDensities:
    """``link_density`` of the elements of one unchanged tree, each element and link read once.

    Scoring asks for the density of a paragraph's container and of up to five ancestors: without
    this the text of a page's big wrappers and of every link in them is read again for each.
    """

    def __init__(self) -> None:
        self._densities: dict[Element, float] = {}
        self._link_lengths: dict[Element, int] = {}

    def __call__(self, element: Element) -> float:
        density = self._densities.get(element)
        if density is None:
            length = len(text_of(element))
            links = 0
            for link in element.iter("a"):
                link_length = self._link_lengths.get(link)
                if link_length is None:
                    link_length = self._link_lengths[link] = len(text_of(link))
                links += link_length
            density = self._densities[element] = min(1.0, links / length) if length else 0.0
        return density


def score_candidates(root: Element, markers: Markers) -> dict[Element, float]:
    scores: dict[Element, float] = {}
    density_of = _LinkDensities()
    for element in root.iter(*_PARAGRAPH_TAGS):
        tag = tag_of(element)
        if tag in ("div", "section", "li", "font", "span", "article"):
            text = _own_text(element)
        else:
            if tag in ("td", "blockquote") and _has_block_child(element):
                continue
            text = text_of(element)
        if len(text) < MIN_PARAGRAPH:
            continue
        if tag != "p" and density_of(element) > 0.5:
            continue
        value = 1.0 + len(_COMMAS.findall(text)) + min(len(text) / 100.0, 3.0)
        for level, ancestor in enumerate(element.iterancestors()):
            if level > 4 or not isinstance(ancestor.tag, str):
                break
            if ancestor not in scores:
                scores[ancestor] = _initial_score(ancestor, markers)
            scores[ancestor] += value / (1 if level == 0 else 2 if level == 1 else level * 3)
    for element in list(scores):
        scores[element] *= 1.0 - density_of(element)
    return scores


def choose_container(root: Element, markers: Markers) -> list[Element]:
    """The body container and the siblings that belong with it, in document order."""
    scores = score_candidates(root, markers)
    if not scores:
        return []
    top = max(scores, key=lambda e: scores[e])
    top_score = scores[top]
    # A parent that holds the top candidate and scores nearly as well is the better container
    # (the top candidate is then one of several paragraph groups).
    parent = top.getparent()
    while parent is not None and tag_of(parent) not in ("body", "html"):
        if scores.get(parent, 0.0) >= top_score * 0.9 and paragraph_text_length(parent) <= paragraph_text_length(
            top
        ) * 1.6:
            top, top_score = parent, max(top_score, scores[parent])
            parent = top.getparent()
        else:
            break
    parent = top.getparent()
    if parent is None or tag_of(top) in ("body", "html"):
        return [top]
    threshold = max(10.0, top_score * 0.2)
    top_class = top.get("class")
    selected: list[Element] = []
    for sibling in parent:
        if not isinstance(sibling.tag, str):
            continue
        if sibling is top:
            selected.append(sibling)
            continue
        bonus = top_score * 0.2 if top_class and sibling.get("class") == top_class else 0.0
        if scores.get(sibling, 0.0) + bonus >= threshold:
            selected.append(sibling)
        elif tag_of(sibling) == "p":
            text = text_of(sibling)
            density = link_density(sibling, len(text))
            if (len(text) > 80 and density < 0.25) or (0 < len(text) <= 80 and density == 0 and text.endswith(".")):
                selected.append(sibling)
    # Stories cut into several containers of one template with ads or embeds between them
    # (Politico's repeated div.story-text in separate page rows): same tag and class, anywhere.
    if top_class and tag_of(top) not in ("p", "li", "td"):
        inside = {d for element in selected for d in element.iter()}
        for element, score in scores.items():
            if element in inside or element.get("class") != top_class or tag_of(element) != tag_of(top):
                continue
            if score >= threshold * 0.5 and not any(a in inside for a in element.iterancestors()):
                selected.append(element)
                inside.update(element.iter())
        if len(selected) > 1:
            order = {element: index for index, element in enumerate(root.iter())}
            selected.sort(key=lambda e: order.get(e, 0))
    return selected


class BodyReader:
    """Reads a container as ordered blocks (see the module docstring)."""

    def __init__(
        self,
        markers: Markers,
        order: dict[etree._Element, int],
        claimed: set[Element],
        standfirsts: set[Element],
        bylines: set[Element],
        datelines: set[Element],
    ) -> None:
        self.markers = markers
        self.order = order
        self.claimed = claimed
        self.standfirsts = standfirsts
        self.bylines = bylines
        self.datelines = datelines
        self.blocks: list[RawBlock] = []

    def read(self, containers: Iterable[Element]) -> list[RawBlock]:
        for container in containers:
            self._visit(container, top=True)
        merged: list[RawBlock] = []
        for block in self.blocks:
            previous = merged[-1] if merged else None
            if (
                previous is not None
                and previous.kind is BlockKind.BODY is block.kind
                and previous.boilerplate is None is block.boilerplate
                and _OPENING_DATELINE.match(previous.text)
            ):
                previous.text = f"{previous.text} {block.text}"  # "Jakarta -" then the story
                continue
            merged.append(block)
        self.blocks = merged
        return merged

    def _emit(self, text: str, kind: BlockKind, origin: str, element: Element, boilerplate: str | None = None) -> None:
        position = self.order.get(element, 0)
        pending = ""
        for line in text.split(_INLINE_BREAK):
            collapsed = " ".join(line.split())
            if not collapsed:
                continue
            if _OPENING_DATELINE.match(collapsed) and kind is BlockKind.BODY:
                pending = f"{pending} {collapsed}".strip()  # "Jakarta -" <br> story: one paragraph
                continue
            if pending:
                collapsed, pending = f"{pending} {collapsed}", ""
            self.blocks.append(RawBlock(kind, collapsed, origin, position, boilerplate=boilerplate))
        if pending:
            self.blocks.append(RawBlock(kind, pending, origin, position, boilerplate=boilerplate))

    def _visit(self, element: Element, top: bool = False) -> None:
        if not isinstance(element.tag, str) or element in self.claimed:
            return
        tag = tag_of(element)
        if element in self.standfirsts:
            self._emit(text_of(element), BlockKind.SUBTITLE, tag, element)
            return
        if element in self.datelines:
            self._emit(text_of(element), BlockKind.DATELINE, tag, element)
            return
        if element in self.bylines:
            self._emit(text_of(element), BlockKind.BYLINE, tag, element)
            return
        if not top:
            marker = Markers.matches(self.markers.boilerplate, element)
            if marker and not Markers.matches(self.markers.content, element):
                self._emit(text_of(element), BlockKind.BODY, tag, element, boilerplate=f"markup:{marker}")
                return
            if tag in ("ul", "ol", "table", "div", "section", "dl", "p", "li"):
                text = text_of(element)
                density = link_density(element, len(text))
                if text and density > 0.6 and (tag not in ("p", "li") or len(text.split()) <= 25):
                    reason = "link_list" if tag not in ("p", "li") else "link"
                    self._emit(text, BlockKind.BODY, tag, element, boilerplate=reason)
                    return
        if tag in HEADING_TAGS:
            self._emit(text_of(element), BlockKind.TITLE if tag == "h1" else BlockKind.BODY, tag, element)
            return
        if tag in ("figure", "picture", "img", "hr", "br"):
            return  # captions are read apart; images carry no text
        if tag in ("p", "pre", "address", "dd", "dt", "li", "blockquote", "td", "th") and not _has_block_child(element):
            self._emit(_inline_text(element), BlockKind.BODY, tag, element)
            return
        run: list[str] = [element.text or ""]
        for child in element:
            if not isinstance(child.tag, str):
                run.append(child.tail or "")
                continue
            if tag_of(child) == "br":
                run.append(_INLINE_BREAK)
            elif tag_of(child) not in BLOCK_TAGS and not _has_block_child(child) and child not in self.claimed:
                if child in self.datelines or child in self.bylines:
                    self._flush(run, tag, element)
                    run = []
                    self._visit(child)
                else:
                    run.append(_inline_text(child))
            else:
                self._flush(run, tag, element)
                run = []
                self._visit(child)
            run.append(child.tail or "")
        self._flush(run, tag, element)

    def _flush(self, run: list[str], tag: str, element: Element) -> None:
        text = "".join(run)
        if text.strip():
            self._emit(text, BlockKind.BODY, tag, element)


def _inline_text(element: Element) -> str:
    """Text with ``<br>`` kept as line breaks (paragraphs separated by ``<br>`` are common)."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if isinstance(node.tag, str) and tag_of(node) == "br":
            parts.append(_INLINE_BREAK)
        elif isinstance(node.tag, str):
            parts.append(node.text or "")
            for child in node:
                walk(child)
                parts.append(child.tail or "")

    walk(element)
    text = "".join(parts)
    # Whitespace inside a line collapses; line breaks from <br> stay.
    return _INLINE_BREAK.join(" ".join(line.split()) for line in text.split(_INLINE_BREAK))
