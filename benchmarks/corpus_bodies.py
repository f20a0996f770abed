"""Real article text from the corpus's expected outputs (human or project ground truth).

Every story is read from a file that a public project committed as the expected result for a
real page: scrapinghub's ``articleBody``, fundus' parsed body and image captions, the
Indonesian scraper's ``content``, newspaper4k's expected text. Nothing here is written by us.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path


@dataclass(frozen=True)
class Story:
    name: str  # the page's file stem
    language: str
    title: str
    paragraphs: list[str]
    captions: list[str] = field(default_factory=list)
    cluster: str | None = None  # the corpus's same-event (or same-article) cluster tag


_SPLIT = re.compile(r"\n+")


def _clean(paragraphs: list[str]) -> list[str]:
    """Whitespace folded; separators with no letter or digit ("___") dropped."""
    return [" ".join(p.split()) for p in paragraphs if p and any(c.isalnum() for c in p)]


class Corpus:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.pages = root / "pages"

    @cached_property
    def manifest(self) -> dict[str, dict[str, str]]:
        with (self.root / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t")
            return {row["path"]: row for row in reader}

    def _meta(self, stem: str) -> tuple[str, str, str | None]:
        row = self.manifest.get(f"pages/{stem}.html", {})
        description = row.get("description", "")
        cluster = None
        match = re.search(r"dup-cluster=([\w-]+)", description)
        if match:
            cluster = match.group(1)
        title = description.split(": ", 1)[1] if ": " in description else stem
        title = re.sub(r"\s*\[[^\]]*\]\s*$", "", title).strip()
        return row.get("language", "und"), title, cluster

    def stories(self) -> list[Story]:
        found: list[Story] = []
        for path in sorted(self.pages.glob("*.expected.json")):
            stem = path.name[: -len(".expected.json")]
            data = json.loads(path.read_text(encoding="utf-8"))
            language, title, cluster = self._meta(stem)
            paragraphs: list[str] = []
            captions: list[str] = []
            if stem.startswith("aeb__"):
                paragraphs = _SPLIT.split(data.get("articleBody") or "")
            elif stem.startswith("fundus__"):
                body = data.get("body") or {}
                paragraphs = list(body.get("summary") or [])
                for section in body.get("sections") or []:
                    paragraphs.extend(section.get("paragraphs") or [])
                captions = [image.get("caption") or "" for image in data.get("images") or []]
                title = data.get("title") or title
            elif stem.startswith("indo-scraper__") and data.get("content"):
                paragraphs = _SPLIT.split(data["content"])
                title = data.get("title") or title
            else:
                continue
            paragraphs = _clean(paragraphs)
            if len(paragraphs) >= 2:
                found.append(Story(stem, language, title, paragraphs, _clean(captions), cluster))
        for path in sorted(self.pages.glob("newspaper4k__*.expected.txt")):
            stem = path.name[: -len(".expected.txt")]
            language, title, cluster = self._meta(stem)
            metadata = self.pages / f"{stem}.expected-metadata.json"
            if metadata.is_file():
                title = json.loads(metadata.read_text(encoding="utf-8")).get("title") or title
            paragraphs = _clean(_SPLIT.split(path.read_text(encoding="utf-8")))
            if len(paragraphs) >= 2:
                found.append(Story(stem, language, title, paragraphs, [], cluster))
        return found

    def story(self, stem: str) -> Story:
        for story in self.stories():
            if story.name == stem:
                return story
        raise KeyError(f"no story {stem!r} in {self.pages}")

    def by_language(self, language: str) -> list[Story]:
        return [s for s in self.stories() if s.language == language]
