"""Language- and site-specific cleaning rules, read from ``config/rules/``.

- ``config/rules/*.toml``: one file per language (plus ``common.toml``); every file contributes to
  one merged rule set, lists are concatenated, tables merged. ``markup.toml`` holds the
  ``[markup]`` table: class/id fragments that tell what a part of a page is.
- ``config/rules/sites/*.toml``: one file per site or CMS (``pangea.toml`` for VOA's sites): the
  domains it covers, CSS selectors for its story body, captions and chrome, and lexicon entries
  that hold on that site only.

Rules are plain data: the code that applies them lives in ``ingest`` (extraction, caption cues,
credit lines) and ``dedupe`` (boilerplate lexicons).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.settings import ConfigError

_TEXT_LISTS = (
    "chrome_lines",
    "dangling_labels",
    "promo_prefixes",
    "caption_prefixes",
    "caption_position_words",
    "month_names",
    "credit_patterns",
    "dateline_patterns",
    "photo_credit_patterns",
    "trailer_patterns",
    "byline_patterns",
)


@dataclass(frozen=True)
class MarkupRules:
    """Regular-expression fragments matched (case-insensitively) against an element's class and id."""

    # Subtrees that are never the story: share bars, related links, newsletter boxes, ads.
    boilerplate: tuple[str, ...] = ()
    # Containers that hold the story body ("article-body", "entry-content").
    content: tuple[str, ...] = ()
    # Caption text of a photo ("caption", "wp-caption-text").
    caption: tuple[str, ...] = ()
    # Photo credit inside a caption ("credit", "copyright").
    photo_credit: tuple[str, ...] = ()
    # Standfirst / dek / lead under the headline.
    standfirst: tuple[str, ...] = ()
    # Byline and date lines.
    byline: tuple[str, ...] = ()
    # Datelines set apart from the text ("AUBURN, Wash. —").
    dateline: tuple[str, ...] = ()
    # Boxes around one image ("img-box", "foto"): their short text is the caption.
    image_box: tuple[str, ...] = ()


@dataclass(frozen=True)
class SiteRules:
    """What one site or CMS needs beyond the general rules."""

    name: str
    # Host names (and their subdomains) the rules hold for.
    domains: tuple[str, ...] = ()
    # CSS selectors; a page where one matches is treated as this site whatever its host.
    detect: tuple[str, ...] = ()
    # CSS selectors of the story body, tried in order; the first that matches is the body.
    body: tuple[str, ...] = ()
    title: tuple[str, ...] = ()
    standfirst: tuple[str, ...] = ()
    byline: tuple[str, ...] = ()
    dateline: tuple[str, ...] = ()
    # Caption elements (in addition to figcaption and the markup rules).
    captions: tuple[str, ...] = ()
    # Photo credit elements inside captions.
    photo_credits: tuple[str, ...] = ()
    # Elements removed before anything else (chrome inside the body).
    drop: tuple[str, ...] = ()
    # The site's own lexicon, applied on its pages only.
    chrome_lines: frozenset[str] = frozenset()
    dangling_labels: frozenset[str] = frozenset()
    promo_prefixes: tuple[str, ...] = ()
    credit_patterns: tuple[str, ...] = ()

    def covers(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.domains)


@dataclass(frozen=True)
class CleaningRules:
    # Whole blocks that are site chrome wherever they appear ("Breaking News", "Share this").
    chrome_lines: frozenset[str] = frozenset()
    # Short labels left dangling when the thing they label was not scraped ("Sumber", "Source").
    dangling_labels: frozenset[str] = frozenset()
    # Prefixes that open "read also" style promos; the whole block goes.
    promo_prefixes: tuple[str, ...] = ()
    # File-photo prefixes that mark a caption ("FILE –", "ARSIP –").
    caption_prefixes: tuple[str, ...] = ()
    # Words that say where a person is in a photo ("kanan", "(left)").
    caption_position_words: frozenset[str] = frozenset()
    # Month names of every language, lower-cased, for "18 Oktober 2024." at a caption's end.
    month_names: frozenset[str] = frozenset()
    # Regular expressions that match a whole credit / wire attribution line.
    credit_patterns: tuple[str, ...] = ()
    # Regular expressions for a dateline credit at the start of the first paragraph ("(AP) —").
    dateline_patterns: tuple[str, ...] = ()
    # Agency name as written -> canonical short name ("Agence France-Presse" -> "AFP").
    agency_aliases: dict[str, str] = field(default_factory=dict)
    # Regular expressions matching a photo credit at the end of a caption; group ``credit`` is kept.
    photo_credit_patterns: tuple[str, ...] = ()
    # Regular expressions for a whole short block that closes a story: editors' initials
    # ("(fyk/ash)"), "Editor: ...", "Copyright ...".
    trailer_patterns: tuple[str, ...] = ()
    # Regular expressions for a whole byline or production-credit block ("By Jane Doe", "Editor: ...").
    byline_patterns: tuple[str, ...] = ()
    markup: MarkupRules = field(default_factory=MarkupRules)
    sites: tuple[SiteRules, ...] = ()

    def site_named(self, name: str | None) -> SiteRules | None:
        return next((s for s in self.sites if s.name == name), None) if name else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"rules file {path}: {exc}") from exc


def _strings(path: Path, key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"rules file {path}: {key!r} must be a list of strings")
    return list(value)


def _markup(path: Path, table: Any, into: dict[str, list[str]]) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"rules file {path}: [markup] must be a table")
    known = {f.name for f in MarkupRules.__dataclass_fields__.values()}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"rules file {path}: unknown markup key {key!r} (known: {sorted(known)})")
        into.setdefault(key, []).extend(_strings(path, f"markup.{key}", value))


def load_site_rules(path: Path) -> SiteRules:
    data = _read_toml(path)
    known = set(SiteRules.__dataclass_fields__) - {"name"}
    unknown = set(data) - known - {"name"}
    if unknown:
        raise ConfigError(f"site rules {path}: unknown keys {sorted(unknown)} (known: {sorted(known)})")
    values: dict[str, Any] = {}
    for key in known:
        items = _strings(path, key, data.get(key, []))
        if key in ("chrome_lines", "dangling_labels"):
            values[key] = frozenset(v.casefold().strip() for v in items)
        elif key == "promo_prefixes":
            values[key] = tuple(v.casefold() for v in items)
        elif key == "domains":
            values[key] = tuple(v.lower().strip().lstrip(".") for v in items)
        else:
            values[key] = tuple(items)
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"site rules {path}: name must be a non-empty string")
    if not values["domains"] and not values["detect"]:
        raise ConfigError(f"site rules {path}: give domains or detect selectors, or the rules never apply")
    return SiteRules(name=name, **values)


def load_cleaning_rules(rules_dir: str | Path) -> CleaningRules:
    directory = Path(rules_dir)
    if not directory.is_dir():
        raise ConfigError(f"rules folder not found: {directory}")
    lists: dict[str, list[str]] = {}
    markup: dict[str, list[str]] = {}
    aliases: dict[str, str] = {}
    for path in sorted(directory.glob("*.toml")):
        for key, value in _read_toml(path).items():
            if key == "agency_aliases":
                if not isinstance(value, dict):
                    raise ConfigError(f"rules file {path}: agency_aliases must be a table")
                aliases.update({str(k): str(v) for k, v in value.items()})
            elif key == "markup":
                _markup(path, value, markup)
            elif key in _TEXT_LISTS:
                lists.setdefault(key, []).extend(_strings(path, key, value))
            else:
                raise ConfigError(f"rules file {path}: unknown key {key!r}")
    sites_dir = directory / "sites"
    sites = tuple(load_site_rules(p) for p in sorted(sites_dir.glob("*.toml"))) if sites_dir.is_dir() else ()
    names = [s.name for s in sites]
    if len(set(names)) != len(names):
        raise ConfigError(f"site rules in {sites_dir}: two files use the same name")

    def lowered(name: str) -> frozenset[str]:
        return frozenset(v.casefold().strip() for v in lists.get(name, []))

    return CleaningRules(
        chrome_lines=lowered("chrome_lines"),
        dangling_labels=lowered("dangling_labels"),
        promo_prefixes=tuple(v.casefold() for v in lists.get("promo_prefixes", [])),
        caption_prefixes=tuple(lists.get("caption_prefixes", [])),
        caption_position_words=lowered("caption_position_words"),
        month_names=lowered("month_names"),
        credit_patterns=tuple(lists.get("credit_patterns", [])),
        dateline_patterns=tuple(lists.get("dateline_patterns", [])),
        agency_aliases=aliases,
        photo_credit_patterns=tuple(lists.get("photo_credit_patterns", [])),
        trailer_patterns=tuple(lists.get("trailer_patterns", [])),
        byline_patterns=tuple(lists.get("byline_patterns", [])),
        markup=MarkupRules(**{k: tuple(v) for k, v in markup.items()}),
        sites=sites,
    )
