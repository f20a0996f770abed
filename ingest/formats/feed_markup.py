"""When feedparser's HTML sanitiser (and URI resolver) cannot change the text we take from a feed.

Both rewrite entry HTML with an SGML parser: elements outside feedparser's allow-list lose their
tags (``<script>``/``<style>`` their content too), markup declarations are dropped or escaped,
``&#150;``-style references become their cp1252 characters, unknown entities are escaped, ``<p/>``
becomes ``<p></p>``, attributes are filtered and URIs made absolute. Only the text of entry HTML
reaches an article (``fragment_blocks``), never its attributes, so on markup where none of the
text-changing rewrites applies, the sanitised and the raw HTML give the same blocks, and the two
SGML passes (most of feedparser's time on full-content feeds) can be skipped.

``unchanged_by_sanitising`` accepts only markup made of: text without ``<`` (a ``&`` only as a
known entity, a character reference outside the cp1252 range, or followed by no name); comments
without ``--`` inside; start and end tags of allow-listed elements with well-formed attributes,
``/>`` on void elements only; ``<script>``/``<style>`` with plain text inside; empty
``<iframe>``/``<template>``. Anything else gets feedparser's usual treatment.
"""

from __future__ import annotations

import html.entities
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ingest.formats.fragments import SKIP_TAGS

# Elements feedparser's sanitiser keeps (a subset of its allow-list, checked by a test), with
# those it treats as void (never closed, ``</br>`` dropped).
KEPT_ELEMENTS = frozenset(
    {
        "a", "abbr", "acronym", "address", "area", "article", "aside", "audio", "b", "big", "blockquote",
        "br", "button", "caption", "center", "cite", "code", "col", "colgroup", "dd", "del", "details",
        "dfn", "dir", "div", "dl", "dt", "em", "fieldset", "figcaption", "figure", "font", "footer",
        "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img", "ins", "kbd", "label",
        "legend", "li", "map", "menu", "nav", "noscript", "ol", "p", "pre", "q", "s", "samp", "section",
        "small", "source", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
        "th", "thead", "time", "tr", "tt", "u", "ul", "var", "video",
    }
)  # fmt: skip
# Elements both keep that ``fragment_blocks`` drops with their content.
_SKIPPED_KEPT = SKIP_TAGS & KEPT_ELEMENTS
VOID_ELEMENTS = frozenset({"area", "br", "col", "hr", "img", "source"})
# ``</img>``, ``</hr>``, ... : feedparser drops them and libxml2 ignores them; ``</br>`` it reads as <br>.
# feedparser maps references to these code points to the cp1252 characters they stand for.
_CP1252_CODES = frozenset({128, *range(130, 141), 142, *range(145, 157), 158, 159})
_KNOWN_ENTITIES = frozenset(html.entities.name2codepoint) | {"apos"}
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

_SPACE = "[ \t\n\r\f]"
_VALUE = r"""(?:"[^"<>]*"|'[^'<>]*'|[-.:/A-Za-z0-9_]+)"""
# Printable ASCII without the quote of its own kind, "<", ">", or "&#3" (&#34; and &#39; are
# unescaped before a tag is read).
_ASCII_VALUE = r"""(?:"(?:[ !#-%'-;=?-~]|&(?!#3))*"|'(?:[ -%(-;=?-~]|&(?!#3))*'|[-.:/A-Za-z0-9_]+)"""
_ATTRIBUTES = rf"(?:{_SPACE}+[A-Za-z_][-.:A-Za-z0-9_]*(?:{_SPACE}*={_SPACE}*{_VALUE})?)*"
_MARKUP = re.compile(
    r"<!--(?:(?!--).)*-->"
    # Dropped with their content by both feedparser and ``fragment_blocks`` (a tail joins the text
    # before either way); content without markup, which feedparser would still emit.
    rf"|<(?P<dropped>script|style)(?P<dropped_attributes>{_ATTRIBUTES}){_SPACE}*>[^<&]*</(?P=dropped){_SPACE}*>"
    # feedparser drops the tags and keeps the content, ``fragment_blocks`` drops both: empty only.
    rf"|<(?P<emptied>iframe|template)(?P<emptied_attributes>{_ATTRIBUTES}){_SPACE}*></(?P=emptied){_SPACE}*>"
    rf"|<(?P<end>/)?(?P<name>[A-Za-z][A-Za-z0-9]*)(?P<attributes>{_ATTRIBUTES}){_SPACE}*(?P<slash>/)?>"
    r"|&(?:(?P<entity>[A-Za-z][A-Za-z0-9]*)|#(?P<decimal>[0-9]{1,7})|#[xX](?P<hex>[0-9A-Fa-f]{1,6}));"
    r"|(?P<ampersand>&)(?![A-Za-z#])"  # a bare "&" both read as itself
    r"|[<&]",
    re.DOTALL,
)


# The common case in one pass: text, start and end tags of kept non-void elements (and <br>,
# <img>, <hr> as start tags) with ASCII attributes, the usual entities and references above the
# cp1252 range. It implies every condition of the full check below for markup holding a "<".
_SIMPLE_TAGS = "|".join(sorted(KEPT_ELEMENTS - VOID_ELEMENTS, key=len, reverse=True))
_SIMPLE = re.compile(
    rf"(?:[^<&]++"
    rf"|</?(?i:{_SIMPLE_TAGS})(?:{_SPACE}+[A-Za-z_][-.:A-Za-z0-9_]*(?:{_SPACE}*={_SPACE}*{_ASCII_VALUE})?)*{_SPACE}*>"
    rf"|<(?i:br|img|hr)(?:{_SPACE}+[A-Za-z_][-.:A-Za-z0-9_]*(?:{_SPACE}*={_SPACE}*{_ASCII_VALUE})?)*{_SPACE}*/?>"
    r"|&(?:amp|lt|gt|quot|apos|nbsp|#39|#34|#x27|#[1-9][0-9]{3,6}|#[xX][1-9a-fA-F][0-9a-fA-F]{2,5});)*+"
)


def unchanged_by_sanitising(markup: str, base: str = "") -> bool:
    """True when feedparser's sanitiser and URI resolver would leave the text of ``markup`` alone.

    ``base`` is the URI that relative links would be resolved against.
    """
    if "<" not in markup and "&" not in markup:
        return True
    if "<" in markup and base.isascii() and _SIMPLE.fullmatch(markup) is not None:
        return True
    return full_check(markup, base)


def full_check(markup: str, base: str) -> bool:
    """``unchanged_by_sanitising`` token by token, for markup the one-pass pattern does not take."""
    # Without markup we take the value as text, references and all, so it must stay the same
    # string; with markup only its parse must, and some markup must stay for it to be parsed.
    plain = "<" not in markup
    kept_markup = skipped_kept = dropped = False
    ascii_tags = True
    for match in _MARKUP.finditer(markup):
        if match.group("ampersand") is not None:
            continue
        token = match.group(0)
        attributes = match.group("attributes") or match.group("dropped_attributes") or match.group("emptied_attributes")
        if attributes and "&#3" in attributes:
            return False  # &#34; / &#39; are unescaped before the tag is read
        name = match.group("name")
        if name is not None:
            ascii_tags = ascii_tags and token.isascii()
            name = name.lower()
            if name not in KEPT_ELEMENTS:
                return False
            if match.group("end"):
                if name in ("br", "source") or attributes or match.group("slash"):
                    return False
                if name in VOID_ELEMENTS:
                    dropped = True
                else:
                    kept_markup = True
            elif match.group("slash") and name not in VOID_ELEMENTS:
                return False
            else:
                kept_markup = True
                skipped_kept = skipped_kept or name in _SKIPPED_KEPT
            continue
        entity = match.group("entity")
        if entity is not None:
            if entity not in _KNOWN_ENTITIES:
                return False
            continue
        decimal, hexadecimal = match.group("decimal"), match.group("hex")
        if decimal is not None or hexadecimal is not None:
            code = int(decimal) if decimal is not None else int(hexadecimal, 16)
            if code in _CP1252_CODES:
                return False
            if plain and (decimal in ("39", "34") or token != token.lower()):
                return False  # written back as ' and " or in lower case
            continue
        if token.startswith("<!--"):
            kept_markup = True
        elif match.group("dropped") is not None or match.group("emptied") is not None:
            dropped = True
        else:
            return False  # a "<" or "&" that starts nothing above
    if not plain and not kept_markup:
        return False
    if dropped and skipped_kept:
        # ``fragment_blocks`` drops the first of nested skipped elements and stops looking: a
        # script inside a <nav> would change which elements it drops after.
        return False
    # feedparser decodes a whole value again when it reads as UTF-8 taken for Latin-1. Text the
    # sanitiser keeps as it is decides that alike for both, unless it removes tags next to
    # non-ASCII text or rewrites non-ASCII in tags (or links against a non-ASCII base).
    return markup.isascii() or (not dropped and ascii_tags and base.isascii())


def _markup_values(item: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """The HTML values feedparser sanitises in one feed or entry dictionary, with their base URIs."""
    for part in item.get("content") or []:
        if part.get("type") in HTML_TYPES and isinstance(part.get("value"), str):
            yield part["value"], str(part.get("base") or "")
    for key, detail in item.items():
        if key.endswith("_detail") and isinstance(detail, Mapping) and detail.get("type") in HTML_TYPES:
            for value in (detail.get("value"), item.get(key[: -len("_detail")])):
                if isinstance(value, str):
                    yield value, str(detail.get("base") or "")


def sanitising_changes_nothing(parsed: Mapping[str, Any]) -> bool:
    """True when no HTML value of a feedparser result (parsed without sanitising) would change."""
    items = [parsed.get("feed") or {}, *(parsed.get("entries") or [])]
    return all(unchanged_by_sanitising(value, base) for item in items for value, base in _markup_values(item))
