"""HTML fragments (feed content, summaries) to ordered blocks."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from ingest.documents import BlockKind, ParsedBlock

_BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "figcaption", "dd", "dt"}
SKIP_TAGS = {"script", "style", "noscript", "iframe", "form", "button", "svg", "template", "nav", "aside"}
_BR_SPLIT = re.compile(r"\n\s*\n")


def element_text(element: etree._Element) -> str:
    """All text under ``element``, whitespace collapsed."""
    return " ".join("".join(str(t) for t in element.itertext()).split())


def fragment_blocks(html: str, origin: str = "content") -> list[ParsedBlock]:
    """Split an HTML fragment into body paragraphs and figure captions, in document order."""
    if not html or not html.strip():
        return []
    if "<" not in html:
        return [
            ParsedBlock(BlockKind.BODY, " ".join(chunk.split()), origin=origin)
            for chunk in _BR_SPLIT.split(html)
            if chunk.strip()
        ]
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return []
    for bad in root.iter(*SKIP_TAGS):
        bad.drop_tree() if bad.getparent() is not None else None
    for br in root.iter("br"):
        br.tail = "\n\n" + (br.tail or "")
    blocks: list[ParsedBlock] = []

    def walk(element: etree._Element) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag == "figcaption":
            text = element_text(element)
            if text:
                blocks.append(ParsedBlock(BlockKind.CAPTION, text, origin="figcaption"))
            return
        if tag in _BLOCK_TAGS and not any(
            isinstance(child.tag, str) and child.tag in _BLOCK_TAGS for child in element.iterdescendants()
        ):
            text = element_text(element)
            if text:
                blocks.append(ParsedBlock(BlockKind.BODY, text, origin=tag))
            return
        if element.text and element.text.strip() and tag not in _BLOCK_TAGS:
            for chunk in _BR_SPLIT.split(element.text):
                if chunk.strip():
                    blocks.append(ParsedBlock(BlockKind.BODY, " ".join(chunk.split()), origin=origin))
        for child in element:
            walk(child)
            if child.tail and child.tail.strip():
                for chunk in _BR_SPLIT.split(child.tail):
                    if chunk.strip():
                        blocks.append(ParsedBlock(BlockKind.BODY, " ".join(chunk.split()), origin=origin))

    walk(root)
    return blocks
