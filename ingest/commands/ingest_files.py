"""``newsdedup ingest PATH...``: files (text, HTML pages, feeds) into articles."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ingest.app import App
from ingest.commands._common import add_command, process_count
from ingest.errors import InputError
from ingest.parallel import ingest_all
from ingest.pipeline import IngestResult, Input, Pipeline


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "ingest",
        "Ingest files: plain text (paragraphs split by blank lines), article HTML or a feed.",
        "newsdedup ingest story.txt --format text --source voa-id",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files to ingest")
    parser.add_argument("--source", default="local", help="source name the articles belong to (default: local)")
    parser.add_argument("--url", help="the article's URL (single file only)")
    parser.add_argument("--format", choices=["auto", "text", "html", "feed", "nitf", "ninjs"], default="auto")
    parser.add_argument(
        "--workers",
        type=process_count,
        default=1,
        help="processes that parse, clean and prepare files while this one writes (default: 1, no extra process)",
    )
    parser.set_defaults(handler=run)


def read_input(path_text: str) -> tuple[Path, bytes]:
    path = Path(path_text)
    try:
        return path, path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path}: is a directory") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    except ValueError as exc:  # e.g. a NUL byte in the name
        raise InputError(f"{path_text!r}: not a usable file name: {exc}") from exc


def print_result(result: IngestResult) -> None:
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for outcome in result.articles:
        if outcome.status == "error":
            print(f"error: {outcome.error}", file=sys.stderr)
            continue
        title = outcome.title or "(untitled)"
        extra = f" ({outcome.removed} removed)" if outcome.status in ("created", "updated") else ""
        print(f"{outcome.status} article {outcome.article_id}: {title}{extra}")


def run(app: App, args: argparse.Namespace) -> int:
    if args.url and len(args.paths) > 1:
        raise InputError("--url applies to a single file; give one PATH")
    inputs = [read_input(p) for p in args.paths]  # every file checked before anything is written
    app.require_head()
    pipeline = Pipeline(app.sessions, app.cleaner, app.signer, deduper=app.deduper)
    items = (
        Input(
            body=body,
            source=args.source,
            location=str(path),
            url=args.url,
            entry_key=("url:" + args.url) if args.url else path.resolve().as_uri(),
            format=args.format,
        )
        for path, body in inputs
    )
    failures = 0
    for result in ingest_all(pipeline, app.settings, items, min(args.workers, len(inputs))):
        print_result(result)
        if result.error:
            failures += 1
            print(f"newsdedup: error: {result.error}", file=sys.stderr)
    return 1 if failures else 0
