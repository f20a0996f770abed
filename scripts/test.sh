#!/usr/bin/env bash
# Set up, then run every check: ruff, mypy (strict), import rules, migrations drift, tests.
# Tests run on SQLite and PostgreSQL (NEWSDEDUP_TEST_PG, default postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"; ruff check .
echo "== mypy"; mypy
echo "== import rules"; lint-imports
echo "== pytest"
pytest "$@"
