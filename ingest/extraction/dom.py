"""Small helpers over lxml trees: parsing, text, class/id markers, CSS selectors."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import TypeAlias, cast

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector, SelectorError

from config import MarkupRules

Element: TypeAlias = lxml.html.HtmlElement

# Removed before anything is read: never text a reader sees as the story.
JUNK_TAGS = (
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed", "canvas",
    "form", "button", "input", "select", "textarea", "option", "link", "meta", "head", "audio", "video",
    "source", "track", "map", "dialog", "rt", "rp",
)  # fmt: skip
# Page regions that hold navigation and site furniture, not story text.
FURNITURE_TAGS = ("nav", "aside", "footer")
BLOCK_TAGS = frozenset(
    {
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd", "dt", "figcaption",
        "td", "th", "address", "div", "section", "article", "main", "header", "ul", "ol", "dl", "table",
        "tr", "tbody", "thead", "tfoot", "figure", "center", "hr", "details", "summary", "body", "html",
        "aside", "nav", "footer", "caption", "picture",
    }
)  # fmt: skip
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Characters XML (and so lxml) cannot hold; damaged pages carry them, browsers ignore them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def parse_page(html: str) -> Element:
    """Parse a whole page; raises ``etree.ParserError``/``ValueError`` on non-HTML input."""
    html = _NOT_XML.sub("", html)
    # lxml refuses str input that carries an XML encoding declaration.
    if html.lstrip().startswith("<?xml"):
        html = html.split("?>", 1)[1] if "?>" in html else html
    return lxml.html.document_fromstring(html)


def tag_of(element: etree._Element) -> str:
    return element.tag.lower() if isinstance(element.tag, str) else ""


def text_of(element: etree._Element) -> str:
    """All text under ``element``, whitespace collapsed."""
    # lxml.html yields str only (the stubs also allow bytes); no per-piece str() call.
    return " ".join("".join(cast("Iterator[str]", element.itertext())).split())


def link_text_length(element: etree._Element) -> int:
    return sum(len(text_of(a)) for a in element.iter("a"))


def link_density(element: etree._Element, text_length: int | None = None) -> float:
    length = len(text_of(element)) if text_length is None else text_length
    return min(1.0, link_text_length(element) / length) if length else 0.0


def marker_string(class_: str | None, id_: str | None) -> str:
    """Class and id, camelCase and snake_case split into dash-separated lower-case words."""
    raw = f"{class_ or ''} {id_ or ''}".strip()
    if not raw:
        return ""
    return _CAMEL.sub("-", raw).replace("_", "-").lower()


# Pages repeat a few hundred class/id values over thousands of elements, and each marker pattern is
# an alternation of dozens of regexes: one search per distinct value, not per element (bounded, so a
# long-running daemon that sees many sites keeps a fixed size).
@lru_cache(maxsize=1 << 16)
def _marker_match(pattern: re.Pattern[str], class_: str | None, id_: str | None) -> str | None:
    markers = marker_string(class_, id_)
    if not markers:
        return None
    match = pattern.search(markers)
    return match.group(0) if match else None


def is_hidden(element: etree._Element) -> bool:
    # aria-hidden is not hiding: sites set it on captions that repeat an image's alt text.
    if element.get("hidden") is not None:
        return True
    style = element.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def remove(element: etree._Element) -> None:
    """Remove ``element`` and its subtree, keeping the text that follows it."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def strip_junk(root: Element) -> None:
    for element in list(root.iter(*JUNK_TAGS)):
        remove(element)
    for element in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        remove(element)


def document_order(root: etree._Element) -> dict[etree._Element, int]:
    return {element: index for index, element in enumerate(root.iter())}


@lru_cache(maxsize=512)
def _compiled(selector: str) -> CSSSelector:
    return CSSSelector(selector, translator="html")


def select(root: etree._Element, selectors: Iterable[str]) -> list[Element]:
    """Elements matching any of ``selectors`` (CSS), in document order, without repeats."""
    found: list[Element] = []
    seen: set[int] = set()
    for selector in selectors:
        try:
            matches = _compiled(selector)(root)
        except SelectorError:
            continue  # a bad selector in a rule file must not stop extraction; tests load every rule
        for element in matches if isinstance(matches, list) else []:
            if id(element) not in seen:
                seen.add(id(element))
                found.append(element)
    return found


def check_selector(selector: str) -> str | None:
    """None when ``selector`` is valid CSS, else the reason."""
    try:
        _compiled(selector)
    except SelectorError as exc:
        return str(exc)
    return None


class Markers:
    """The markup rules, compiled: what a class/id says an element is."""

    def __init__(self, rules: MarkupRules) -> None:
        self.boilerplate = _union(rules.boilerplate)
        self.content = _union(rules.content)
        self.caption = _union(rules.caption)
        self.photo_credit = _union(rules.photo_credit)
        self.standfirst = _union(rules.standfirst)
        self.byline = _union(rules.byline)
        self.dateline = _union(rules.dateline)
        self.image_box = _union(rules.image_box)

    @staticmethod
    def matches(pattern: re.Pattern[str] | None, element: etree._Element) -> str | None:
        if pattern is None:
            return None
        class_, id_ = element.get("class"), element.get("id")
        if not class_ and not id_:
            return None
        return _marker_match(pattern, class_, id_)


def _union(fragments: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern that finds what the first matching fragment finds.

    Runs of fragments that open with ``\\b`` share one ``\\b(?:...)``: the same matches in the same
    order of preference (``\\b`` takes no characters), and Python's engine searches the grouped
    form several times faster (7x on the 70 boilerplate fragments, over the corpus's class/id values).
    """
    if not fragments:
        return None
    parts: list[str] = []
    run: list[str] = []
    for fragment in fragments:
        if fragment.startswith("\\b") and not _top_level_alternation(fragment):
            run.append(f"(?:{fragment[2:]})")
            continue
        if run:
            parts.append("\\b(?:" + "|".join(run) + ")")
            run = []
        parts.append(f"(?:{fragment})")
    if run:
        parts.append("\\b(?:" + "|".join(run) + ")")
    return re.compile("|".join(parts))


def _top_level_alternation(fragment: str) -> bool:
    """Whether ``fragment`` has a ``|`` outside any group or character class (``\\ba|b``)."""
    depth, index, in_class = 0, 0, False
    while index < len(fragment):
        char = fragment[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if fragment[index + 1 : index + 2] == "]" or fragment[index + 1 : index + 3] == "^]":
                index += 2 if fragment[index + 1] == "]" else 3  # "[]...]", "[^]...]": "]" is literal here
                continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        index += 1
    return False


def ancestors_and_self(element: etree._Element) -> Iterator[etree._Element]:
    yield element
    yield from element.iterancestors()


def lowest_common_ancestor(first: etree._Element, second: etree._Element) -> etree._Element | None:
    seen = set(ancestors_and_self(first))
    return next((a for a in ancestors_and_self(second) if a in seen), None)
