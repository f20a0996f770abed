"""The soak's feed server: a few hundred RSS feeds on 127.0.0.1 that change while the daemon polls them.

Items are real article text (``benchmarks.corpus_bodies``): each item is a window of paragraphs of a
corpus story under its own guid. A publisher thread changes some feeds every tick: a new item, or a
new version of an item already in the feed (title marker ``[v2]``, a paragraph added). A feed is
changed again only after ``min_change_gap`` seconds, so a daemon that keeps its schedule sees every
version.

Everything published and everything served is logged under one lock, so the checks can tell
exactly which versions the daemon was given (a 200 response that carried them), which it could not
have seen yet (published after the feed's last request) and which were replaced before any request
saw them. ``tests/fetchkit.py``'s FeedServer records requests but serves fixed routes; this one has
to render each response from a state that moves underneath it, so it is written here.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from html import escape
from http.server import BaseHTTPRequestHandler

from benchmarks.corpus_bodies import Story
from benchmarks.loopback import loopback_server

WINDOW = 15  # items a feed lists (newest first)
INITIAL_ITEMS = 3


@dataclass
class Item:
    guid: str
    story: Story
    start: int  # first paragraph of the story used
    version: int = 1
    published: float = 0.0  # wall clock of the first version

    def paragraphs(self) -> list[str]:
        count = 3 + self.version  # each version adds a paragraph (wrapping round the story)
        story = self.story.paragraphs
        return [story[(self.start + i) % len(story)] for i in range(count)]


@dataclass
class FeedState:
    index: int
    items: list[Item] = field(default_factory=list)  # newest first
    revision: int = 0
    last_change: float = 0.0  # monotonic
    body: bytes = b""


@dataclass(frozen=True)
class Published:
    feed: int
    guid: str
    version: int
    at: float  # wall clock


@dataclass(frozen=True)
class Served:
    feed: int
    at: float  # wall clock
    status: int
    versions: tuple[tuple[str, int], ...]  # (guid, version) in the body; empty for 304


class SoakFeeds:
    def __init__(self, stories: list[Story], feeds: int, seed: int = 7, min_change_gap: float = 30.0) -> None:
        if not stories:
            raise ValueError("no stories to build feeds from")
        self.rng = random.Random(seed)
        self.stories = stories
        self.min_change_gap = min_change_gap
        self.lock = threading.Lock()
        self.published: list[Published] = []
        self.served: list[Served] = []
        self.feeds = [FeedState(i) for i in range(feeds)]
        self._next_item = 0
        self._stop = threading.Event()
        self._publisher: threading.Thread | None = None
        self.httpd = loopback_server(self._answer)
        self.port = int(self.httpd.server_address[1])
        now = time.time()
        for feed in self.feeds:
            for _ in range(INITIAL_ITEMS):
                self._add_item(feed, now)
            self._render(feed)
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    # --- the feeds ------------------------------------------------------------------------

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.port}/feeds/{index}.xml"

    def name(self, index: int) -> str:
        return f"soak-{index:04d}"

    def _add_item(self, feed: FeedState, now: float) -> None:
        number = self._next_item
        self._next_item += 1
        story = self.stories[number % len(self.stories)]
        item = Item(f"soak:{feed.index}:{number}", story, self.rng.randrange(len(story.paragraphs)), published=now)
        feed.items.insert(0, item)
        del feed.items[WINDOW:]
        self.published.append(Published(feed.index, item.guid, 1, now))

    def _update_item(self, feed: FeedState, now: float) -> None:
        item = self.rng.choice(feed.items)
        item.version += 1
        self.published.append(Published(feed.index, item.guid, item.version, now))

    def _render(self, feed: FeedState) -> None:
        feed.revision += 1
        parts = [
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>{self.name(feed.index)}</title><link>{self.url(feed.index)}</link>"
            "<description>soak feed</description>"
        ]
        for item in feed.items:
            title = f"{item.story.title} ({item.guid})" + (f" [v{item.version}]" if item.version > 1 else "")
            html = "".join(f"<p>{escape(p)}</p>" for p in item.paragraphs())
            parts.append(
                f"<item><title>{escape(title)}</title>"
                f"<link>http://127.0.0.1:{self.port}/story/{item.guid.replace(':', '/')}</link>"
                f'<guid isPermaLink="false">{item.guid}</guid>'
                f"<pubDate>{formatdate(item.published, usegmt=True)}</pubDate>"
                f"<content:encoded>{escape(html)}</content:encoded></item>"
            )
        parts.append("</channel></rss>\n")
        feed.body = "".join(parts).encode("utf-8")

    def publish_tick(self, changes: int, update_share: float = 0.3) -> int:
        """Change up to ``changes`` feeds not changed in the last ``min_change_gap`` seconds."""
        with self.lock:
            now_mono, now = time.monotonic(), time.time()
            ready = [f for f in self.feeds if now_mono - f.last_change >= self.min_change_gap]
            chosen = self.rng.sample(ready, min(changes, len(ready)))
            for feed in chosen:
                if self.rng.random() < update_share:
                    self._update_item(feed, now)
                else:
                    self._add_item(feed, now)
                feed.last_change = now_mono
                self._render(feed)
            return len(chosen)

    def start_publishing(self, tick_seconds: float, changes_per_tick: int) -> None:
        # The first change of a feed waits a full gap, like every later one.
        with self.lock:
            for feed in self.feeds:
                feed.last_change = time.monotonic()

        def loop() -> None:
            while not self._stop.wait(tick_seconds):
                self.publish_tick(changes_per_tick)

        self._publisher = threading.Thread(target=loop, daemon=True)
        self._publisher.start()

    def freeze(self) -> float:
        """Stop publishing; returns the wall clock after the last change."""
        self._stop.set()
        if self._publisher is not None:
            self._publisher.join()
        with self.lock:
            return time.time()

    def close(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- serving --------------------------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0]
        index = -1
        if path.startswith("/feeds/") and path.endswith(".xml"):
            number = path[len("/feeds/"):-len(".xml")]
            index = int(number) if number.isdigit() else -1
        if not 0 <= index < len(self.feeds):
            self._send(handler, 404, b"not found", {"Content-Type": "text/plain"})
            return
        with self.lock:
            feed = self.feeds[index]
            etag = f'"r{feed.revision}-' + hashlib.sha256(feed.body).hexdigest()[:12] + '"'
            if handler.headers.get("If-None-Match") == etag:
                self.served.append(Served(index, time.time(), 304, ()))
                status, body = 304, b""
            else:
                versions = tuple((item.guid, item.version) for item in feed.items)
                self.served.append(Served(index, time.time(), 200, versions))
                status, body = 200, feed.body
        headers = {"ETag": etag}
        if status == 200:
            headers["Content-Type"] = "application/rss+xml; charset=utf-8"
        self._send(handler, status, body, headers)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
        try:
            handler.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(body)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True
