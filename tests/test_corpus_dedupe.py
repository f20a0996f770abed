"""Cross-article dedupe through the real CLI, on SQLite and PostgreSQL, with corpus text.

Near copies of paragraphs and captions, per-source template lines, whole stories republished
and updated, same-event stories kept apart, the index rebuilt from SQL, parameters checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from benchmarks.corpus_bodies import Corpus, Story
from config import load_settings
from dedupe import normalize
from dedupe.signatures import Signer
from ingest.app import App
from ingest.cli import main
from store import dedupe_repo
from store import repository as repo
from store.models import Article
from tests.conftest import edit_words

# Real boilerplate lines, from trafilatura's evaluation data ("must not appear" snippets).
TEMPLATE_LINES = ["Can we answer your question on the coronavirus?", "Four out of five jobs affected by virus globally"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class Cli:
    def __init__(self, url: str, tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.url, self.tmp, self.capsys = url, tmp, capsys
        self.count = 0
        assert run(capsys, "--database-url", url, "db", "upgrade")[0] == 0

    def ingest(self, title: str, blocks: list[str], source: str, url: str | None = None) -> int:
        self.count += 1
        path = self.tmp / f"article-{self.count}.txt"
        path.write_text("\n\n".join([title, *blocks]) + "\n", encoding="utf-8")
        args = ["--database-url", self.url, "ingest", str(path), "--format", "text", "--source", source]
        if url:
            args += ["--url", url]
        code, out, err = run(self.capsys, *args)
        assert code == 0, err
        assert out.startswith("created article "), out
        return int(out.split()[2].rstrip(":"))

    def show(self, article_id: int) -> dict:  # type: ignore[type-arg]
        code, out, err = run(self.capsys, "--database-url", self.url, "articles", "show", str(article_id), "--json")
        assert code == 0, err
        return json.loads(out)  # type: ignore[no-any-return]

    def changes(self) -> list[tuple[int, str]]:
        code, out, err = run(self.capsys, "--database-url", self.url, "export")
        assert code == 0, err
        return [(line["id"], line["change"]) for line in map(json.loads, out.splitlines())]


@pytest.fixture
def cli(database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(database_url, tmp_path, capsys)


@pytest.fixture(scope="module")
def stories(corpus: Path) -> Corpus:
    return Corpus(corpus)


def long_paragraphs(story: Story, minimum: int = 20) -> list[str]:
    return [p for p in story.paragraphs if len(p.split()) >= minimum]


def test_near_copy_of_a_paragraph_links_to_its_first_place(cli: Cli, stories: Corpus) -> None:
    first, other = stories.by_language("id")[:2]
    original = long_paragraphs(first)[0]
    first_id = cli.ingest(first.title, first.paragraphs, "antara")
    edited = edit_words(original, 2, seed=1)
    assert edited != original
    second_id = cli.ingest(other.title, [*other.paragraphs[:3], edited, *other.paragraphs[3:]], "detik")

    article = cli.show(second_id)
    linked = [p for p in article["paragraphs"] if p["duplicate_of"] is not None]
    assert len(linked) == 1, linked
    link = linked[0]
    assert link["text"] == edited
    assert link["duplicate_tier"] == "near"
    position = cli.show(first_id)["body"].index(original)
    assert link["duplicate_of"] == {"article_id": first_id, "position": position}
    assert 0.45 <= link["similarity"] < 1.0
    assert link["estimated"] is not None
    # One shared paragraph does not make the same story.
    assert article["canonical_id"] == second_id
    assert article["canonical"]["members"] == [second_id]


def test_exact_copy_and_reused_caption(cli: Cli, stories: Corpus) -> None:
    with_captions = [s for s in stories.stories() if s.captions and s.language == "en"]
    story, other = with_captions[0], stories.by_language("en")[5]
    caption = "FILE – " + story.captions[0]
    first_id = cli.ingest(story.title, [*story.paragraphs[:4], caption, *story.paragraphs[4:]], "voa")
    second_id = cli.ingest(other.title, [*other.paragraphs[:2], caption, *other.paragraphs[2:]], "voa")
    article = cli.show(second_id)
    [reused] = [p for p in article["paragraphs"] if p["kind"] == "caption"]
    assert reused["duplicate_tier"] == "exact" and reused["similarity"] == 1.0
    assert reused["duplicate_of"]["article_id"] == first_id
    assert reused["reused"] is True
    assert reused["text"] in article["captions"]  # it stays: it is content


def test_template_line_goes_from_every_article_of_the_source(cli: Cli, stories: Corpus) -> None:
    line = TEMPLATE_LINES[0]
    ids = []
    for story in stories.by_language("en")[10:15]:
        ids.append(cli.ingest(story.title, [*story.paragraphs[:6], line], "cbs"))
    # The fifth story crosses the threshold (template_min_articles = 5): gone from all five.
    for article_id in ids:
        article = cli.show(article_id)
        assert line not in article["body"]
        [removal] = [r for r in article["removed"] if r["text"] == line]
        assert removal["reason"] == "template"
        assert removal["duplicate_tier"] == "template"
        assert "5 stories" in removal["detail"]
    # Earlier articles got a new version in the change log.
    assert (ids[0], "updated") in cli.changes()
    # The same line in another source is that source's business.
    other = stories.by_language("en")[20]
    other_id = cli.ingest(other.title, [*other.paragraphs[:4], line], "elsewhere")
    assert line in cli.show(other_id)["body"]
    # A later story of the source loses it at once.
    later = stories.by_language("en")[21]
    later_id = cli.ingest(later.title, [*later.paragraphs[:4], line], "cbs")
    assert line not in cli.show(later_id)["body"]


def test_republished_story_joins_the_canonical_cluster(cli: Cli, stories: Corpus) -> None:
    story = stories.story("fundus__us__VoiceOfAmerica_2024_04_28")
    first_id = cli.ingest(story.title, story.paragraphs, "voa", "https://www.voanews.com/a/child-care/1.html")
    copy = [
        edit_words(p, 1, seed=i) if i % 4 == 1 and len(p.split()) > 8 else p for i, p in enumerate(story.paragraphs)
    ]
    copy_id = cli.ingest(story.title, copy[:-1], "apnews", "https://apnews.com/article/child-care-2")

    article = cli.show(copy_id)
    assert article["canonical_id"] == first_id
    assert article["story"]["canonical_id"] == first_id
    assert article["story"]["jaccard"] >= 0.5 or article["story"]["containment"] >= 0.7
    canonical = cli.show(first_id)
    assert canonical["canonical_id"] == first_id
    assert canonical["canonical"]["members"] == [first_id, copy_id]
    assert canonical["canonical"]["sources"] == ["voa", "apnews"]
    assert canonical["canonical"]["urls"] == [
        "https://www.voanews.com/a/child-care/1.html",
        "https://apnews.com/article/child-care-2",
    ]
    assert (copy_id, "merged") in cli.changes()


def test_an_update_becomes_a_new_version_of_the_canonical_article(cli: Cli, stories: Corpus) -> None:
    story = stories.by_language("id")[3]
    extra = long_paragraphs(stories.by_language("id")[4])[:2]
    first_id = cli.ingest(story.title, story.paragraphs, "voa-id", "https://www.voaindonesia.com/a/1.html")
    version = cli.show(first_id)["version"]
    update = [*story.paragraphs, *extra]
    update_id = cli.ingest(story.title, update, "voa-id", "https://www.voaindonesia.com/a/1-update.html")

    canonical = cli.show(first_id)
    updated = cli.show(update_id)
    assert updated["canonical_id"] == first_id
    assert canonical["text_from"] == update_id
    # The most complete and most recent text (as cleaned: datelines become data).
    assert canonical["body"] == updated["body"]
    assert len(canonical["body"]) == len(update) and canonical["body"][-2:] == extra
    assert canonical["version"] == version + 1
    changes = cli.changes()
    assert changes.count((first_id, "updated")) == 1
    assert (update_id, "merged") in changes


def test_same_event_stories_stay_apart(cli: Cli, stories: Corpus) -> None:
    cluster = [s for s in stories.stories() if s.cluster == "bubonic-plague"]
    assert len(cluster) >= 3
    ids = [cli.ingest(s.title, s.paragraphs, s.name.split("__")[1]) for s in cluster]
    for article_id in ids:
        assert cli.show(article_id)["canonical_id"] == article_id


def test_index_is_rebuilt_from_sql_in_a_new_process(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], stories: Corpus
) -> None:
    first, other = [s for s in stories.by_language("id") if len(long_paragraphs(s)) >= 2][5:7]
    cli = Cli(database_url, tmp_path, capsys)
    first_id = cli.ingest(first.title, first.paragraphs, "antara")
    # Every CLI call is a new App: the in-memory index starts empty and is loaded from SQL.
    edited = edit_words(long_paragraphs(first)[1], 1, seed=3)
    second_id = cli.ingest(other.title, [*other.paragraphs[:2], edited], "detik")
    linked = [p for p in cli.show(second_id)["paragraphs"] if p["duplicate_of"]]
    assert [p["duplicate_of"]["article_id"] for p in linked] == [first_id]
    code, out, err = run(capsys, "--database-url", database_url, "index", "rebuild")
    assert code == 0, err
    assert "blocks" in out


def test_signature_parameters_are_checked(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], stories: Corpus
) -> None:
    story = stories.by_language("id")[0]
    cli = Cli(database_url, tmp_path, capsys)
    cli.ingest(story.title, story.paragraphs, "antara")
    app = App(load_settings(environ={}, database_url=database_url))
    try:
        with app.sessions.begin() as session:
            repo.put_state(session, {"minhash.seed": "7"})
    finally:
        app.close()
    path = tmp_path / "again.txt"
    path.write_text(story.title + "\n\nSatu paragraf baru yang cukup panjang untuk diuji di sini.\n", encoding="utf-8")
    code, _, err = run(capsys, "--database-url", database_url, "ingest", str(path), "--format", "text")
    assert code != 0
    assert "minhash.seed: stored '7', configured '1'" in err
    assert "index rebuild --resign" in err
    code, _, err = run(capsys, "--database-url", database_url, "index", "rebuild", "--resign")
    assert code == 0, err
    assert run(capsys, "--database-url", database_url, "ingest", str(path), "--format", "text")[0] == 0


def test_one_shared_paragraph_does_not_read_the_other_body(
    cli: Cli, stories: Corpus, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored signature and shingle count rule the story out; a republished copy is still read."""
    first, second = stories.by_language("en")[2], stories.by_language("en")[7]
    shared = long_paragraphs(first)[0]
    first_id = cli.ingest(first.title, first.paragraphs, "voa")
    read: list[int] = []
    article_texts = dedupe_repo.article_texts

    def recording(session: Session, article_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        read.extend(article_ids)
        return article_texts(session, article_ids)

    monkeypatch.setattr(dedupe_repo, "article_texts", recording)
    second_id = cli.ingest(second.title, [*second.paragraphs, shared], "apnews")
    article = cli.show(second_id)
    assert article["paragraphs"][-1]["duplicate_of"]["article_id"] == first_id  # so a candidate
    assert article["canonical_id"] == second_id
    assert first_id not in read

    copy_id = cli.ingest(first.title, first.paragraphs[:-1], "kompas")
    assert cli.show(copy_id)["canonical_id"] == first_id
    assert first_id in read

    signer = Signer()
    app = App(load_settings(environ={}, database_url=database_url))
    try:
        with app.sessions.begin() as session:
            for article_id in (first_id, second_id, copy_id):
                body = [p.text for p in repo.paragraphs_of(session, article_id) if p.kind == "body"]
                stored = session.get(Article, article_id)
                assert stored is not None
                assert stored.body_shingles == len(signer.document(" ".join(normalize(p) for p in body))[1])
    finally:
        app.close()
