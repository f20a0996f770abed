"""Only http(s) and file URLs; no private, loopback or link-local address unless allowed."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import httpcore
import pytest
from fetchkit import FeedServer, FetchEnv, feed_row, fetch_rows

from ingest.app import App
from ingest.fetching.safety import AddressPolicy, GuardedBackend, RefusedAddressError, address_problem


def test_loopback_is_refused_unless_allowed(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer, corpus: Path
) -> None:
    sqlite_fetch_env.configure(allowed_hosts=[])
    url = feed_server.static("/feed.xml", (corpus / "feeds/fastfeedparser__npr-world.xml").read_bytes())
    code, _, err = sqlite_fetch_env.cli("feeds", "add", url, "--name", "literal")
    assert code == 1
    assert "refused: 127.0.0.1 resolves to 127.0.0.1 (loopback)" in err

    # A name is resolved when we connect, and its addresses are checked there.
    named = feed_server.url("/feed.xml", host="localhost")
    sqlite_fetch_env.add(named, "named")
    code, results = sqlite_fetch_env.fetch("--feed", "named")
    assert code == 1
    assert results["named"]["error"].startswith(f"{named}: refused: localhost resolves to ")
    assert "(loopback)" in results["named"]["error"]
    assert feed_server.requests == []  # not one byte reached the server
    assert [r.outcome for r in fetch_rows(sqlite_app, "named")] == ["error"]

    sqlite_fetch_env.configure(allowed_hosts=["localhost"])
    code, results = sqlite_fetch_env.fetch("--feed", "named")
    assert code == 0 and results["named"]["created"] == 10


def test_redirect_to_a_private_or_file_address_is_refused(
    sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer
) -> None:
    metadata = feed_server.redirect("/meta.xml", 302, "http://169.254.169.254/latest/meta-data/")
    to_file = feed_server.redirect("/file.xml", 301, "file:///etc/passwd")
    sqlite_fetch_env.add(metadata, "metadata")
    sqlite_fetch_env.add(to_file, "file")
    code, results = sqlite_fetch_env.fetch("--all")
    assert code == 1
    assert results["metadata"]["error"] == (
        "http://169.254.169.254/latest/meta-data/: refused: 169.254.169.254 resolves to 169.254.169.254 "
        "(link-local); private, loopback and link-local addresses are fetched only when fetch.allowed_hosts "
        "or fetch.allow_private_addresses allows them"
    )
    assert results["file"]["error"].endswith(f"/etc/passwd: refused: {to_file} redirects to a non-HTTP URL")
    assert feed_row(sqlite_app, "file").url == to_file  # a refused move is not followed, nor recorded


def test_only_http_https_and_file_urls(sqlite_fetch_env: FetchEnv, tmp_path: Path) -> None:
    code, _, err = sqlite_fetch_env.cli("feeds", "add", "ftp://ftp.example.org/feed.xml", "--name", "ftp")
    assert code == 1
    assert err.strip() == (
        "newsdedup: error: ftp://ftp.example.org/feed.xml: only http, https and file URLs are fetched, not ftp"
    )
    feed = tmp_path / "local.xml"
    feed.write_text("<rss version='2.0'><channel><title>x</title></channel></rss>", encoding="utf-8")
    sqlite_fetch_env.configure(allow_file_urls=False)
    code, _, err = sqlite_fetch_env.cli("feeds", "add", str(feed), "--name", "local")
    assert code == 1 and "file URLs are disabled (fetch.allow_file_urls = false)" in err


def test_the_check_runs_where_the_socket_opens(feed_server: FeedServer) -> None:
    # What defeats DNS rebinding: the addresses the connection uses are the ones checked.
    refusing = GuardedBackend(AddressPolicy())
    with pytest.raises(RefusedAddressError, match=r"localhost resolves to .*\(loopback\)"):
        refusing.connect_tcp("localhost", feed_server.port, timeout=2)
    allowing = GuardedBackend(AddressPolicy.from_settings(False, ["127.0.0.0/8"]))
    stream = allowing.connect_tcp("localhost", feed_server.port, timeout=2)
    try:
        peer = stream.get_extra_info("socket").getpeername()
        assert peer[0] == "127.0.0.1"  # ::1 was filtered out: only allowed addresses are dialled
    finally:
        stream.close()
    with pytest.raises(httpcore.ConnectError, match="cannot resolve"):
        allowing.connect_tcp("no-such-host.invalid", 80, timeout=2)


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.1.10", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "not public"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_classes(address: str, problem: str | None) -> None:
    assert address_problem(ipaddress.ip_address(address)) == problem


def test_allowed_networks_and_names() -> None:
    policy = AddressPolicy.from_settings(False, ["10.0.0.0/8", "intranet.example", "::1"])
    assert policy.vet("wire.local", ["10.9.8.7", "192.168.0.1"]) == ["10.9.8.7"]
    assert policy.vet("intranet.example", ["192.168.0.1"]) == ["192.168.0.1"]
    assert policy.vet("public.example", ["93.184.216.34", "127.0.0.1"]) == ["93.184.216.34"]
    with pytest.raises(RefusedAddressError):
        policy.vet("sneaky.example", ["127.0.0.1"])
