"""IPTC ninjs (news in JSON), 1.x and 2.x: the JSON that wire APIs deliver stories in.

A document is one ninjs object, a JSON array of them, or an object with an ``items`` array.
1.x names: ``headline``, ``body_html``/``body_text``, ``byline``, ``associations`` as an object of
named pictures with ``description_text``. 2.x names: ``headlines``/``bodies``/``descriptions``
arrays with roles, ``by``, ``associations`` as an array.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ingest.documents import BlockKind, ParsedBlock, ParsedDocument
from ingest.errors import ParseError
from ingest.formats.fragments import fragment_blocks
from ingest.urls import canonical_article_url

_NINJS_KEYS = frozenset({"headline", "headlines", "body_html", "body_text", "bodies", "versioncreated"})


def looks_like_ninjs(data: Any) -> bool:
    items = _items(data)
    return bool(items) and all(isinstance(i, Mapping) and "uri" in i and _NINJS_KEYS & set(i) for i in items)


def _items(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, Mapping):
        if isinstance(data.get("items"), list) and "uri" not in data:
            return list(data["items"])
        return [data]
    return []


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _by_role(entries: Any, preferred: Iterable[str]) -> str | None:
    """``[{"role": "main", "value": ...}]``: the value with the first preferred role, else the first."""
    if not isinstance(entries, list):
        return None
    values = [e for e in entries if isinstance(e, Mapping) and isinstance(e.get("value"), str) and e["value"].strip()]
    for role in preferred:
        for entry in values:
            if entry.get("role") == role:
                return str(entry["value"])
    return str(values[0]["value"]) if values else None


def _clean(text: str | None) -> str | None:
    return " ".join(text.split()) if text and text.strip() else None


def _captions(associations: Any) -> list[ParsedBlock]:
    if isinstance(associations, Mapping):
        pictures: list[Any] = list(associations.values())
    elif isinstance(associations, list):
        pictures = associations
    else:
        return []
    blocks: list[ParsedBlock] = []
    for picture in pictures:
        if not isinstance(picture, Mapping) or picture.get("type") not in ("picture", "graphic", None):
            continue
        caption = (
            picture.get("description_text")
            or _by_role(picture.get("descriptions"), ("caption", "summary"))
            or picture.get("body_text")
            or picture.get("headline")
            or _by_role(picture.get("headlines"), ("main",))
        )
        credit = _clean(picture.get("byline") or picture.get("by"))
        holder = _clean(picture.get("copyrightholder"))
        if holder and holder != credit:
            credit = f"{credit}/{holder}" if credit else holder
        caption = _clean(caption if isinstance(caption, str) else None)
        if caption:
            blocks.append(ParsedBlock(BlockKind.CAPTION, caption, origin="ninjs:association", photo_credit=credit))
    return blocks


def _document(item: Mapping[str, Any], location: str) -> ParsedDocument:
    title = _clean(item.get("headline") or _by_role(item.get("headlines"), ("main", "")))
    subtitle = _clean(_by_role(item.get("headlines"), ("sub", "subheadline"))) if "headlines" in item else None
    html = item.get("body_html") or _by_role(
        [b for b in item.get("bodies") or [] if isinstance(b, Mapping) and "html" in str(b.get("contenttype", ""))],
        ("main", ""),
    )
    text = item.get("body_text") or _by_role(
        [b for b in item.get("bodies") or [] if isinstance(b, Mapping) and "html" not in str(b.get("contenttype", ""))],
        ("main", ""),
    )
    blocks: list[ParsedBlock] = []
    if subtitle:
        blocks.append(ParsedBlock(BlockKind.SUBTITLE, subtitle, origin="ninjs:headline"))
    if isinstance(html, str) and html.strip():
        blocks.extend(fragment_blocks(html, origin="ninjs:body_html"))
    elif isinstance(text, str) and text.strip():
        blocks.extend(fragment_blocks(text, origin="ninjs:body_text"))
    else:
        summary = item.get("description_text") or _by_role(item.get("descriptions"), ("summary", ""))
        if isinstance(summary, str):
            blocks.extend(fragment_blocks(summary, origin="ninjs:description"))
    blocks.extend(_captions(item.get("associations")))
    uri = str(item.get("uri") or "").strip()
    url = canonical_article_url(uri) if uri.startswith(("http://", "https://")) else None
    if uri:
        key = "id:" + uri[:480]
    else:
        digest = hashlib.sha256(((title or "") + "\n" + "\n".join(b.text for b in blocks)).encode()).hexdigest()
        key = "hash:" + digest
    byline = _clean(item.get("byline") or item.get("by"))
    credit = _clean(item.get("copyrightholder"))
    agencies: list[str] = []
    for source in item.get("infosources") or []:
        if isinstance(source, Mapping) and _clean(source.get("name")):
            agencies.append(str(_clean(source.get("name"))))
    if credit and not agencies:
        agencies.append(credit)
    language = item.get("language")
    return ParsedDocument(
        blocks=blocks,
        entry_key=key,
        title=title,
        url=url,
        published_at=_date(item.get("firstcreated")) or _date(item.get("versioncreated")),
        updated_at=_date(item.get("versioncreated")),
        byline=byline,
        authors=[byline] if byline else [],
        language=str(language) if isinstance(language, str) else None,
        credit=credit,
        agencies=agencies,
    )


def parse_ninjs(body: bytes, location: str) -> list[ParsedDocument]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(location, f"invalid ninjs JSON: {exc}") from exc
    items = _items(data)
    if not items or not looks_like_ninjs(data):
        raise ParseError(location, "JSON document is not ninjs (no uri with headline or body)")
    documents: list[ParsedDocument] = []
    for item in items:
        if item.get("type") not in (None, "text", "composite"):
            continue  # a picture or video on its own is not a story
        documents.append(_document(item, location))
    return documents
