"""``newsdedup articles list|show``."""

from __future__ import annotations

import argparse
from typing import Any

from ingest.app import App
from ingest.commands import articles_admin
from ingest.commands._common import add_command, int64, print_json, print_json_line
from ingest.views import article_json
from store import repository as repo


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "articles", "List and show stored articles.", "newsdedup articles list --json")
    actions = parser.add_subparsers(dest="articles_action", metavar="ACTION", required=True)
    listing = add_command(actions, "list", "List articles, oldest first.", "newsdedup articles list --source voa-id")
    listing.add_argument("--source", help="only this source's articles")
    listing.add_argument("--limit", type=int64, help="at most this many")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.add_argument("--details", action="store_true",
                         help="also what was kept and removed: captions, credit, removals and duplicate links")
    listing.set_defaults(handler=run_list)
    show = add_command(actions, "show", "Show one article: body, captions, credit, removals, duplicate links.",
                       "newsdedup articles show 12 --json")
    show.add_argument("id", type=int64, metavar="ID")
    show.add_argument("--json", action="store_true", help="print the article as one JSON object")
    show.set_defaults(handler=run_show)
    articles_admin.register_actions(actions)


def run_list(app: App, args: argparse.Namespace) -> int:
    app.require_head()
    with app.sessions() as session:
        rows = repo.list_articles(session, args.source, limit=args.limit)
        for article, source in rows:
            if args.json:
                print_json_line({
                    "id": article.id,
                    "canonical_id": article.canonical_id or article.id,
                    "source": source,
                    "title": article.title,
                    "url": article.url,
                    "published_at": article.published_at.isoformat() if article.published_at else None,
                    "version": article.version,
                })
            elif args.details:
                print_details(article_json(session, article))
            else:
                print(f"{article.id:>6}  {source:<16.16}  {article.title or '(untitled)'}")
    return 0


def print_details(data: dict[str, Any]) -> None:
    """A few lines per article: what came out, and what was removed and why."""
    canonical = "" if data["canonical_id"] == data["id"] else f"  (same story as article {data['canonical_id']})"
    print(f"article {data['id']} [{data['source']}] {data['title'] or '(untitled)'}{canonical}")
    linked = sum(1 for p in data["paragraphs"] if p["duplicate_of"] and p["duplicate_of"]["article_id"] != data["id"])
    print(f"  kept: {len(data['body'])} paragraphs, {len(data['captions'])} captions"
          + (f", {linked} seen before in other articles" if linked else ""))
    if data["credit"]:
        print(f"  credit: {data['credit']}  agencies: {', '.join(data['agencies']) or '-'}")
    for removal in data["removed"]:
        text = removal["text"] if len(removal["text"]) <= 70 else removal["text"][:67] + "..."
        print(f"  removed [{removal['reason']}]: {text}")


def run_show(app: App, args: argparse.Namespace) -> int:
    app.require_head()
    with app.sessions() as session:
        article = repo.get_article(session, args.id)
        data = article_json(session, article)
    if args.json:
        print_json(data)
        return 0
    print(f"# {data['title'] or '(untitled)'}")
    print(f"id {data['id']}  canonical {data['canonical_id']}  source {data['source']}  version {data['version']}")
    if data["url"]:
        print(data["url"])
    if data["published_at"]:
        print(f"published {data['published_at']}")
    if data["credit"]:
        print(f"credit: {data['credit']}  agencies: {', '.join(data['agencies'])}")
    print()
    for paragraph in data["paragraphs"]:
        marker = "[caption] " if paragraph["kind"] == "caption" else ""
        link = paragraph["duplicate_of"]
        suffix = f"  (duplicate of article {link['article_id']} #{link['position']})" if link else ""
        print(f"{marker}{paragraph['text']}{suffix}\n")
    if data["removed"]:
        print("removed:")
        for removal in data["removed"]:
            print(f"  - [{removal['reason']}] {removal['text'][:100]}")
    return 0
