"""Wire formats beyond RSS: a directory or URL of NITF and IPTC ninjs documents is a feed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from fetchkit import FeedServer, FetchEnv, articles_of, fetch_rows

from config import CONFIG_DIR, load_cleaning_rules
from ingest.app import App
from ingest.cleaning import Cleaner
from ingest.formats.ninjs import parse_ninjs
from ingest.formats.nitf import parse_nitf

WIRE = Path(__file__).parent / "fixtures" / "wire"
NITF = WIRE / "nitf" / "kereta-cepat-2026-03-02.xml"
NINJS_1 = WIRE / "ninjs" / "pelabuhan-ninjs1.json"
NINJS_2 = WIRE / "ninjs" / "festival-ninjs2.json"


def show(env: FetchEnv, article_id: int) -> dict[str, object]:
    code, out, err = env.cli("articles", "show", str(article_id), "--json")
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_directory_of_nitf_and_ninjs_documents(app: App, fetch_env: FetchEnv, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    for source in (NITF, NINJS_1, NINJS_2):
        shutil.copy(source, drop / source.name)
    (drop / ".incoming.tmp").write_text("half-written", encoding="utf-8")  # not a document
    fetch_env.add(str(drop), "wire")

    code, lines = fetch_env.fetch_lines("--feed", "wire")
    assert code == 0, lines
    assert lines["wire"] == "3 new, 0 updated, 0 unchanged"
    by_title = {a.title: a for a in articles_of(app, "wire")}
    train = show(fetch_env, by_title["Jalur kereta baru Bandung–Yogyakarta mulai diuji"].id)
    assert train["byline"] == "Rina Kartika"
    assert train["agencies"] == ["AP"]
    assert train["captions"] == [
        "FILE – Sebuah rangkaian kereta uji berhenti di stasiun Kiaracondong, Bandung, 14 Februari 2026."
    ]
    caption = next(p for p in train["paragraphs"] if p["kind"] == "caption")  # type: ignore[attr-defined]
    assert caption["photo_credit"] == "AP Photo/Dimas Ardian"
    assert train["body"][0].startswith("Uji coba berlangsung dua pekan")  # type: ignore[index]
    assert train["published_at"] == "2026-03-02T01:30:00+00:00"

    port = show(fetch_env, by_title["Pelabuhan Tanjung Priok memperpanjang jam layanan peti kemas"].id)
    assert port["captions"] == [
        "Truk peti kemas antre di gerbang Pelabuhan Tanjung Priok, Jakarta, 2 Maret 2026.",
        "Kapal kargo bersandar di Pelabuhan Tanjung Priok, Jakarta, 1 Maret 2026.",
    ]
    festival = show(fetch_env, by_title["Festival musik Makassar menarik puluhan ribu pengunjung"].id)
    assert festival["agencies"] == ["AFP"] and festival["byline"] == "Andi Pratama"
    assert len(festival["body"]) == 4  # type: ignore[arg-type]
    rows = fetch_rows(app, "wire")
    assert sorted(r.url.rsplit("/", 1)[-1] for r in rows) == sorted(p.name for p in (NITF, NINJS_1, NINJS_2))

    # Nothing new in the drop: one "unchanged" row for the directory.
    code, lines = fetch_env.fetch_lines("--feed", "wire")
    assert lines["wire"] == "unchanged"
    assert fetch_rows(app, "wire")[-1].outcome == "unchanged"

    # The agency re-sends the story, corrected: same doc-id, so a new version of the same article.
    corrected = NITF.read_text(encoding="utf-8").replace("sekitar lima jam", "sekitar empat setengah jam")
    (drop / "kereta-cepat-2026-03-02-v2.xml").write_text(corrected, encoding="utf-8")
    code, lines = fetch_env.fetch_lines("--feed", "wire")
    assert lines["wire"] == "0 new, 1 updated, 0 unchanged"
    updated = next(a for a in articles_of(app, "wire") if a.title == train["title"])
    assert updated.id == train["id"] and updated.version == 2


def test_ninjs_and_nitf_urls(sqlite_app: App, sqlite_fetch_env: FetchEnv, feed_server: FeedServer) -> None:
    sqlite_fetch_env.add(feed_server.static("/wire/item.json", NINJS_2.read_bytes(), "application/json"), "ninjs")
    sqlite_fetch_env.add(feed_server.static("/wire/story.xml", NITF.read_bytes(), "application/xml"), "nitf")
    code, results = sqlite_fetch_env.fetch("--all")
    assert code == 0
    assert (results["ninjs"]["created"], results["nitf"]["created"]) == (1, 1)
    assert [a.entry_key for a in articles_of(sqlite_app, "ninjs")] == ["id:urn:newsdedup:sample:ninjs:0002"]
    assert [a.entry_key for a in articles_of(sqlite_app, "nitf")] == ["id:newsdedup-sample-nitf-0001"]


def test_wire_agencies_named_in_full_take_the_names_found_in_text() -> None:
    cleaner = Cleaner(load_cleaning_rules(CONFIG_DIR / "rules"))
    full_name = b"<distributor>The Associated Press</distributor>"
    nitf = NITF.read_bytes().replace(b"<distributor>AP</distributor>", full_name)
    assert cleaner.clean(parse_nitf(nitf, str(NITF))).agencies == ["AP"]

    story = json.loads(NINJS_2.read_text(encoding="utf-8"))
    story["infosources"] = [{"name": "Agence France-Presse"}, {"name": "Kantor Berita Antara"}, {"name": "Tempo"}]
    [document] = parse_ninjs(json.dumps(story).encode(), str(NINJS_2))
    assert document.agencies == ["Agence France-Presse", "Kantor Berita Antara", "Tempo"]
    assert cleaner.clean(document).agencies == ["AFP", "Antara", "Tempo"]
