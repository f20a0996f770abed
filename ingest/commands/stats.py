"""``newsdedup stats``: feeds by health, articles, clusters, duplicates by tier, index and database size."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from ingest.app import App
from ingest.commands._common import add_command, print_json
from ingest.explain import tier_of
from store import admin, database_size_bytes


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "stats",
        "Feeds by health, articles, canonical clusters, duplicate paragraphs by tier, "
        "index size (stored signatures) and database size.",
        "newsdedup stats --json",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def duplicates_by_tier(stats: admin.Stats) -> dict[str, int]:
    """Paragraphs linked to an earlier copy (exact, near) plus blocks dropped, by tier."""
    tiers: dict[str, int] = {}
    for tier, count in stats.paragraphs_by_tier.items():
        if tier != "original":
            tiers[tier] = tiers.get(tier, 0) + count
    for reason, lead, count in stats.removal_groups:
        tier = tier_of(reason, lead, None)
        if tier != "metadata":
            tiers[tier] = tiers.get(tier, 0) + count
    return dict(sorted(tiers.items()))


def collect(app: App) -> dict[str, Any]:
    with app.read_sessions() as session, session.begin():
        stats = admin.collect_stats(session)
    data = asdict(stats)
    data.pop("removal_groups")
    data["duplicates_by_tier"] = duplicates_by_tier(stats)
    data["index"]["num_perm"] = app.settings.dedupe.num_perm
    data["index"]["backend"] = app.settings.dedupe.index_backend
    data["database"] = {"dialect": app.engine.dialect.name, "size_bytes": database_size_bytes(app.engine)}
    return data


def _size(value: int | None) -> str:
    if value is None:
        return "unknown"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def _pairs(values: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in values.items()) or "none"


def print_stats(data: dict[str, Any]) -> None:
    feeds, articles, clusters = data["feeds"], data["articles"], data["clusters"]
    removed = f" ({feeds['removed']} removed)" if feeds["removed"] else ""
    rows = [
        ("feeds", f"{feeds['total']}: {feeds['ok']} ok, {feeds['failing']} failing, {feeds['paused']} paused, "
                  f"{feeds['never_fetched']} never fetched" + removed),
        ("articles", f"{articles['total']}: {articles['canonical']} canonical, {articles['merged']} merged "
                     f"into another; {articles['deleted']} deleted"),
        ("  by source", _pairs(data["articles_by_source"])),
        ("clusters", f"{clusters['canonical']} canonical articles, {clusters['with_duplicates']} with duplicates, "
                     f"largest {clusters['largest']}"),
        ("duplicates", _pairs(data["duplicates_by_tier"])),
        ("paragraphs", _pairs(data["paragraphs_by_tier"])),
        ("removed", _pairs(data["removals_by_reason"])),
        ("index", f"{data['index']['signatures']} signatures ({data['index']['num_perm']} permutations), "
                  f"{data['index']['original_paragraphs']} of them originals; {data['index']['backend']} backend, "
                  f"{data['index']['band_rows']} band rows"),
        ("raw documents", f"{data['raw_documents']['count']} ({_size(data['raw_documents']['bytes'])}, "
                          f"{_size(data['raw_documents']['stored_bytes'])} stored)"),
        ("fetches", _pairs(data["fetches_by_outcome"])),
        ("change log", f"{data['change_log']['events']} events, last seq {data['change_log']['last_seq']}"),
        ("database", f"{_size(data['database']['size_bytes'])} ({data['database']['dialect']})"),
    ]
    for label, value in rows:
        print(f"{label:<14} {value}")


def run(app: App, args: argparse.Namespace) -> int:
    app.require_head()
    data = collect(app)
    if args.json:
        print_json(data)
    else:
        print_stats(data)
    return 0
