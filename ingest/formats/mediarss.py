"""Photo captions and credits of feed entries: Media RSS, enclosures and Atom enclosure links.

feedparser flattens Media RSS: a ``media:description`` lands in ``content`` or even ``summary``
depending on where it appears, ``media:title`` competes with the entry title, and the pairing of a
description with its credit and its image is lost. We read those elements ourselves with libxml2
(recovering from broken XML) and keep each caption with its credit; the feed parser then knows
which ``content`` parts are captions and keeps them out of the body.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

MEDIA_NAMESPACES = frozenset({"http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss"})
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
_ITEM_NAMES = frozenset({"item", "entry"})
_CAPTION_ELEMENTS = ("description", "title", "text")


@dataclass(frozen=True)
class MediaCaption:
    text: str
    credit: str | None = None
    media_url: str | None = None


@dataclass
class EntryMedia:
    """Captions of one entry, with the identifiers used to match it to feedparser's entry."""

    guid: str | None
    link: str | None
    title: str | None
    captions: list[MediaCaption] = field(default_factory=list)
    # Credits of the entry's photos that have no caption, each once, none already on a caption.
    uncaptioned_credits: list[str] = field(default_factory=list)


def _local(element: etree._Element) -> tuple[str | None, str]:
    tag = element.tag
    if not isinstance(tag, str):
        return None, ""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    # lxml's recovering parser keeps an undeclared prefix in the name ("content:encoded"), a name
    # etree.QName refuses: such an element is in no namespace and keeps its whole name.
    return None, tag


def _is_media(element: etree._Element, name: str | None = None) -> bool:
    namespace, local = _local(element)
    return namespace in MEDIA_NAMESPACES and (name is None or local == name)


def _text(element: etree._Element) -> str:
    raw = "".join(str(t) for t in element.itertext())
    if (element.get("type") or "").lower() == "html" and "<" in raw:
        with contextlib.suppress(etree.ParserError, ValueError):
            raw = lxml.html.fragment_fromstring(raw, create_parent="div").text_content()
    return " ".join(raw.split())


def _child_text(element: etree._Element, name: str) -> str | None:
    for child in element:
        if _is_media(child, name):
            text = _text(child)
            if text:
                return text
    return None


def _caption_of(element: etree._Element, entry_title: str | None) -> str | None:
    description = _child_text(element, "description")
    if description:
        return description
    for name in ("title", "text"):
        text = _child_text(element, name)
        # A media:title that only repeats the headline is not a caption.
        if text and text != entry_title:
            return text
    return None


def _entry_media(item: etree._Element) -> EntryMedia:
    guid = link = title = None
    for child in item:
        namespace, local = _local(child)
        if namespace in MEDIA_NAMESPACES:
            continue
        if local in ("guid", "id") and guid is None:
            guid = " ".join("".join(str(t) for t in child.itertext()).split()) or None
        elif local == "title" and title is None:
            title = " ".join("".join(str(t) for t in child.itertext()).split()) or None
        elif local == "link":
            rel = child.get("rel") or "alternate"
            if child.get("href") and rel == "alternate" and link is None:
                link = child.get("href")
            elif not child.get("href") and link is None:
                link = " ".join("".join(str(t) for t in child.itertext()).split()) or None
    media = EntryMedia(guid=guid, link=link, title=title)
    seen: set[str] = set()
    loose_credits: list[str] = []

    def add(text: str | None, credit: str | None, url: str | None) -> None:
        if text and text not in seen:
            seen.add(text)
            media.captions.append(MediaCaption(text, credit, url))
        elif not text and credit:
            loose_credits.append(credit)

    item_caption = _caption_of(item, title)
    item_credit = _child_text(item, "credit")
    contents = list(_media_contents(item))
    if item_caption:
        first_url = contents[0][0].get("url") if contents else None
        credits = [item_credit] + [_child_text(c, "credit") for c, _ in contents]
        add(item_caption, next((c for c in credits if c), None), first_url)
    for content, group in contents:
        text = _caption_of(content, title) or (_caption_of(group, title) if group is not None else None)
        credit = _child_text(content, "credit") or (_child_text(group, "credit") if group is not None else None)
        add(text, credit or item_credit, content.get("url"))
    for child in item:
        namespace, local = _local(child)
        # Atom enclosures may carry their caption in the title attribute.
        if namespace == ATOM_NAMESPACE and local == "link" and child.get("rel") == "enclosure":
            add(" ".join((child.get("title") or "").split()) or None, item_credit, child.get("href"))
    if item_credit and not media.captions:
        loose_credits.append(item_credit)
    on_captions = {c.credit for c in media.captions}
    media.uncaptioned_credits = [c for c in dict.fromkeys(loose_credits) if c not in on_captions]
    return media


def _media_contents(item: etree._Element) -> Iterator[tuple[etree._Element, etree._Element | None]]:
    for child in item:
        if _is_media(child, "content"):
            yield child, None
        elif _is_media(child, "group"):
            for grandchild in child:
                if _is_media(grandchild, "content"):
                    yield grandchild, child


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def media_of_entries(body: bytes, encoding: str | None = None) -> list[EntryMedia]:
    """The captions of every ``item``/``entry`` in document order; [] when nothing can be read.

    Bytes that are valid UTF-8 are read as UTF-8 whatever the XML declaration says (a feed that
    declares ISO-8859-1 but is UTF-8 must not give mojibake credits); others use ``encoding``,
    the one feedparser settled on.
    """
    if b"mrss" not in body and b"enclosure" not in body:
        return []
    text_encoding: str | None = None
    try:
        # Valid UTF-8 with non-ASCII bytes is UTF-8 whatever the label says (the usual mislabel).
        body.decode("utf-8")
        text_encoding = "utf-8"
    except UnicodeDecodeError:
        if encoding:
            try:
                text_encoding = codecs.lookup(encoding).name
            except LookupError:
                text_encoding = None
    if text_encoding is not None:
        text = _XML_DECLARATION.sub("", body.decode(text_encoding, errors="replace").lstrip("\ufeff"), count=1)
        body = text.encode("utf-8")
    parser = etree.XMLParser(
        recover=True,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        encoding="utf-8" if text_encoding is not None else None,
    )
    try:
        root = etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root is None:
        return []
    return [_entry_media(element) for element in root.iter() if _local(element)[1] in _ITEM_NAMES]
