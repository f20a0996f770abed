"""CLI commands, one module per command group. Add a module here to add a command."""

from types import ModuleType

from ingest.commands import articles, db, dupes, export, feeds, fetch, index, ingest_files, reingest, run, stats

COMMAND_MODULES: tuple[ModuleType, ...] = (
    db, ingest_files, articles, export, feeds, index, fetch, run, reingest, dupes, stats,
)
