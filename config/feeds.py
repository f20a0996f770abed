"""Feed declarations (``feeds.toml``): which feeds to follow, under which source name."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from config.settings import ConfigError


@dataclass(frozen=True)
class FeedSpec:
    name: str
    url: str
    source: str
    interval_seconds: int | None = None
    language: str | None = None
    fetch_pages: bool = False
    format: str = "auto"


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str | int) -> int:
    """``"30m"`` -> 1800. Plain numbers are seconds."""
    if isinstance(text, int):
        return text
    raw = text.strip().lower()
    if raw.isdigit():
        return int(raw)
    total = 0
    number = ""
    for char in raw:
        if char.isdigit():
            number += char
        elif char in _DURATION_UNITS and number:
            total += int(number) * _DURATION_UNITS[char]
            number = ""
        else:
            raise ConfigError(f"bad duration {text!r}: use e.g. 90s, 30m, 1h30m")
    if number or total <= 0:
        raise ConfigError(f"bad duration {text!r}: use e.g. 90s, 30m, 1h30m")
    return total


def load_feed_specs(path: str | Path) -> list[FeedSpec]:
    """Read ``[[feed]]`` tables. Relative paths in ``url`` resolve against the file's folder."""
    file_path = Path(path)
    try:
        data = tomllib.loads(file_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"feeds file not found: {file_path}") from exc
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"feeds file {file_path}: {exc}") from exc
    specs: list[FeedSpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(data.get("feed", [])):
        where = f"{file_path} feed #{index + 1}"
        try:
            name = str(entry["name"])
            url = str(entry["url"])
        except KeyError as exc:
            raise ConfigError(f"{where}: missing {exc.args[0]!r}") from exc
        if name in seen:
            raise ConfigError(f"{where}: duplicate feed name {name!r}")
        seen.add(name)
        if "://" not in url:
            url = (file_path.parent / url).resolve().as_uri()
        interval = entry.get("interval")
        specs.append(
            FeedSpec(
                name=name,
                url=url,
                source=str(entry.get("source", name)),
                interval_seconds=parse_duration(interval) if interval is not None else None,
                language=entry.get("language"),
                fetch_pages=bool(entry.get("fetch_pages", False)),
                format=str(entry.get("format", "auto")),
            )
        )
    return specs
