"""Bad input, systematically: each input ends as an article or a recorded, named error.

Inputs are real corpus files damaged in the ways real feeds and pages are damaged: truncated,
garbled, lying about their encoding, enormous or deeply nested markup, null bytes, invalid dates,
odd URL schemes. The process never dies and the database never holds a half-written article.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ingest.app import App
from ingest.pipeline import Input, Pipeline
from store.models import Article, ArticleChange, ArticleParagraph, Fetch
from tests.conftest import CORPUS, make_app

FEEDS = sorted((CORPUS / "feeds").glob("fastfeedparser__*.xml"))[:6] + sorted((CORPUS / "feeds").glob("*.atom"))[:2]
PAGES = sorted((CORPUS / "pages").glob("aeb__*.html"))[:4] + sorted((CORPUS / "pages").glob("fundus__*.html"))[:2]
SEED = CORPUS.parent / "seed" / "voa-indonesia-korea-utara.txt"
SAMPLES = [*FEEDS, *PAGES, SEED]

ENCODING_LIES = ["utf-8", "iso-8859-1", "utf-16", "shift_jis", "koi8-r", "x-bogus-charset", "utf-32", ""]
ODD_URLS = ["javascript:alert(1)", "data:text/html,<b>x</b>", "file:///etc/passwd", "ftp://x/y", "http://", "::::"]
BAD_DATES = ["Mon, 99 Foo 20x6 25:61:00 +9999", "0000-00-00T00:00:00Z", "yesterday", "9" * 40, ""]


@pytest.fixture(scope="module")
def bad_input_app() -> Iterator[App]:
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(f"sqlite:///{Path(folder) / 'fuzz.sqlite3'}")
        yield app
        app.close()


@st.composite
def damaged_documents(draw: st.DrawFn) -> tuple[str, bytes]:
    path = draw(st.sampled_from(SAMPLES))
    body = path.read_bytes()
    damage = draw(
        st.sampled_from(
            ["truncate", "garble", "nulls", "encoding_lie", "huge_attribute", "deep_nesting", "bad_dates", "odd_urls",
             "binary"]
        )
    )
    if damage == "truncate":
        body = body[: draw(st.integers(0, len(body)))]
    elif damage == "garble":
        data = bytearray(body)
        for _ in range(draw(st.integers(1, 200))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        body = bytes(data)
    elif damage == "nulls":
        at = draw(st.integers(0, len(body)))
        body = body[:at] + b"\x00" * draw(st.integers(1, 64)) + body[at:]
    elif damage == "encoding_lie":
        lie = draw(st.sampled_from(ENCODING_LIES)).encode()
        body = body.replace(b'encoding="UTF-8"', b'encoding="' + lie + b'"').replace(
            b'encoding="utf-8"', b'encoding="' + lie + b'"'
        ).replace(b'charset="utf-8"', b'charset="' + lie + b'"').replace(b"charset=utf-8", b"charset=" + lie)
    elif damage == "huge_attribute":
        body = body.replace(b"<a ", b'<a title="' + b"x" * 2_000_000 + b'" ', 1) or body
    elif damage == "deep_nesting":
        depth = draw(st.integers(1_000, 50_000))
        body = body.replace(b"<p>", b"<div>" * depth + b"<p>", 1)
    elif damage == "bad_dates":
        bad = draw(st.sampled_from(BAD_DATES)).encode()
        for tag in (b"pubDate", b"published", b"updated", b"dc:date"):
            body = body.replace(b"<" + tag + b">", b"<" + tag + b">" + bad + b"<!--", 1).replace(
                b"</" + tag + b">", b"--></" + tag + b">", 1
            )
    elif damage == "odd_urls":
        odd = draw(st.sampled_from(ODD_URLS)).encode()
        body = body.replace(b"<link>", b"<link>" + odd + b"<!--", 3).replace(b"</link>", b"--></link>", 3)
    elif damage == "binary":
        body = draw(st.binary(min_size=0, max_size=4096))
    return f"{path.name}[{damage}]", body


def assert_nothing_half_written(app: App) -> None:
    with app.sessions() as session:
        articles = session.scalar(select(func.count()).select_from(Article)) or 0
        created = session.scalar(
            select(func.count()).select_from(ArticleChange).where(ArticleChange.change == "created")
        ) or 0
        assert articles == created
        orphans = session.scalar(
            select(func.count())
            .select_from(ArticleParagraph)
            .where(~ArticleParagraph.article_id.in_(select(Article.id)))
        )
        assert orphans == 0
        empty = session.scalar(
            select(func.count()).select_from(Article).where(
                Article.title.is_(None), ~Article.id.in_(select(ArticleParagraph.article_id))
            )
        )
        assert empty == 0


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(document=damaged_documents(), fmt=st.sampled_from(["auto", "feed", "html", "text"]))
def test_damaged_input_ends_as_article_or_named_error(
    bad_input_app: App, document: tuple[str, bytes], fmt: str
) -> None:
    name, body = document
    pipeline = Pipeline(bad_input_app.sessions, bad_input_app.cleaner, bad_input_app.signer)
    result = pipeline.ingest(Input(body=body, source="fuzz", location=name, entry_key=f"fuzz:{name}", format=fmt))
    assert result.fetch_id is not None
    with bad_input_app.sessions() as session:
        fetch = session.get(Fetch, result.fetch_id)
        assert fetch is not None
        if result.error:
            assert fetch.outcome == "error" and fetch.error
            assert name in result.error  # the error names the input
        else:
            assert fetch.outcome == "ok"
            assert result.articles or result.warnings
    for outcome in result.articles:
        if outcome.error:
            assert name in outcome.error
    assert_nothing_half_written(bad_input_app)


@settings(max_examples=40, deadline=None)
@given(args=st.lists(st.sampled_from(
    ["ingest", "articles", "show", "list", "export", "--json", "--since-seq", "-1", "abc", "--format", "pdf",
     "feeds", "db", "--database-url", "nope://x", "99999999999999999999", "", "\x00", "--source"]), max_size=6))
def test_cli_never_crashes_on_odd_arguments(args: list[str], tmp_path_factory: pytest.TempPathFactory) -> None:
    from ingest.cli import main

    database = tmp_path_factory.mktemp("cli") / "cli.sqlite3"
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(["--database-url", f"sqlite:///{database}", *args])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 2
    assert code in (0, 1, 2)
    assert "internal error" not in errors.getvalue()
    assert "Traceback" not in errors.getvalue()
