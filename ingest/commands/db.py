"""``newsdedup db upgrade|check``."""

from __future__ import annotations

import argparse
from typing import Any

from ingest import migrations
from ingest.app import App
from ingest.checks import Finding, run_checks
from ingest.commands._common import add_command


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "db", "Database schema: upgrade to the latest migration, or check it.",
                         "newsdedup db upgrade")
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    upgrade = add_command(actions, "upgrade", "Apply every pending migration (alembic upgrade head).",
                          "newsdedup --database-url postgresql+psycopg://localhost/news db upgrade")
    upgrade.set_defaults(handler=run_upgrade)
    check = add_command(actions, "check",
                        "Check that the database is reachable and at the latest migration, then check its "
                        "integrity: change log without gaps, dedupe parameters and signatures, canonical "
                        "clusters and duplicate links (and SQLite's own checks). Exits 1 on any problem.",
                        "newsdedup db check")
    check.set_defaults(handler=run_check)


def run_upgrade(app: App, args: argparse.Namespace) -> int:
    migrations.upgrade(app.engine)
    print(f"database at {migrations.head_revision(app.engine)} (head)")
    return 0


def run_check(app: App, args: argparse.Namespace) -> int:
    app.require_head()
    print(Finding("schema", True, f"at the latest migration {migrations.head_revision(app.engine)}").render())
    with app.read_sessions() as session, session.begin():
        findings = run_checks(session, app.deduper, app.engine.dialect.name)
    for finding in findings:
        print(finding.render())
    return 0 if all(f.ok for f in findings) else 1
