"""Typed settings and the default configuration files that ship with newsdedup.

This package imports nothing else of ours: ``ingest`` reads the settings and hands
plain values to ``dedupe`` and ``store``.
"""

from config.feeds import FeedSpec, load_feed_specs
from config.rules import CleaningRules, MarkupRules, SiteRules, load_cleaning_rules, load_site_rules
from config.settings import (
    CONFIG_DIR,
    ConfigError,
    DedupeSettings,
    FetchSettings,
    Settings,
    load_settings,
)

__all__ = [
    "CONFIG_DIR",
    "CleaningRules",
    "ConfigError",
    "DedupeSettings",
    "FeedSpec",
    "FetchSettings",
    "MarkupRules",
    "Settings",
    "SiteRules",
    "load_cleaning_rules",
    "load_feed_specs",
    "load_settings",
    "load_site_rules",
]
