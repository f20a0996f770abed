"""Language- and site-specific cleaning rules, read from ``config/rules/*.toml``.

Every file contributes to one merged rule set; lists are concatenated, tables merged. Rules are
plain data: the code that applies them lives in ``ingest`` (caption cues, credit lines) and
``dedupe`` (boilerplate lexicons).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from config.settings import ConfigError


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


def load_cleaning_rules(rules_dir: str | Path) -> CleaningRules:
    directory = Path(rules_dir)
    if not directory.is_dir():
        raise ConfigError(f"rules folder not found: {directory}")
    lists: dict[str, list[str]] = {}
    aliases: dict[str, str] = {}
    for path in sorted(directory.rglob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"rules file {path}: {exc}") from exc
        for key, value in data.items():
            if key == "agency_aliases":
                if not isinstance(value, dict):
                    raise ConfigError(f"rules file {path}: agency_aliases must be a table")
                aliases.update({str(k): str(v) for k, v in value.items()})
            elif isinstance(value, list):
                lists.setdefault(key, []).extend(str(v) for v in value)
            else:
                raise ConfigError(f"rules file {path}: {key!r} must be a list")
    known = {
        "chrome_lines", "dangling_labels", "promo_prefixes", "caption_prefixes",
        "caption_position_words", "month_names", "credit_patterns", "dateline_patterns",
    }
    unknown = set(lists) - known
    if unknown:
        raise ConfigError(f"rules in {directory}: unknown keys {sorted(unknown)}")

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
    )
