"""The fuzz target at suite size (a few seconds per target), and the crashes it found, kept as cases.

``python -m benchmarks.fuzz --minutes 10`` runs the same targets for longer (docs/reliability.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.fuzz import TARGETS, render, run_target
from ingest.cli import main
from ingest.errors import DecodeError
from ingest.formats import parse_feed
from ingest.formats.text import decode_text
from tests.conftest import CORPUS, make_app

SEED_TEXT = CORPUS.parent / "seed" / "voa-indonesia-korea-utara.txt"


@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_target_finds_no_crash_in_a_few_seconds(target: str) -> None:
    # The same inputs on every machine (seeded rounds), as many as fit in the time, at most 40.
    stats = run_target(target, seconds=4.0, first_seed=11, chunk=5, max_inputs=40)
    assert stats.inputs > 0
    assert not stats.crashes, render([stats])


# --- crashes found by the fuzz target ------------------------------------------------------------


@pytest.mark.parametrize("declared", ["\x00", "utf-8\x00", "x" * 10_000, " ", "utf-8; q=0"])
def test_a_charset_label_python_refuses_falls_through_to_detection(declared: str) -> None:
    # A Content-Type charset with a NUL made bytes.decode raise ValueError ("embedded null character").
    body = SEED_TEXT.read_bytes()
    assert decode_text(body, "story.txt", declared) == body.decode("utf-8")


def test_binary_with_a_refused_charset_label_is_a_named_decode_error() -> None:
    with pytest.raises(DecodeError, match=r"blob\.bin"):
        decode_text(bytes(range(256)) * 8, "blob.bin", "\x00")


def test_an_undeclared_prefix_in_a_feed_with_media_is_read_as_a_plain_element() -> None:
    # lxml's recovering parser keeps "content:encoded" as the tag when xmlns:content is missing (here a
    # garbled declaration); etree.QName refused the name and the feed parser raised ValueError.
    body = (
        b'<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><item><title>A</title>'
        b"<guid>g</guid><content:encoded>&lt;p&gt;Body text.&lt;/p&gt;</content:encoded></item></channel></rss>"
    )
    feed = parse_feed(body, "undeclared.xml")
    assert [block.text for block in feed.documents[0].blocks] == ["Body text."]
    assert any("undeclared.xml" in warning for warning in feed.warnings)


def test_a_real_feed_whose_content_namespace_declaration_is_garbled_still_parses() -> None:
    body = (CORPUS / "feeds" / "fastfeedparser__npr-world.xml").read_bytes()
    garbled = body.replace(b"xmlns:content=", b"mlns:content=", 1)
    assert garbled != body
    feed = parse_feed(garbled, "npr-world.xml")
    assert len(feed.documents) == len(parse_feed(body, "npr-world.xml").documents)


@pytest.mark.parametrize("args", [
    ["articles", "show", "9223372036854775808"],
    ["articles", "delete", "99999999999999999999"],
    ["dupes", "explain", "-9223372036854775809"],
    ["export", "--since-seq", "9223372036854775808"],
    ["export", "--limit", "9223372036854775808"],
    ["articles", "list", "--limit", "9223372036854775808"],
    ["feeds", "show", "npr", "--fetches", "9223372036854775808"],
    ["reingest", "--article", "9223372036854775808"],
])
def test_a_number_too_large_for_the_database_is_a_usage_error(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Found by the CLI target: `articles show 9223372036854775808` reached SQLite and ended as
    # "internal error: OverflowError".
    database = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    make_app(database).close()
    assert main(["--database-url", database, *args]) == 2
    err = capsys.readouterr().err
    assert "does not fit a 64-bit integer" in err and "internal error" not in err


def test_the_largest_64_bit_id_reaches_the_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    make_app(database).close()
    assert main(["--database-url", database, "articles", "show", "9223372036854775807"]) == 1
    assert "internal error" not in capsys.readouterr().err
