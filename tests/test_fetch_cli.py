"""The feeds and fetch commands: registry, declarations in TOML, the demo feeds, health output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fetchkit import FeedServer, FetchEnv, feed_row, fetch_rows

from config import CONFIG_DIR, load_feed_specs
from ingest.app import App
from ingest.cli import build_parser
from ingest.fetching import default_feed_name

NPR = "feeds/fastfeedparser__npr-world.xml"


def test_feeds_add_list_remove(app: App, fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path) -> None:
    url = feed_server.static("/rss/world.xml", (corpus / NPR).read_bytes())
    code, out, err = fetch_env.cli("feeds", "add", url, "--interval", "20m", "--source", "npr")
    assert code == 0, err
    name = "127-0-0-1-rss-world"
    assert out == f"added feed {name}: {url}\n"
    code, _, err = fetch_env.cli("feeds", "add", url)
    assert code == 1 and f"a feed named '{name}' already exists" in err

    code, out, _ = fetch_env.cli("feeds", "list", "--json")
    listed = json.loads(out)
    assert [(f["name"], f["source"], f["interval_seconds"], f["last_success_at"]) for f in listed] == [
        (name, "npr", 1200, None)
    ]
    fetch_env.fetch("--feed", name)
    code, out, _ = fetch_env.cli("feeds", "list")
    assert out.startswith(name) and "last ok 20" in out and " next 20" in out and "  ok  " in out

    code, out, _ = fetch_env.cli("feeds", "show", name, "--json")
    shown = json.loads(out)
    assert [f["outcome"] for f in shown["fetches"]] == ["ok"]
    assert shown["fetches"][0]["articles_created"] == 10

    code, out, _ = fetch_env.cli("feeds", "remove", name)
    assert code == 0
    code, out, _ = fetch_env.cli("feeds", "list", "--json")
    assert json.loads(out) == []
    code, _, err = fetch_env.cli("fetch", "--feed", name)
    assert code == 1 and f"no feed named '{name}'" in err
    # Its articles and fetch history stay; adding it back resumes it.
    assert len(fetch_rows(app, name)) == 1
    code, _, err = fetch_env.cli("feeds", "add", url, "--name", name)
    assert code == 0, err


def test_fetch_with_nothing_due(sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path) -> None:
    sqlite_fetch_env.add(feed_server.static("/npr.xml", (corpus / NPR).read_bytes()), "npr")
    code, results = sqlite_fetch_env.fetch()
    assert code == 0 and list(results) == ["npr"]  # never polled: due
    code, out, err = sqlite_fetch_env.cli("fetch")
    assert code == 0 and out == ""
    assert "no feed is due" in err
    assert len(feed_server.requests) == 1


def test_demo_feeds_sync_and_fetch(sqlite_app: App, sqlite_fetch_env: FetchEnv) -> None:
    demo = CONFIG_DIR / "demo-feeds.toml"
    code, out, err = sqlite_fetch_env.cli("feeds", "sync", str(demo))
    assert code == 0, err
    assert out.splitlines()[-1] == f"{demo}: 2 feeds declared, 2 added, 0 updated, 0 unchanged, 0 removed"
    assert feed_row(sqlite_app, "demo-voa-id-berita").url.startswith("file:///")

    code, lines = sqlite_fetch_env.fetch_lines("--all")
    assert code == 0
    assert lines == {
        "demo-voa-id-berita": "2 new, 0 updated, 0 unchanged",
        "demo-voa-id-dunia": "2 new, 0 updated, 0 unchanged",
    }
    code, lines = sqlite_fetch_env.fetch_lines("--all")
    assert lines == {"demo-voa-id-berita": "unchanged", "demo-voa-id-dunia": "unchanged"}

    code, out, _ = sqlite_fetch_env.cli("articles", "list", "--json")
    articles = {a["title"]: a for a in map(json.loads, out.splitlines())}
    flood = articles["Banjir rob genangi permukiman pesisir utara Jakarta"]
    code, out, _ = sqlite_fetch_env.cli("articles", "show", str(flood["id"]), "--json")
    shown = json.loads(out)
    assert shown["url"] == "https://samples.newsdedup.example/voa-id/a/banjir-rob-jakarta-utara/900101.html"
    assert shown["captions"] == [
        "FILE – Warga melintasi genangan banjir rob di Muara Angke, Jakarta Utara, 5 Desember 2025."
    ]
    assert shown["agencies"] == ["Reuters", "Antara"]
    assert {r["reason"] for r in shown["removed"]} >= {"repeated_caption", "site_chrome"}

    # Sync again: nothing changes. A changed declaration is an update.
    code, out, _ = sqlite_fetch_env.cli("feeds", "sync", str(demo))
    assert out.splitlines()[-1].endswith("0 added, 0 updated, 2 unchanged, 0 removed")


def test_sync_updates_and_prunes(sqlite_app: App, sqlite_fetch_env: FetchEnv, tmp_path: Path) -> None:
    samples = CONFIG_DIR / "samples"
    declared = tmp_path / "feeds.toml"
    declared.write_text(
        f'[[feed]]\nname = "one"\nurl = "{samples / "voa-id-berita.xml"}"\n'
        f'[[feed]]\nname = "two"\nurl = "{samples / "voa-id-dunia.xml"}"\ninterval = "20m"\n',
        encoding="utf-8",
    )
    assert sqlite_fetch_env.cli("feeds", "sync", str(declared))[0] == 0
    declared.write_text(
        f'[[feed]]\nname = "two"\nurl = "{samples / "voa-id-dunia.xml"}"\ninterval = "45m"\nfetch_pages = true\n',
        encoding="utf-8",
    )
    code, out, _ = sqlite_fetch_env.cli("feeds", "sync", str(declared), "--prune")
    assert code == 0
    assert out.splitlines()[:2] == ["updated feed two", "removed feed one"]
    two = feed_row(sqlite_app, "two")
    assert (two.interval_seconds, two.fetch_pages) == (2700, True)
    assert feed_row(sqlite_app, "one").removed_at is not None


def test_sync_refuses_a_bad_file_before_writing_anything(sqlite_fetch_env: FetchEnv, tmp_path: Path) -> None:
    declared = tmp_path / "feeds.toml"
    declared.write_text(
        '[[feed]]\nname = "good"\nurl = "https://news.example/rss"\n'
        '[[feed]]\nname = "bad"\nurl = "gopher://news.example/rss"\n',
        encoding="utf-8",
    )
    code, _, err = sqlite_fetch_env.cli("feeds", "sync", str(declared))
    assert code == 1
    assert "feed 'bad': gopher://news.example/rss: only http, https and file URLs are fetched, not gopher" in err
    code, out, _ = sqlite_fetch_env.cli("feeds", "list", "--json")
    assert json.loads(out) == []


def test_the_shipped_feeds_file_declares_voa_indonesia_and_wire_feeds(sqlite_fetch_env: FetchEnv) -> None:
    specs = load_feed_specs(CONFIG_DIR / "feeds.toml")
    urls = {spec.name: spec.url for spec in specs}
    assert urls["voa-id-berita"] == "https://www.voaindonesia.com/api/zmgqoe$moi"
    assert {spec.source for spec in specs} >= {"voa-id", "voa-en", "antara"}
    # Registering them does not touch the network.
    code, out, err = sqlite_fetch_env.cli("feeds", "sync", str(CONFIG_DIR / "feeds.toml"))
    assert code == 0, err
    assert f"{len(specs)} added" in out


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://www.voaindonesia.com/api/zmgqoe$moi", "voaindonesia-com-api-zmgqoe-moi"),
        ("https://www.antaranews.com/rss/terkini.xml", "antaranews-com-rss-terkini"),
        ("file:///srv/wire/ap/", "ap"),
    ],
)
def test_default_feed_names(url: str, name: str) -> None:
    assert default_feed_name(url) == name


@pytest.mark.parametrize(
    "argv",
    [["fetch"], ["feeds", "add"], ["feeds", "remove"], ["feeds", "sync"], ["feeds", "show"], ["feeds", "revert-url"]],
)
def test_every_fetching_command_shows_an_example(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([*argv, "--help"])
    assert "example:\n  newsdedup " in capsys.readouterr().out
