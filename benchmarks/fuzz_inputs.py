"""Hypothesis strategies for the fuzz target: real corpus files damaged the ways real input is damaged.

Each strategy draws a ``Case``: the class of damage (the table in docs/reliability.md), a label that
names the input (the parser's error must repeat it), the bytes, and what the transport would have
said about them (a Content-Type charset, which can lie too). Damages stack: a truncated file can
also lie about its encoding.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("NEWSDEDUP_CORPUS", REPO.parent / "shared" / "corpus"))
SEED_TEXTS = sorted((CORPUS.parent / "seed").glob("*.txt"))

FEEDS = sorted(p for p in (CORPUS / "feeds").glob("*") if p.is_file() and not p.name.endswith(".json"))
EDGE_FEEDS = sorted(p for p in (CORPUS / "feeds" / "edge").glob("*") if p.is_file())
PAGES = sorted((CORPUS / "pages").glob("*.html"))
TEXTS = SEED_TEXTS + sorted((CORPUS / "pages").glob("newspaper4k__*.expected.txt"))

CHARSETS = ["utf-8", "iso-8859-1", "windows-1252", "utf-16", "utf-16le", "utf-32", "shift_jis", "euc-jp", "koi8-r",
            "gb2312", "big5", "iso-2022-jp", "utf-7", "x-bogus-charset", "", "utf-8; q=0", "binary", "\x00", "ascii"]
BOMS = [codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE]
ODD_URLS = ["javascript:alert(1)", "data:text/html,<b>x</b>", "file:///etc/passwd", "ftp://x/y", "http://", "::::",
            "http://[::1", "http://999.999.999.999/", "mailto:a@b", "//no-scheme/x", "http://a b/c", "\x00http://x/",
            "https://" + "a" * 5000 + ".com/", "http://127.0.0.1:99999/", "about:blank", "vbscript:x", "tel:+1", "?q"]
BAD_DATES = ["Mon, 99 Foo 20x6 25:61:00 +9999", "0000-00-00T00:00:00Z", "yesterday", "9" * 40, "", "-1",
             "2026-02-30T25:00:00+25:00", "Thu, 01 Jan 1970 00:00:00 GMT", "9999-12-31T23:59:59Z", "\x00",
             "1e308", "NaN", "2026-13-45", "Sun, 31 Dec 99999 23:59:59 +0000"]
DATE_TAGS = [b"pubDate", b"published", b"updated", b"dc:date", b"lastBuildDate", b"date_published"]
FEED_CLASSES = ["truncated", "garbled", "null bytes", "encoding lie", "enormous attribute", "deep nesting",
                "invalid date", "odd URL scheme", "binary", "stacked"]
HTML_CLASSES = FEED_CLASSES
TEXT_CLASSES = ["truncated", "garbled", "null bytes", "encoding lie", "huge line", "binary", "stacked"]


@dataclass
class Case:
    kind: str
    label: str
    body: bytes
    charset: str | None = None  # the Content-Type charset parameter the transport claimed
    notes: list[str] = field(default_factory=list)


def _lie_about_encoding(draw: st.DrawFn, body: bytes, case: Case) -> bytes:
    how = draw(st.sampled_from(["declaration", "header", "bom", "transcode", "all"]))
    lie = draw(st.sampled_from(CHARSETS))
    case.notes.append(f"{how}={lie!r}")
    if how in ("declaration", "all"):
        lied = lie.encode("utf-8", "replace")
        for old in (b'encoding="UTF-8"', b'encoding="utf-8"', b"encoding='UTF-8'", b"encoding='utf-8'"):
            body = body.replace(old, b'encoding="' + lied + b'"')
        for old in (b'charset="utf-8"', b"charset=utf-8", b'charset="UTF-8"', b"charset=UTF-8"):
            body = body.replace(old, b"charset=" + lied)
        if not body.lstrip().startswith(b"<?xml") and b"<html" not in body[:2000].lower():
            body = b'<?xml version="1.0" encoding="' + lied + b'"?>\n' + body
    if how in ("header", "all"):
        case.charset = lie
    if how in ("bom", "all"):
        body = draw(st.sampled_from(BOMS)) + body
    if how == "transcode":
        # Really in another encoding while still declaring UTF-8.
        target = draw(st.sampled_from(["utf-16", "utf-16-be", "latin-1", "cp1252", "shift_jis", "koi8-r"]))
        case.notes.append(f"really {target}")
        body = body.decode("utf-8", "replace").encode(target, "replace")
    return body


def _damage(draw: st.DrawFn, kind: str, body: bytes, case: Case, markup: bool) -> bytes:
    if kind == "truncated":
        return body[: draw(st.integers(0, len(body)))]
    if kind == "garbled":
        data = bytearray(body or b"\x00")
        for _ in range(draw(st.integers(1, 300))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == "null bytes":
        for _ in range(draw(st.integers(1, 5))):
            at = draw(st.integers(0, len(body)))
            body = body[:at] + b"\x00" * draw(st.integers(1, 128)) + body[at:]
        return body
    if kind == "encoding lie":
        return _lie_about_encoding(draw, body, case)
    if kind == "enormous attribute":
        size = draw(st.sampled_from([10_000, 1_000_000, 4_000_000]))
        value = draw(st.sampled_from([b"x", b"&amp;", b"\xe2\x80\x94", b'"', b"<"])) * (size // 5)
        tag = draw(st.sampled_from([b"<a ", b"<item", b"<entry", b"<p", b"<img ", b"<link", b"<meta ", b"<div"]))
        name = draw(st.sampled_from([b"title", b"href", b"src", b"class", b"x" * 1000]))
        replaced = body.replace(tag, tag + b" " + name + b'="' + value + b'" ', 1)
        return replaced if replaced != body else b"<a " + name + b'="' + value + b'">' + body
    if kind == "deep nesting":
        depth = draw(st.integers(500, 200_000))
        opener = draw(st.sampled_from([b"<div>", b"<b>", b"<item>", b"<p>", b"<span><i>", b"<x:y>",
                                       b"<table><tr><td>"]))
        closed = draw(st.booleans())
        at = body.find(b"<p>") if b"<p>" in body else body.find(b"<item")
        at = at if at >= 0 else len(body) // 2
        nest = opener * depth + (opener.replace(b"<", b"</") * depth if closed else b"")
        return body[:at] + nest + body[at:]
    if kind == "invalid date":
        bad = draw(st.sampled_from(BAD_DATES)).encode()
        for tag in DATE_TAGS:
            body = body.replace(b"<" + tag + b">", b"<" + tag + b">" + bad + b"<!--").replace(
                b"</" + tag + b">", b"--></" + tag + b">"
            )
        for meta in (b'"datePublished": "', b'content="20'):
            body = body.replace(meta, meta + bad + b'" data-x="', 3)
        return body
    if kind == "odd URL scheme":
        odd = draw(st.sampled_from(ODD_URLS)).encode("utf-8", "replace")
        for old, new in ((b"<link>", b"<link>" + odd + b"<!--"), (b"</link>", b"--></link>"),
                         (b'href="', b'href="' + odd + b'" data-was="'), (b'src="', b'src="' + odd + b'" data-was="'),
                         (b'url="', b'url="' + odd + b'" data-was="'), (b"<guid>", b"<guid>" + odd + b"<!--"),
                         (b"</guid>", b"--></guid>")):
            body = body.replace(old, new, draw(st.integers(1, 50)))
        if markup and b"<head>" in body:
            body = body.replace(b"<head>", b'<head><base href="' + odd + b'"><link rel="canonical" href="' + odd
                                + b'">', 1)
        return body
    if kind == "binary":
        return draw(st.binary(min_size=0, max_size=8192))
    if kind == "huge line":
        return body + b"word " * draw(st.integers(100_000, 1_000_000))
    raise ValueError(kind)


@st.composite
def damaged(draw: st.DrawFn, samples: list[Path], classes: list[str], markup: bool = True) -> Case:
    path = draw(st.sampled_from(samples))
    body = path.read_bytes()
    kind = draw(st.sampled_from(classes))
    case = Case(kind, f"{path.name}[{kind}]", body)
    kinds = [kind]
    if kind == "stacked":
        kinds = draw(st.lists(st.sampled_from([c for c in classes if c not in ("stacked", "binary")]), min_size=2,
                              max_size=3))
        case.label = f"{path.name}[{'+'.join(kinds)}]"
    for step in kinds:
        body = _damage(draw, step, body, case, markup)
    case.body = body
    return case


def feed_cases() -> st.SearchStrategy[Case]:
    return damaged(FEEDS + EDGE_FEEDS, FEED_CLASSES)


def html_cases() -> st.SearchStrategy[Case]:
    return damaged(PAGES, HTML_CLASSES)


def text_cases() -> st.SearchStrategy[Case]:
    return damaged(TEXTS, TEXT_CLASSES, markup=False)


CLI_WORDS = ["ingest", "articles", "show", "list", "export", "feeds", "add", "remove", "sync", "pause", "resume",
             "revert-url", "db", "check", "upgrade", "dupes", "explain", "index", "stats", "reingest", "--json",
             "--since-seq", "--since", "--until", "--limit", "--format", "--source", "--url", "--name", "--interval",
             "--language", "--feed", "--article", "--details", "--dry-run", "--all", "--prune", "--resign",
             "--fetch-pages", "--fetches", "-v", "--help", "-1", "0", "1", "abc", "pdf", "feed", "html", "text",
             "auto", "nitf", "ninjs", "99999999999999999999", "1e309", "", "\x00", "\udcff", "-", "--", "0s", "-5m",
             "99999999h", "2026-02-30", "nope://x", "--database-url", "--config", "/dev/null", "/nonexistent"]
# Never generated: commands that would touch the network (fetch, run).
NETWORK_COMMANDS = {"fetch", "run"}


COMMANDS = [["ingest"], ["articles", "list"], ["articles", "show"], ["articles", "delete"], ["export"],
            ["feeds", "list"], ["feeds", "add"], ["feeds", "show"], ["feeds", "remove"], ["feeds", "sync"],
            ["feeds", "pause"], ["feeds", "resume"], ["feeds", "revert-url"], ["feeds", "reset-errors"],
            ["db", "check"], ["dupes", "explain"], ["index", "rebuild"], ["stats"], ["reingest"]]


@st.composite
def cli_arguments(draw: st.DrawFn, files: list[str]) -> list[str]:
    words = st.one_of(
        st.sampled_from(CLI_WORDS), st.sampled_from(ODD_URLS), st.sampled_from(BAD_DATES), st.sampled_from(files),
        st.integers(-2**70, 2**70).map(str), st.text(max_size=30).filter(lambda s: s not in NETWORK_COMMANDS),
    )
    # Mostly a real command (so its own argument checks are reached), then junk.
    prefix = draw(st.one_of(st.sampled_from(COMMANDS), st.just([])))
    return [*prefix, *draw(st.lists(words, max_size=8))]
