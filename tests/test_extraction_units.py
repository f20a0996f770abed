"""Decoding, language, rules and the HTML path end to end through the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from config import CONFIG_DIR, ConfigError, load_cleaning_rules
from ingest.cli import main
from ingest.extraction import HtmlExtractor, decide_language, declared_charset, decode_html
from ingest.extraction.dom import _union, check_selector, marker_string, parse_page
from ingest.extraction.metadata import language_code

FIXTURES = Path(__file__).parent / "fixtures"


def _body_text(html: str) -> str:
    document = HtmlExtractor(load_cleaning_rules(CONFIG_DIR / "rules")).parse(html, "k", None, "page")
    return "\n".join(b.text for b in document.blocks if b.boilerplate is None)


@pytest.mark.parametrize(
    ("page", "encoding", "label"),
    [
        ("newspaper4k__japanese_article2.html", "shift_jis", "Shift_JIS"),
        ("newspaper4k__chinese_article_001.html", "gb18030", "gb2312"),
        ("fundus__kr__HankookIlbo_2026_01_29.html", "euc-kr", "euc-kr"),
        ("readability__lemonde-1.html", "cp1252", "iso-8859-1"),
    ],
)
def test_legacy_encodings_decode_like_the_original(corpus: Path, page: str, encoding: str, label: str) -> None:
    original = (corpus / "pages" / page).read_bytes().decode("utf-8")
    # The same page as a legacy site would serve it: re-encoded, its declaration changed.
    declared = re.sub(r"(?i)charset\s*=\s*[\"']?[\w-]+", f"charset={label}", original, count=1)
    if declared == original:
        declared = original.replace("<head>", f'<head><meta charset="{label}">', 1)
    legacy = declared.encode(encoding, errors="ignore")
    assert declared_charset(legacy) == label.lower()
    decoded = decode_html(legacy, page)
    assert decoded == declared.encode(encoding, errors="ignore").decode(encoding)
    if "Hankook" not in page:
        assert _body_text(decoded) == _body_text(declared.encode(encoding, errors="ignore").decode(encoding))


def test_utf8_bytes_win_over_a_wrong_declaration(corpus: Path) -> None:
    # KapanLagi declares ISO-8859-1 but sends UTF-8: read as Latin-1, "®" would become "Â®".
    raw = (corpus / "pages" / "indo-scraper__kapanlagi-singlepage.html").read_bytes()
    assert declared_charset(raw) == "iso-8859-1"
    text = decode_html(raw, "kapanlagi")
    assert "KapanLagi.com®" in text and "Â" not in text


def test_http_charset_is_used_for_non_utf8_bytes() -> None:
    raw = "<html><body><p>Déjà vu à Paris, écrit en Latin-1.</p></body></html>".encode("latin-1")
    assert "Déjà vu" in decode_html(raw, "page", http_charset="ISO-8859-1")


def test_language_codes_and_decisions() -> None:
    assert language_code("id-ID") == "id" and language_code("in") == "id" and language_code("en_US") == "en"
    assert language_code("x") is None and language_code("") is None
    indonesian = (
        "Pemerintah Provinsi DKI Jakarta mulai membersihkan saluran air di lima wilayah kota menjelang musim "
        "hujan, yang menurut perkiraan akan datang lebih awal tahun ini."
    )
    assert decide_language(None, indonesian) == "id"
    assert decide_language("ms", indonesian) == "ms"  # a close language the page declares is kept
    assert decide_language("en", indonesian) == "id"  # a wrong template default is not
    assert decide_language("fr", "Too short.") == "fr"


def test_shipped_rules_are_valid() -> None:
    rules = load_cleaning_rules(CONFIG_DIR / "rules")
    assert [s.name for s in rules.sites] == ["pangea"]
    pangea = rules.sites[0]
    assert pangea.covers("www.voaindonesia.com") and pangea.covers("voanews.com") and not pangea.covers("voa.com.evil")
    for site in rules.sites:
        fields = ("detect", "body", "title", "standfirst", "byline", "dateline", "captions", "photo_credits", "drop")
        for field in fields:
            for selector in getattr(site, field):
                assert check_selector(selector) is None, (site.name, field, selector)
    for pattern in (*rules.photo_credit_patterns, *rules.trailer_patterns, *rules.byline_patterns):
        re.compile(pattern)
    assert rules.markup.boilerplate and rules.markup.caption and rules.markup.content


def test_marker_patterns_find_what_their_fragments_find(corpus: Path) -> None:
    """The compiled union (runs of \\b fragments grouped) matches exactly as the plain alternation."""
    markup = load_cleaning_rules(CONFIG_DIR / "rules").markup
    values = {"", "a b", "ab|cd", "tag-list x", "x tags", "share-tools related"}
    for page in sorted((corpus / "pages").glob("fundus__*.html"))[:15]:
        root = parse_page(page.read_text(encoding="utf-8", errors="replace"))
        values.update(marker_string(e.get("class"), e.get("id")) for e in root.iter() if isinstance(e.tag, str))
    extra = (r"\bfoo|bar\b", r"(?:^|\s)x(?:\s|$)", r"\b[|(]b", r"\bcd")  # top-level "|", no \b, "|" in a class
    for name in ("boilerplate", "content", "caption", "photo_credit", "standfirst", "byline", "image_box"):
        fragments = (*getattr(markup, name), *extra)
        plain = re.compile("|".join(f"(?:{f})" for f in fragments))
        union = _union(fragments)
        assert union is not None
        for value in values:
            want, got = plain.search(value), union.search(value)
            assert (want and want.group(0)) == (got and got.group(0)), (name, value)
    assert _union([r"\bfoo|bar"]).search("xbar") is not None  # type: ignore[union-attr]


def test_rules_loader_rejects_unknown_keys(tmp_path: Path) -> None:
    (tmp_path / "xx.toml").write_text('chrome_linez = ["oops"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="chrome_linez"):
        load_cleaning_rules(tmp_path)
    (tmp_path / "xx.toml").unlink()
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "cms.toml").write_text('body = ["div.story"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="never apply"):
        load_cleaning_rules(tmp_path)
    (tmp_path / "sites" / "cms.toml").write_text('domains = ["example.org"]\nbody = ["div.story"]\n', encoding="utf-8")
    assert load_cleaning_rules(tmp_path).sites[0].name == "cms"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_voa_indonesia_page_end_to_end(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    page = FIXTURES / "voaindonesia-pangea.html"
    assert run_cli(capsys, "--database-url", database_url, "db", "upgrade")[0] == 0
    code, out, err = run_cli(
        capsys, "--database-url", database_url, "ingest", str(page), "--source", "voa-id",
        "--url", "https://www.voaindonesia.com/a/warga-jakarta-bersiap-hadapi-musim-hujan/7900001.html",
    )  # fmt: skip
    assert code == 0, err
    article_id = out.split()[2].rstrip(":")
    code, out, err = run_cli(capsys, "--database-url", database_url, "articles", "show", article_id, "--json")
    article = json.loads(out)
    assert article["title"] == "Warga Jakarta bersiap hadapi musim hujan"
    assert article["language"] == "id"
    assert article["published_at"].startswith("2024-11-05T09:30")
    assert article["byline"] == "Rina Sari"
    assert [p[:40] for p in article["body"]] == [
        "Pemerintah Provinsi DKI Jakarta mulai me",
        "Kepala dinas sumber daya air mengatakan ",
        "Warga di bantaran Kali Ciliwung diminta ",
        "Badan Meteorologi, Klimatologi, dan Geof",
        '"Kami sudah menyiapkan 500 pompa air ber',
    ]
    # Captions once each (figcaption, its span.caption and the gallery copy), credits apart.
    captions = [(p["text"], p["photo_credit"]) for p in article["paragraphs"] if p["kind"] == "caption"]
    assert captions == [
        ("FILE – Petugas membersihkan saluran air di Jakarta, 18 Oktober 2024.", "AP Photo/Tatan Syuflana"),
        ("Gubernur Jakarta, kanan, meninjau rumah pompa di Pluit, Jakarta Utara, 1 November 2024.",
         "AP Photo/Achmad Ibrahim"),
    ]  # fmt: skip
    assert [p["kind"] for p in article["paragraphs"]] == ["caption", "body", "body", "body", "caption", "body", "body"]
    assert article["credit"] == "Beberapa informasi untuk laporan ini berasal dari The Associated Press dan Reuters."
    assert article["agencies"] == ["AP", "Reuters"]
    removed = {(r["text"], r["reason"]) for r in article["removed"]}
    assert {
        ("Breaking News", "site_chrome"),
        ("Baca juga: Banjir rob rendam pesisir utara Jakarta", "promo"),
        ("Sumber", "dangling_label"),
        ("(rs/ab)", "trailer"),
        ("JAKARTA —", "dateline_block"),
    } <= removed
    # Navigation, share bar and the related box are not the story, nor recorded as if they were.
    text = json.dumps(article, ensure_ascii=False)
    assert "Beranda" not in text and "Hujan deras landa Bogor" not in text and "Bagikan" not in text


def test_uncaptioned_photo_credits_are_stored_and_shown(
    database_url: str, capsys: pytest.CaptureFixture[str], corpus: Path
) -> None:
    feed = corpus / "feeds" / "rss-parser__guardian-us.rss"
    assert run_cli(capsys, "--database-url", database_url, "db", "upgrade")[0] == 0
    code, out, err = run_cli(capsys, "--database-url", database_url, "ingest", str(feed), "--source", "guardian")
    assert code == 0, err
    first_id = next(line.split()[2].rstrip(":") for line in out.splitlines() if line.startswith("created article"))
    code, out, err = run_cli(capsys, "--database-url", database_url, "articles", "show", first_id, "--json")
    article = json.loads(out)
    assert article["title"] == "Trump State of the Union address promised unity but emphasized discord"
    assert article["photo_credits"] == ["Photograph: Networ/Sipa USA/REX/Shutterstock"]
    assert article["captions"] == []
    # The same feed again: nothing changed, nothing written.
    code, out, err = run_cli(capsys, "--database-url", database_url, "ingest", str(feed), "--source", "guardian")
    assert code == 0 and "created article" not in out and "updated article" not in out, out
