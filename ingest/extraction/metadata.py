"""Page metadata: canonical URL, title, dates, authors, section, declared language.

Sources, best first: schema.org JSON-LD (what publishers fill for search engines), OpenGraph and
``article:*`` meta tags, other meta tags (Dublin Core, ``byl``, ``pubdate``), microdata, the
``<time>`` elements, then the visible page.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

from dateutil import parser as date_parser
from lxml import etree

from ingest.extraction.dom import Element, text_of

_ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "liveblogposting", "report", "webpage",
    "socialmediaposting", "scholarlyarticle", "techarticle", "advertisercontentarticle", "satiricalarticle",
}  # fmt: skip
_LANGUAGE_ALIASES = {"in": "id", "iw": "he", "ji": "yi", "jw": "jv", "mo": "ro", "zh-cn": "zh", "zh-tw": "zh"}
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»]\s+")


@dataclass
class PageMetadata:
    title: str | None = None
    headline: str | None = None  # the on-page h1
    canonical_url: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    authors: list[str] = field(default_factory=list)
    section: str | None = None
    declared_language: str | None = None
    site_name: str | None = None
    description: str | None = None
    article_body: str | None = None  # JSON-LD articleBody, when the publisher gives it
    image_captions: list[str] = field(default_factory=list)


def parse_date(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if not re.search(r"\d{4}", text):
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # unknown zone names ("EET"): read as UTC below
                    parsed = date_parser.parse(text, fuzzy=False)
            except (ValueError, OverflowError, TypeError):
                return None
    if parsed.year < 1990 or parsed.year > 2100:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def language_code(value: str | None) -> str | None:
    """``id-ID`` -> ``id``, ``in`` (the old code for Indonesian) -> ``id``, ``en_US`` -> ``en``."""
    if not value:
        return None
    cleaned = value.strip().replace("_", "-").lower()
    if not cleaned or not re.match(r"^[a-z]{2,3}(?:-|$)", cleaned):
        return None
    if cleaned in _LANGUAGE_ALIASES:
        return _LANGUAGE_ALIASES[cleaned]
    primary = cleaned.split("-")[0]
    return _LANGUAGE_ALIASES.get(primary, primary)


def _json_ld_objects(root: Element) -> Iterator[dict[str, Any]]:
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            try:
                data = json.loads(re.sub(r"[\x00-\x1f]", " ", raw))  # raw newlines inside strings
            except ValueError:
                continue
        stack: list[Any] = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)


def _types(item: dict[str, Any]) -> set[str]:
    value = item.get("@type")
    values = value if isinstance(value, list) else [value]
    return {str(v).lower() for v in values if v}


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [name for v in value for name in _names(v)]
    return []


def _first_text(value: Any) -> str | None:
    if isinstance(value, str):
        text = " ".join(value.split())
        return text or None
    if isinstance(value, list):
        return next((t for t in (_first_text(v) for v in value) if t), None)
    if isinstance(value, dict):
        return _first_text(value.get("name") or value.get("@id"))
    return None


def _meta(root: Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for meta in root.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        content = meta.get("content")
        if key and content and content.strip() and key not in found:
            found[key] = " ".join(content.split())
    return found


def clean_author(name: str) -> str | None:
    text = " ".join(name.split()).strip(" ,;|")
    text = re.sub(r"^(?:by|oleh|von|par|por|di|door)\s*:?\s+", "", text, flags=re.IGNORECASE)
    if not text or len(text) > 80 or text.startswith(("http://", "https://")) or "@" in text:
        return None
    return text


def _split_authors(value: str) -> list[str]:
    parts = re.split(r"\s*(?:,|;|\band\b|\bdan\b|&)\s*", value)
    return [a for a in (clean_author(p) for p in parts) if a]


def strip_site_name(title: str, site_name: str | None) -> str:
    """``Headline | Site`` -> ``Headline``; keeps the longest part when the site is unknown."""
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) == 1:
        return title
    if site_name:
        folded = site_name.casefold()
        kept = [p for p in parts if p.casefold() not in folded and folded not in p.casefold()]
        if kept:
            return " - ".join(kept) if len(kept) > 1 else kept[0]
    return max(parts, key=len)


def read_metadata(root: Element, url: str | None) -> PageMetadata:
    meta = _meta(root)
    data = PageMetadata()
    article: dict[str, Any] | None = None
    for item in _json_ld_objects(root):
        types = _types(item)
        is_article = bool(types & _ARTICLE_TYPES and (item.get("headline") or item.get("articleBody")))
        if is_article and (article is None or "webpage" in _types(article)):
            article = item
    if article is not None:
        data.title = _first_text(article.get("headline"))
        data.published_at = parse_date(article.get("datePublished") or article.get("dateCreated"))
        data.updated_at = parse_date(article.get("dateModified"))
        data.authors = [a for a in (clean_author(n) for n in _names(article.get("author"))) if a]
        data.section = _first_text(article.get("articleSection"))
        data.declared_language = language_code(_first_text(article.get("inLanguage")))
        body = article.get("articleBody")
        data.article_body = body.strip() if isinstance(body, str) and body.strip() else None
        images = article.get("image")
        for image in images if isinstance(images, list) else [images]:
            if isinstance(image, dict) and isinstance(image.get("caption"), str) and image["caption"].strip():
                data.image_captions.append(" ".join(image["caption"].split()))
        entity = article.get("mainEntityOfPage")
        if isinstance(entity, dict):
            entity = entity.get("@id") or entity.get("url")
        if isinstance(entity, str) and entity.startswith("http"):
            data.canonical_url = entity

    canonical = next(
        (link.get("href") for link in root.iter("link") if "canonical" in (link.get("rel") or "").lower().split()),
        None,
    )
    if canonical and canonical.strip():
        data.canonical_url = _resolved(url, canonical.strip()) or data.canonical_url
    elif meta.get("og:url"):
        data.canonical_url = data.canonical_url or _resolved(url, meta["og:url"])

    data.site_name = meta.get("og:site_name") or meta.get("application-name")
    data.description = meta.get("og:description") or meta.get("description")
    data.title = data.title or meta.get("og:title") or meta.get("twitter:title") or meta.get("title")
    if not data.title:
        title_element = root.find(".//title")
        if title_element is not None and text_of(title_element):
            data.title = strip_site_name(text_of(title_element), data.site_name)
    elif data.site_name:
        data.title = strip_site_name(data.title, data.site_name)

    data.published_at = data.published_at or _first_date(
        meta, "article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
        "publish-date", "date", "dc.date", "dc.date.issued", "dcterms.created", "sailthru.date",
        "parsely-pub-date", "article.published", "content_publishdate", "originalpublicationdate",
    )  # fmt: skip
    data.updated_at = data.updated_at or _first_date(
        meta, "article:modified_time", "og:updated_time", "datemodified", "lastmod", "last-modified",
        "dc.date.modified", "dcterms.modified", "article.updated",
    )  # fmt: skip
    if data.published_at is None:
        for time_element in root.iter("time"):
            parsed = parse_date(time_element.get("datetime"))
            if parsed:
                data.published_at = parsed
                break
    if not data.authors:
        for key in ("author", "article:author", "byl", "dc.creator", "parsely-author", "sailthru.author"):
            value = meta.get(key)
            if value and not value.startswith("http"):
                data.authors = _split_authors(value)
                if data.authors:
                    break
    if not data.authors:
        for element in root.xpath('//*[@itemprop="author"]|//*[@rel="author"]'):
            name_element = element.find('.//*[@itemprop="name"]')
            name = clean_author(text_of(name_element if name_element is not None else element))
            if name and name not in data.authors:
                data.authors.append(name)
    data.section = data.section or meta.get("article:section") or meta.get("section")

    html = root if root.tag == "html" else root.getroottree().getroot()
    data.declared_language = (
        language_code(html.get("lang") or html.get("{http://www.w3.org/XML/1998/namespace}lang"))
        or data.declared_language
        or language_code(meta.get("og:locale"))
        or language_code(meta.get("content-language") or meta.get("language") or meta.get("dc.language"))
        or _http_equiv_language(root)
    )
    return data


def _http_equiv_language(root: Element) -> str | None:
    for meta in root.iter("meta"):
        if (meta.get("http-equiv") or "").lower() == "content-language":
            return language_code(meta.get("content"))
    return None


def _first_date(meta: dict[str, str], *keys: str) -> datetime | None:
    for key in keys:
        parsed = parse_date(meta.get(key))
        if parsed:
            return parsed
    return None


def is_element(node: object) -> bool:
    return isinstance(node, etree._Element) and isinstance(node.tag, str)


def _resolved(base: str | None, href: str) -> str | None:
    """``href`` against the page URL, or None when either is not a URL Python can parse.

    A page may declare ``http://[::1`` as its canonical URL, and ``urljoin`` raises on it: a
    malformed declaration is not the page's address, so it is dropped rather than failing the page.
    """
    try:
        return urljoin(base or "", href)
    except ValueError:
        return None

