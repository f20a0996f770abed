"""Article HTML that a page carries inside its scripts instead of its markup.

Sites built with Next.js render the story from data shipped in ``<script id="__NEXT_DATA__">``
(JSON) or in ``self.__next_f.push([1, "..."])`` calls (React Server Components); a page saved
without running its scripts then has an empty body. The story's HTML is in those strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ingest.extraction.dom import Element

_NEXT_F_PUSH = re.compile(r'self\.__next_f\.push\(\[1,\s*"((?:[^"\\]|\\.)*)"\]\)', re.DOTALL)
_PARAGRAPH = re.compile(r"<p[\s>]", re.IGNORECASE)
MIN_PARAGRAPHS = 3


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def embedded_article_html(root: Element) -> str | None:
    """The largest HTML fragment with paragraphs found in the page's script data, or None."""
    fragments: list[str] = []
    for script in root.iter("script"):
        text = script.text or ""
        if script.get("id") == "__NEXT_DATA__":
            try:
                data = json.loads(text)
            except ValueError:
                continue
            fragments.extend(s for s in _strings(data) if len(_PARAGRAPH.findall(s)) >= 1)
        elif "__next_f" in text:
            for match in _NEXT_F_PUSH.finditer(text):
                try:
                    fragments.append(json.loads(f'"{match.group(1)}"'))
                except ValueError:
                    continue
    if not fragments:
        return None
    # Server-component chunks split one document across pushes: join them, then keep the
    # lines that carry HTML (the rest is the framework's own data), each cut to its markup.
    spans: list[str] = []
    for line in "\n".join(fragments).split("\n"):
        if not _PARAGRAPH.search(line):
            continue
        start, end = line.find("<"), line.rfind(">")
        if 0 <= start < end:
            spans.append(line[start : end + 1])
    joined = "\n".join(spans)
    if len(_PARAGRAPH.findall(joined)) < MIN_PARAGRAPHS:
        return None
    return f"<div>{joined}</div>"
