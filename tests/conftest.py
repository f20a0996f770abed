"""Shared fixtures: databases (SQLite and PostgreSQL), the corpus, a migrated app.

PostgreSQL: each test session creates its own database on the server named by
``NEWSDEDUP_TEST_PG`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``) and drops it
at the end, so parallel runs never share state. Under CI (``CI=true``) an unreachable server fails
the run instead of skipping.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fetchkit import FeedServer, FetchEnv
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import load_settings
from ingest import migrations
from ingest.app import App
from ingest.documents import BlockKind, ParsedBlock, ParsedDocument
from ingest.pipeline import Input, Pipeline

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("NEWSDEDUP_CORPUS", REPO.parent / "shared" / "corpus"))
SEED = Path(os.environ.get("NEWSDEDUP_SEED", REPO.parent / "shared" / "seed"))
PG_ADMIN_URL = os.environ.get("NEWSDEDUP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Under CI the property tests replay the same examples every run: a red build always means a change.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if IN_CI:
    hypothesis_settings.load_profile("ci")


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """An admin URL to the PostgreSQL server; skip (or fail under CI) when it is down."""
    problem = _pg_available()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is required under CI and unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    yield PG_ADMIN_URL


@pytest.fixture(scope="session")
def pg_database_factory(pg_server: str) -> Iterator[object]:
    """Creates fresh databases on the server; drops them all when the session ends."""
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def factory() -> str:
        name = f"nd_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(pg_server).set(database=name).render_as_string(hide_password=False)

    yield factory
    with admin.connect() as connection:
        for name in created:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'newsdedup.sqlite3'}"
    factory = request.getfixturevalue("pg_database_factory")
    return str(factory())  # type: ignore[operator]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'newsdedup.sqlite3'}"


def make_app(url: str) -> App:
    app = App(load_settings(environ={}, database_url=url))
    migrations.upgrade(app.engine)
    return app


@pytest.fixture
def app(database_url: str) -> Iterator[App]:
    """A migrated application on each kind of database."""
    application = make_app(database_url)
    yield application
    application.close()


@pytest.fixture
def sqlite_app(sqlite_url: str) -> Iterator[App]:
    application = make_app(sqlite_url)
    yield application
    application.close()


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"corpus not found at {CORPUS} (set NEWSDEDUP_CORPUS)")
    return CORPUS


@pytest.fixture(scope="session")
def seed_file() -> Path:
    path = SEED / "voa-indonesia-korea-utara.txt"
    if not path.is_file():
        pytest.fail(f"seed not found at {path} (set NEWSDEDUP_SEED)")
    return path


# --- fetching: a misbehaving HTTP server on 127.0.0.1 and the CLI bound to a test database -------


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


@pytest.fixture
def fetch_env(app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> FetchEnv:
    """The CLI on a migrated database of each kind, with fast fetch settings allowing 127.0.0.1."""
    return FetchEnv(app.database_url, tmp_path, capsys)


@pytest.fixture
def sqlite_fetch_env(sqlite_app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> FetchEnv:
    return FetchEnv(sqlite_app.database_url, tmp_path, capsys)


def edit_words(text: str, count: int, seed: int) -> str:
    """Replace ``count`` words in the middle of ``text`` (a wire desk's small edits)."""
    rng = random.Random(seed)
    words = text.split()
    for index in rng.sample(range(2, len(words) - 2), count):
        words[index] = words[index][::-1] + "x"
    return " ".join(words)


def ingest_paragraphs(app: App, paragraphs: list[str], key: str) -> int:
    """One article of body paragraphs from source "wire" through the app's pipeline; its id."""
    pipeline = Pipeline(app.sessions, app.cleaner, app.signer, deduper=app.deduper)
    parsed = ParsedDocument(
        blocks=[ParsedBlock(BlockKind.BODY, p) for p in paragraphs], entry_key=key, title=key, url=f"https://x/{key}"
    )
    result = pipeline.ingest(Input(body=key.encode(), source="wire", location="test"), documents=[parsed])
    article_id = result.articles[0].article_id
    assert article_id is not None, result.articles[0].error
    return article_id

