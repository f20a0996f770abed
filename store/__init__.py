"""Persistence: SQLAlchemy models, engine set-up and repositories. Imports nothing else of ours."""

from store.engine import (
    current_revision,
    database_size_bytes,
    make_engine,
    make_read_session_factory,
    make_session_factory,
)
from store.errors import ExistsError, NotFoundError, StorageError
from store.models import Base
from store.records import NewArticle, NewParagraph, NewRemoval

__all__ = [
    "Base",
    "ExistsError",
    "NewArticle",
    "NewParagraph",
    "NewRemoval",
    "NotFoundError",
    "StorageError",
    "current_revision",
    "database_size_bytes",
    "make_engine",
    "make_read_session_factory",
    "make_session_factory",
]
