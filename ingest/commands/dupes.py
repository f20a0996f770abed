"""``newsdedup dupes explain ID``: why each paragraph and caption was kept, linked or dropped."""

from __future__ import annotations

import argparse
from typing import Any

from ingest.app import App
from ingest.commands._common import add_command, int64, print_json
from ingest.explain import explain

PREVIEW = 70


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "dupes", "Inspect duplicate decisions.", "newsdedup dupes explain 12")
    actions = parser.add_subparsers(dest="dupes_action", metavar="ACTION", required=True)
    explain_parser = add_command(
        actions,
        "explain",
        "For each paragraph and caption of an article: kept, linked to an earlier copy, or dropped; "
        "the tier (exact, near, boilerplate, template, title), the matching article and paragraph, "
        "and the exact and MinHash-estimated Jaccard similarity.",
        "newsdedup dupes explain 12 --json",
    )
    explain_parser.add_argument("id", type=int64, metavar="ARTICLE_ID")
    explain_parser.add_argument("--json", action="store_true", help="print one JSON object")
    explain_parser.set_defaults(handler=run_explain)


def _short(text: str | None) -> str:
    value = " ".join((text or "").split())
    return value if len(value) <= PREVIEW else value[: PREVIEW - 1] + "…"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _match(entry: dict[str, Any], article_id: int) -> str:
    match = entry.get("match")
    if not match:
        return "-"
    if match["position"] is None:
        return "the title"
    where = "this article" if match["article_id"] == article_id else f"article {match['article_id']}"
    return f"{where} #{match['position']}" + (" (deleted)" if match.get("deleted") else "")


def _similarities(entry: dict[str, Any]) -> tuple[str, str]:
    similarity = entry.get("similarity") or {}
    return _number(similarity.get("exact_jaccard")), _number(similarity.get("estimated_jaccard"))


def print_explanation(data: dict[str, Any]) -> None:
    article = data["article"]
    article_id = article["id"]
    print(f"article {article_id}: {article['title'] or '(untitled)'}")
    state = "deleted (tombstone)" if article["deleted"] else f"version {article['version']}"
    print(f"source {article['source']}, {state}")
    if article["is_canonical"]:
        merged = article["merged_here"]
        suffix = f"; merged into it: {', '.join(map(str, merged))}" if merged else ""
        print(f"canonical: itself{suffix}")
        if article["text_from"] is not None:
            print(f"text shown: article {article['text_from']}'s (the cluster's most complete and most recent)")
    else:
        print(f"canonical: article {article['canonical_id']} (this article is a copy of its story)")
    story = article.get("story")
    if story:
        print(f"story match: article {story['matched_article_id']}, {story['explain']}")
    print()
    header = f"{'#':>3}  {'kind':<8} {'verdict':<7} {'tier':<6} {'match':<22} {'J exact':>7} {'J est.':>7}  text"
    print(header)
    for entry in data["paragraphs"]:
        exact, estimate = _similarities(entry)
        match = _match(entry, article_id)
        if entry["verdict"] == "kept" and entry["copies"]:
            match = f"{len(entry['copies'])} {'copy' if len(entry['copies']) == 1 else 'copies'} elsewhere"
        print(
            f"{entry['position']:>3}  {entry['kind']:<8} {entry['verdict']:<7} {entry['tier'] or '-':<6} "
            f"{match:<22} {exact:>7} {estimate:>7}  {_short(entry['text'])}"
        )
    if data["removed"]:
        print()
        print(f"{'blk':>3}  {'reason':<17} {'tier':<11} {'match':<22} {'J exact':>7} {'J est.':>7}  text")
        for entry in data["removed"]:
            exact, estimate = _similarities(entry)
            print(
                f"{entry['block_index']:>3}  {entry['reason']:<17} {entry['tier']:<11} {_match(entry, article_id):<22} "
                f"{exact:>7} {estimate:>7}  {_short(entry['text'])}"
            )


def run_explain(app: App, args: argparse.Namespace) -> int:
    app.require_head()
    with app.read_sessions() as session, session.begin():
        data = explain(session, args.id, app.signer)
    if args.json:
        print_json(data)
    else:
        print_explanation(data)
    return 0
