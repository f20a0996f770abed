#!/usr/bin/env python3
"""An incremental consumer of the newsdedup change log.

Keeps one JSON file per canonical article in ``--out`` and its position in the log (the last
applied ``seq``) in ``--state``. Each run applies only the events after that position, so it
can run from cron, or loop with ``--follow SECONDS``.

Crash safety: an event is applied first and the position saved after it (atomically, with a
rename). A crash in between re-applies that one event on the next run, and applying an event
twice gives the same files, so nothing is lost or doubled.

    python examples/consumer.py --state consumer.seq --out articles/
    python examples/consumer.py --state consumer.seq --out articles/ --follow 30 \
        --database-url postgresql+psycopg://localhost/news
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def read_position(path: Path) -> int:
    try:
        return int(path.read_text(encoding="utf-8").strip() or 0)
    except FileNotFoundError:
        return 0


def write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def apply(event: dict[str, Any], out: Path) -> None:
    """Make ``out`` hold the article as the event shows it: one file per live canonical article."""
    path = out / f"{event['id']}.json"
    if event["deleted"] or event["canonical_id"] != event["id"]:
        # Deleted, or merged into another article that carries the story: drop our copy.
        path.unlink(missing_ok=True)
        return
    keep = ("id", "source", "url", "title", "published_at", "byline", "body", "captions", "credit",
            "agencies", "version", "seq")
    write_atomically(path, json.dumps({k: event[k] for k in keep}, ensure_ascii=False, indent=2) + "\n")


def run_once(newsdedup: list[str], database_url: str | None, state: Path, out: Path) -> int:
    position = read_position(state)
    command = [*newsdedup, *(["--database-url", database_url] if database_url else []),
               "export", "--since-seq", str(position)]
    applied = 0
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, encoding="utf-8") as process:
        assert process.stdout is not None
        for line in process.stdout:
            event = json.loads(line)
            if event["seq"] <= position:
                raise SystemExit(f"consumer: export repeated seq {event['seq']} (at {position})")
            apply(event, out)
            position = event["seq"]
            write_atomically(state, f"{position}\n")
            applied += 1
    if process.returncode != 0:
        raise SystemExit(f"consumer: `{shlex.join(command)}` failed with exit code {process.returncode}")
    return applied


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", type=Path, required=True, help="file that keeps the last applied seq")
    parser.add_argument("--out", type=Path, required=True, help="folder with one JSON file per article")
    parser.add_argument("--database-url", help="passed on to newsdedup")
    parser.add_argument("--newsdedup", default="newsdedup", help="how to run newsdedup (default: newsdedup)")
    parser.add_argument("--follow", type=float, metavar="SECONDS", help="keep polling at this interval")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    newsdedup = shlex.split(args.newsdedup)
    while True:
        applied = run_once(newsdedup, args.database_url, args.state, args.out)
        print(f"applied {applied} events, now at seq {read_position(args.state)}", flush=True)
        if args.follow is None:
            return 0
        time.sleep(args.follow)


if __name__ == "__main__":
    sys.exit(main())
