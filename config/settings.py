"""Settings: defaults, overridden by a TOML file, overridden by ``NEWSDEDUP_*`` variables.

Precedence (lowest first): built-in defaults, the TOML file given with ``--config`` (or
``NEWSDEDUP_CONFIG``), environment variables, command-line flags. Environment variables map
onto the settings tree with a double underscore between levels, e.g.
``NEWSDEDUP_FETCH__TIMEOUT_SECONDS=5`` or ``NEWSDEDUP_DATABASE_URL=postgresql+psycopg://...``.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

CONFIG_DIR = Path(__file__).resolve().parent
DEFAULT_DATABASE_FILE = "newsdedup.sqlite3"
ENV_PREFIX = "NEWSDEDUP_"


class ConfigError(ValueError):
    """A settings file or variable is missing, unreadable or has a bad value."""


@dataclass(frozen=True)
class FetchSettings:
    # Empty: "newsdedup/<version> (+<contact_url>)", so publishers can reach the operator.
    user_agent: str = ""
    contact_url: str = "https://github.com/newsdedup/newsdedup"
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 30.0
    total_timeout_seconds: float = 60.0
    max_redirects: int = 5
    max_body_bytes: int = 20 * 1024 * 1024
    max_decompressed_bytes: int = 50 * 1024 * 1024
    default_interval_seconds: int = 1800
    min_interval_seconds: int = 300
    max_interval_seconds: int = 24 * 3600
    max_backoff_seconds: int = 6 * 3600
    # Cache-Control max-age, Expires and RSS <ttl> push the next poll later, at most by this much.
    max_cache_hint_seconds: int = 6 * 3600
    # Retry-After on 429/503 is honoured up to this long.
    max_retry_after_seconds: int = 24 * 3600
    per_host_concurrency: int = 2
    per_host_delay_seconds: float = 1.0
    max_concurrency: int = 8
    # Article pages fetched per feed and cycle for summary-only entries; the rest wait a cycle.
    max_pages_per_feed: int = 20
    # Files read from a directory feed (NITF, ninjs, RSS files) per cycle.
    max_directory_files: int = 1000
    allow_private_addresses: bool = False
    # Host names, IP addresses or networks (CIDR) exempt from the private-address refusal.
    allowed_hosts: tuple[str, ...] = ()
    allow_file_urls: bool = True

    def resolved_user_agent(self, version: str) -> str:
        if self.user_agent:
            return self.user_agent
        return f"newsdedup/{version} (+{self.contact_url})"


@dataclass(frozen=True)
class DedupeSettings:
    num_perm: int = 128
    seed: int = 1
    # Repeats inside one article (cleaning): Jaccard of word 3-grams.
    paragraph_threshold: float = 0.8
    # Across articles: a block is a near copy of a stored one from this Jaccard of word 3-grams
    # (short blocks need more; see dedupe.near.NearRule).
    near_threshold: float = 0.45
    # Whole stories: the same story from this body 5-gram Jaccard, or this containment of the
    # shorter body in the longer.
    document_threshold: float = 0.5
    story_containment: float = 0.7
    # A source's template block: the same block in this many of its stories, at most this long.
    template_min_articles: int = 5
    template_max_words: int = 40
    # Near copies and stories are looked for among the blocks ingested in the last window_days (the
    # indexes forget older ones once a day); exact copies are found by hash across the whole store.
    window_days: int = 30
    # memory: one worker, index in process memory; sql: several workers share band rows in SQL.
    index_backend: str = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    feeds_file: str = ""
    rules_dir: str = str(CONFIG_DIR / "rules")
    log_level: str = "INFO"
    metrics_port: int = 0
    fetch: FetchSettings = field(default_factory=FetchSettings)
    dedupe: DedupeSettings = field(default_factory=DedupeSettings)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path.cwd() / DEFAULT_DATABASE_FILE}"


T = TypeVar("T")


def _coerce(value: Any, target: Any, where: str) -> Any:
    target_type = target if isinstance(target, type) else type(target)
    try:
        if target_type is bool:
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered in {"1", "true", "yes", "on"}:
                    return True
                if lowered in {"0", "false", "no", "off"}:
                    return False
                raise ValueError(value)
            return bool(value)
        if target_type is tuple:
            if isinstance(value, str):
                return tuple(part.strip() for part in value.split(",") if part.strip())
            return tuple(str(v) for v in value)
        if target_type in (int, float, str):
            return target_type(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: cannot use {value!r} as {target_type.__name__}") from exc
    return value


def _merge(instance: T, overrides: Mapping[str, Any], where: str) -> T:
    changes: dict[str, Any] = {}
    known = {f.name: f for f in dataclasses.fields(instance)}  # type: ignore[arg-type]
    for key, value in overrides.items():
        name = key.lower()
        if name not in known:
            raise ConfigError(f"{where}: unknown setting {key!r}")
        current = getattr(instance, name)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: [{name}] must be a table")
            changes[name] = _merge(current, value, f"{where} [{name}]")
        else:
            changes[name] = _coerce(value, current, f"{where} {name}")
    return dataclasses.replace(instance, **changes)  # type: ignore[type-var]


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key == ENV_PREFIX + "CONFIG":
            continue
        path = key[len(ENV_PREFIX):].lower().split("__")
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return tree


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    database_url: str | None = None,
) -> Settings:
    """Build the settings from defaults, a TOML file, the environment and explicit flags."""
    env = os.environ if environ is None else environ
    settings = Settings()
    path = config_file or env.get(ENV_PREFIX + "CONFIG")
    if path:
        file_path = Path(path)
        try:
            data = tomllib.loads(file_path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {file_path}") from exc
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"config file {file_path}: {exc}") from exc
        settings = _merge(settings, data, str(file_path))
    settings = _merge(settings, _env_overrides(env), "environment")
    if database_url:
        settings = dataclasses.replace(settings, database_url=database_url)
    return settings
