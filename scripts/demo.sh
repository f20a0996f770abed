#!/usr/bin/env bash
# Set up, migrate the embedded SQLite database and run the main job over the demo feeds:
# register them, fetch them once, and print what was ingested and removed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
export NEWSDEDUP_DATABASE_URL="${NEWSDEDUP_DATABASE_URL:-sqlite:///$PWD/newsdedup.sqlite3}"
newsdedup db upgrade
newsdedup feeds sync config/demo-feeds.toml
newsdedup fetch --all
echo
newsdedup articles list --details
