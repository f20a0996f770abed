"""The composition root: settings in, engine, session factory, rules and pipeline out.

Only ``ingest`` opens engines and reads configuration; everything else is handed what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config import CleaningRules, Settings, load_cleaning_rules
from dedupe import SignatureParams, Signer
from ingest import migrations
from ingest.cleaning import Cleaner
from ingest.corpus_dedupe import CorpusDeduper
from store import make_engine, make_read_session_factory, make_session_factory


@dataclass
class App:
    settings: Settings

    @cached_property
    def database_url(self) -> str:
        return self.settings.resolved_database_url()

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def read_sessions(self) -> sessionmaker[Session]:
        """Sessions for commands that only read; on SQLite they never hold the write lock."""
        return make_read_session_factory(self.engine)

    @cached_property
    def rules(self) -> CleaningRules:
        return load_cleaning_rules(Path(self.settings.rules_dir))

    @cached_property
    def signer(self) -> Signer:
        return Signer(SignatureParams(num_perm=self.settings.dedupe.num_perm, seed=self.settings.dedupe.seed))

    @cached_property
    def deduper(self) -> CorpusDeduper:
        return CorpusDeduper.from_settings(self.sessions, self.signer, self.settings.dedupe)

    @cached_property
    def cleaner(self) -> Cleaner:
        return Cleaner(self.rules, self.settings.dedupe.paragraph_threshold)

    def require_head(self) -> None:
        migrations.require_head(self.engine)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
