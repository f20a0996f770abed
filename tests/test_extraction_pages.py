"""The extractor on real pages of the corpus: VOA's Pangea sites, galleries, every page ingests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.extraction import caption_found
from config import CONFIG_DIR, load_cleaning_rules, load_settings
from dedupe import normalize
from ingest.app import App
from ingest.cli import main
from ingest.documents import BlockKind, ParsedDocument
from ingest.extraction import HtmlExtractor, decode_html
from ingest.extraction.article import extract_article


@pytest.fixture(scope="module")
def extractor() -> HtmlExtractor:
    return HtmlExtractor(load_cleaning_rules(CONFIG_DIR / "rules"))


@pytest.fixture(scope="module")
def cleaner_app() -> App:
    return App(load_settings(environ={}))


def parse(extractor: HtmlExtractor, path: Path, url: str | None = None) -> ParsedDocument:
    return extractor.parse(decode_html(path.read_bytes(), str(path)), "key", url, str(path))


def test_voa_pangea_article(corpus: Path, extractor: HtmlExtractor, cleaner_app: App) -> None:
    page = corpus / "pages" / "fundus__us__VoiceOfAmerica_2024_04_28.html"
    expected = json.loads(page.with_name(page.name.replace(".html", ".expected.json")).read_text("utf-8"))
    document = parse(extractor, page)
    assert document.site == "pangea" and document.extraction == "site"
    assert document.title == "America's child care crisis is holding back moms without college degrees"
    assert document.canonical_url == (
        "https://www.voanews.com/a/america-s-child-care-crisis-is-holding-back-moms-without-college-degrees-/7585813.html"
    )
    assert document.published_at == datetime(2024, 4, 28, 7, 0, tzinfo=UTC)
    assert document.authors == ["Associated Press"] and document.language == "en"
    # The dateline is metadata, not the start of the first paragraph.
    assert [b.text for b in document.blocks if b.kind is BlockKind.DATELINE] == ["AUBURN, Wash. —"]

    article = cleaner_app.cleaner.clean(document)
    paragraphs = [p for section in expected["body"]["sections"] for p in section["paragraphs"]]
    assert article.body == paragraphs
    # The lead photo's caption first, then the two in the story, each once, in page order.
    assert article.captions == [image["caption"] for image in expected["images"]]
    kinds = [b.kind for b in article.blocks]
    assert kinds[0] is BlockKind.CAPTION and kinds.count(BlockKind.CAPTION) == 3


def test_polygraph_fact_check_on_pangea(corpus: Path, extractor: HtmlExtractor, cleaner_app: App) -> None:
    page = corpus / "pages" / "aeb__polygraph.info__1ee91d1fce65.html"
    expected = json.loads(page.with_name(page.name.replace(".html", ".expected.json")).read_text("utf-8"))
    document = parse(extractor, page)
    assert document.site == "pangea"
    article = cleaner_app.cleaner.clean(document)
    expected_paragraphs = [p for p in expected["articleBody"].split("\n") if p.strip()]
    body = [normalize(p) for p in article.body]
    assert all(normalize(p) in body for p in expected_paragraphs)
    # Only the standfirst is extra.
    assert len(article.body) == len(expected_paragraphs) + 1
    assert article.subtitle == "Information from multiple sources disputes the claims"


def test_pangea_is_recognised_by_its_markup_on_any_host(corpus: Path, extractor: HtmlExtractor) -> None:
    page = corpus / "pages" / "fundus__us__VoiceOfAmerica_2024_04_28.html"
    document = parse(extractor, page, url="https://mirror.example.org/a/7585813.html")
    assert document.site == "pangea" and document.extraction == "site"


def test_gallery_captions_once_with_credits_apart(corpus: Path, extractor: HtmlExtractor, cleaner_app: App) -> None:
    page = corpus / "pages" / "fundus__us__APNews_2024_09_03.html"
    expected = json.loads(page.with_name(page.name.replace(".html", ".expected.json")).read_text("utf-8"))
    article = cleaner_app.cleaner.clean(parse(extractor, page))
    # The carousel holds every caption twice (slide and full-screen overlay): each comes out once.
    captions = {c.text: c.photo_credit for c in article.blocks if c.kind is BlockKind.CAPTION}
    assert len(captions) == len(article.captions)
    for image in expected["images"]:
        assert image["caption"] in captions
        assert captions[image["caption"]] == image["authors"][0]  # "AP Photo/Charles Rex Arbogast"
    assert not any("AP Photo/" in text for text in captions)
    # "LA CROSSE, Wis. (AP) —" is a wire dateline: credit and agency, not body text.
    assert article.body[0].startswith("After a summer of historic tumult")
    assert "AP" in article.agencies


def test_figure_caption_credit_element(corpus: Path, extractor: HtmlExtractor) -> None:
    # Le Monde hides its figcaption from screen readers (aria-hidden) and marks the credit up.
    document = parse(extractor, corpus / "pages" / "fundus__fr__LeMonde_2023_09_01.html")
    captions = [b for b in document.blocks if b.kind is BlockKind.CAPTION]
    assert [(c.text, c.photo_credit) for c in captions] == [
        (
            "La secrétaire générale de la CGT, Sophie Binet, à Matignon, à Paris, le 12 juillet 2023.",
            "BERTRAND GUAY / AFP",
        )
    ]
    assert document.language == "fr"


def test_article_in_script_data_is_read(corpus: Path, extractor: HtmlExtractor) -> None:
    # Hankook Ilbo (Next.js): the saved page's markup is empty, the story is in the script payload.
    page = corpus / "pages" / "fundus__kr__HankookIlbo_2026_01_29.html"
    expected = json.loads(page.with_name(page.name.replace(".html", ".expected.json")).read_text("utf-8"))
    document = parse(extractor, page)
    assert document.extraction == "payload" and document.language == "ko"
    body = " ".join(b.text for b in document.blocks if b.kind is BlockKind.BODY and b.boilerplate is None)
    for paragraph in expected["body"]["sections"][1]["paragraphs"]:
        assert normalize(paragraph) in normalize(body)
    captions = [b for b in document.blocks if b.kind is BlockKind.CAPTION]
    assert len(captions) == len(expected["images"])
    for caption, image in zip(captions, expected["images"], strict=True):
        assert caption_found(image["caption"], [caption.text])
        assert caption.photo_credit is not None and image["authors"][0] in caption.photo_credit


def test_indonesian_page_boilerplate_and_trailer(corpus: Path, extractor: HtmlExtractor, cleaner_app: App) -> None:
    page = corpus / "pages" / "indo-scraper__detik-singlepage.html"
    expected = json.loads(page.with_name(page.name.replace(".html", ".expected.json")).read_text("utf-8"))
    article = extract_article(page.read_bytes(), cleaner_app.cleaner, url=expected["url"], extractor=extractor)
    assert article.language == "id"
    assert article.body[0].startswith("Jakarta - Galaxy S6 Edge, dengan material premium")
    assert article.body[-1].startswith("Samsung menyarankan agar pengguna selalu update software")
    # The related-stories box and the editors' initials are not story text.
    assert not any("WIB" in p for p in article.body)
    assert ("(fyk/ash)", "trailer") in {(r.text, r.reason) for r in article.removed}


def test_every_corpus_page_ingests(corpus: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    pages = sorted(p for p in (corpus / "pages").glob("*.html") if ".expected" not in p.name)
    assert len(pages) >= 140
    assert main(["--database-url", sqlite_url, "db", "upgrade"]) == 0
    capsys.readouterr()
    code = main(["--database-url", sqlite_url, "ingest", "--format", "html", "--source", "corpus", *map(str, pages)])
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert "Traceback" not in captured.err
    # Each page is an article, or an error line naming the page.
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(lines) + len(errors) == len(pages), (captured.out, captured.err)
    assert all(any(p.name in e for p in pages) for e in errors)
    assert code == (1 if errors else 0)
    assert len(lines) >= len(pages) - 3
