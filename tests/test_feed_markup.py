"""Feeds parsed without feedparser's sanitiser give the same documents as with it, where we skip it."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import feedparser
import pytest
from feedparser.html import _BaseHTMLProcessor
from feedparser.sanitizer import _HTMLSanitizer
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.errors import ParseError
from ingest.formats import feed as feed_module
from ingest.formats import feed_markup
from ingest.formats.feed_markup import _SIMPLE, KEPT_ELEMENTS, VOID_ELEMENTS, full_check, unchanged_by_sanitising
from tests.conftest import CORPUS

FEEDS = sorted(p for p in (CORPUS / "feeds").rglob("*") if p.is_file() and not p.name.endswith(".json"))


def _always_sanitised(body: bytes, headers: Any) -> Any:
    return feedparser.parse(body, response_headers=dict(headers or {}))


def _outcome(body: bytes) -> Any:
    try:
        return dataclasses.asdict(feed_module.parse_feed(body, "feed.xml"))
    except ParseError as exc:
        return str(exc)


def _both_ways(body: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    ours = _outcome(body)
    with monkeypatch.context() as patched:
        patched.setattr(feed_module, "_feedparser", _always_sanitised)
        sanitised = _outcome(body)
    return ours, sanitised


def test_the_elements_we_let_through_are_ones_the_sanitiser_keeps() -> None:
    assert set(_HTMLSanitizer.acceptable_elements) >= KEPT_ELEMENTS
    assert VOID_ELEMENTS <= KEPT_ELEMENTS
    assert set(_BaseHTMLProcessor.elements_no_end_tag) >= VOID_ELEMENTS


@pytest.mark.parametrize("path", FEEDS, ids=lambda p: p.name)
def test_every_corpus_feed_gives_the_documents_it_gives_when_sanitised(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, sanitised = _both_ways(path.read_bytes(), monkeypatch)
    assert ours == sanitised


def test_most_corpus_feeds_skip_the_sanitiser() -> None:
    skipped = 0
    for path in FEEDS:
        try:
            parsed = feedparser.parse(path.read_bytes(), sanitize_html=False, resolve_relative_uris=False)
        except (AttributeError, TypeError, ValueError):
            continue
        skipped += feed_markup.sanitising_changes_nothing(parsed)
    assert skipped >= len(FEEDS) // 2


@pytest.mark.parametrize(
    "markup",
    [
        "<p>Plain &amp; simple, &#8217;quoted&#x2019; &nbsp;text &gt; more</p>",
        '<p class="a" id=\'b\' data-x=1>x<br/>y<br />z<img src="/a.jpg" alt="A" /></p>',
        "<div><!-- a comment --><figure><img src=x><figcaption>Cap</figcaption></figure></div>",
        "AT & T, 5 > 3 &amp; more &",
        "<p>a<script async src=\"x.js\"></script> b<iframe src=x></iframe></p>",
    ],
)
def test_markup_the_sanitiser_leaves_alone_in_text_is_recognised(markup: str) -> None:
    assert unchanged_by_sanitising(markup)


@pytest.mark.parametrize(
    "markup",
    [
        "<p>a<script>if (a<b) x()</script></p>",  # feedparser reads markup inside a script
        "<p>a<iframe>fallback</iframe></p>",  # feedparser keeps the text, we do not
        "<p>a<o:p>b</o:p></p>",  # unknown element: tag dropped, text kept
        "<p>dash&#150;here</p>",  # cp1252 reference rewritten
        "<p>&bogus; entity</p>",
        "AT&T",  # "&T" read as an unknown entity
        "<p/>after",  # becomes <p></p>
        "<p>a</br>b</p>",
        "<p>a <!-- x -- y --> b</p>",
        "<p>3 < 4</p>",
        "<![CDATA[x]]>",
        '<a title="&#34;q&#34;">x</a>',
    ],
)
def test_markup_the_sanitiser_could_change_is_left_to_it(markup: str) -> None:
    assert not unchanged_by_sanitising(markup)


_PIECES = [
    "<p>", "</p>", "<div>", "</div>", "<b>", "</b>", "<br>", "<br/>", "</br>", "<img src=x>", "</img>",
    '<a href="/rel?a=1&amp;b=2">', "</a>", "<figure>", "<figcaption>", "</figcaption>", "</figure>",
    "<h2>", "</h2>", "<li>", "<ul>", "</ul>", "<span>", "</span>", "<P CLASS=X>", "<p/>", "<o:p>", "</o:p>",
    "<script>var a = 1;</script>", "<style>p {}</style>", "<iframe src=x></iframe>", "<nav>", "</nav>",
    "<svg><title>t</title></svg>", "<!-- c -->", "<!-- a -- b -->", "<!DOCTYPE x>", "<?pi x?>", "<![CDATA[c]]>",
    "&amp;", "&nbsp;", "&#8217;", "&#150;", "&#x96;", "&#39;", "&#34;", "&bogus;", "&amp", "& ", "&",
    "<", ">", " ", "\n", "\n\n", "\r\n", "word", "Ünïcödé", "â€™", "\x85", "\u2019", "中文", '<img alt="é">',
    '<img alt="中">', "&#X2019;", "&#x201A;", "&#039;", "<SCRIPT>x</SCRIPT>", "\r", "<hr/>", "</hr>",
    "Ã", "©", "\u00a0", "<area></area>", "<table><tr><td>", "</td></tr></table>", "<pre>", "</pre>",
    "<blockquote>", "</blockquote>",
]  # fmt: skip


def _rss(markup: str) -> bytes:
    cdata = markup.replace("]]>", "]]]]><![CDATA[>")
    item = (
        "<item><title>T</title><link>https://example.com/a</link><guid>g1</guid>"
        f"<description>Summary</description><content:encoded><![CDATA[{cdata}]]></content:encoded></item>"
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>F</title>'
        f"<link>https://example.com/</link>{item}</channel></rss>"
    ).encode()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=25))
def test_generated_entry_html_gives_the_documents_it_gives_when_sanitised(pieces: list[str]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        ours, sanitised = _both_ways(_rss("".join(pieces)), monkeypatch)
    assert ours == sanitised


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([p for p in _PIECES if _SIMPLE.fullmatch(p) or "<" not in p]), min_size=1, max_size=25))
def test_what_the_one_pass_pattern_takes_the_full_check_takes_too(pieces: list[str]) -> None:
    markup = "<p>" + "".join(pieces)
    if _SIMPLE.fullmatch(markup):
        assert full_check(markup, "")
