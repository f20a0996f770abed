"""NITF (News Industry Text Format, IPTC), the XML wire agencies deliver stories in.

One ``<nitf>`` document is one story: ``head/docdata`` identifies and dates it, ``body.head``
holds headline, byline, distributor and dateline, ``body.content`` the paragraphs and ``<media>``
objects whose ``media-caption``/``media-producer`` are photo captions and credits.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from lxml import etree

from ingest.documents import BlockKind, ParsedBlock, ParsedDocument
from ingest.errors import ParseError
from ingest.urls import canonical_article_url


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return " ".join("".join(str(t) for t in element.itertext()).split())


def _find(root: etree._Element, *path: str) -> etree._Element | None:
    """First element along ``path`` of local names, namespaces ignored."""
    current: list[etree._Element] = [root]
    for name in path:
        current = [child for element in current for child in element if _local(child) == name]
        if not current:
            return None
    return current[0]


_NORM_DATE = re.compile(
    r"^(\d{4})-?(\d{2})-?(\d{2})(?:T(\d{2}):?(\d{2}):?(\d{2})?(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def nitf_date(value: str | None) -> datetime | None:
    """NITF ``norm`` dates: ISO 8601 basic (20241104T083000Z, 20241104T083000+0700) or extended."""
    if not value:
        return None
    match = _NORM_DATE.match(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    offset = "+0000" if zone in (None, "Z") else zone.replace(":", "")
    try:
        moment = datetime.strptime(
            f"{year}{month}{day}{hour or '00'}{minute or '00'}{second or '00'}{offset}", "%Y%m%d%H%M%S%z"
        )
    except ValueError:
        return None
    return moment.astimezone(UTC)


def _media_blocks(media: etree._Element) -> list[ParsedBlock]:
    media_type = (media.get("media-type") or "").lower()
    if media_type and media_type not in ("image", "photo", "graphic", "video"):
        return []
    captions = [_text(child) for child in media if _local(child) == "media-caption"]
    credit = next((_text(c) for c in media if _local(c) == "media-producer" and _text(c)), None)
    return [
        ParsedBlock(BlockKind.CAPTION, caption, origin="nitf:media-caption", photo_credit=credit)
        for caption in captions
        if caption
    ]


def _content_blocks(container: etree._Element) -> list[ParsedBlock]:
    blocks: list[ParsedBlock] = []
    for element in container:
        name = _local(element)
        if name == "media":
            blocks.extend(_media_blocks(element))
        elif name == "hl2":
            if _text(element):
                blocks.append(ParsedBlock(BlockKind.SUBTITLE, _text(element), origin="nitf:hl2"))
        elif name in ("block", "ol", "ul"):
            blocks.extend(_content_blocks(element))
        elif name in ("p", "bq", "fn", "pre", "note", "li"):
            text = _text(element)
            if text:
                blocks.append(ParsedBlock(BlockKind.BODY, text, origin=f"nitf:{name}"))
    return blocks


def parse_nitf(body: bytes, location: str) -> ParsedDocument:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(location, f"not well-formed NITF: {exc}") from exc
    if _local(root) != "nitf":
        raise ParseError(location, f"not NITF: the root element is <{_local(root)}>")
    head = _find(root, "head")
    docdata = _find(head, "docdata") if head is not None else None
    body_head = _find(root, "body", "body.head")
    content = _find(root, "body", "body.content")
    body_end = _find(root, "body", "body.end")

    title = _text(_find(body_head, "hedline", "hl1")) if body_head is not None else ""
    if not title and head is not None:
        title = _text(_find(head, "title"))
    blocks: list[ParsedBlock] = []
    hedline = _find(body_head, "hedline") if body_head is not None else None
    if hedline is not None:
        for hl2 in (e for e in hedline if _local(e) == "hl2"):
            if _text(hl2):
                blocks.append(ParsedBlock(BlockKind.SUBTITLE, _text(hl2), origin="nitf:hl2"))
    if content is not None:
        blocks.extend(_content_blocks(content))
    if body_end is not None:
        for tagline in (e for e in body_end if _local(e) == "tagline"):
            if _text(tagline):
                blocks.append(ParsedBlock(BlockKind.BODY, _text(tagline), origin="nitf:tagline"))

    doc_id = None
    published = updated = None
    if docdata is not None:
        id_element = _find(docdata, "doc-id")
        doc_id = (id_element.get("id-string") if id_element is not None else None) or None
        issue = _find(docdata, "date.issue")
        release = _find(docdata, "date.release")
        published = nitf_date(issue.get("norm") if issue is not None else None)
        updated = nitf_date(release.get("norm") if release is not None else None)
    pubdata = _find(head, "pubdata") if head is not None else None
    if published is None and pubdata is not None:
        published = nitf_date(pubdata.get("date.publication"))
    url = pubdata.get("ex-ref") if pubdata is not None else None
    url = canonical_article_url(url) if url and url.startswith(("http://", "https://")) else None

    byline = None
    credit = None
    agencies: list[str] = []
    if body_head is not None:
        byline_element = _find(body_head, "byline")
        if byline_element is not None:
            person = _find(byline_element, "person")
            byline = _text(person) if person is not None else _text(byline_element)
            byline = re.sub(r"^(?:by|oleh)\s+", "", byline, flags=re.IGNORECASE) or None
        distributor = _find(body_head, "distributor")
        if distributor is not None and _text(distributor):
            credit = _text(distributor)
            agencies.append(credit)
    if credit is None and docdata is not None:
        copyright_element = _find(docdata, "doc.copyright")
        holder = copyright_element.get("holder") if copyright_element is not None else None
        credit = holder or None

    if doc_id:
        key = "id:" + doc_id[:480]
    elif url:
        key = "url:" + url[:480]
    else:
        text = title + "\n" + "\n".join(b.text for b in blocks)
        key = "hash:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    language = root.get("{http://www.w3.org/XML/1998/namespace}lang")
    return ParsedDocument(
        blocks=blocks,
        entry_key=key,
        title=title or None,
        url=url,
        published_at=published,
        updated_at=updated,
        byline=byline,
        authors=[byline] if byline else [],
        language=language,
        credit=credit,
        agencies=agencies,
    )
