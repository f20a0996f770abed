#!/usr/bin/env bash
# Create .venv and install newsdedup with its development tools. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
log="$(mktemp)"
if ! { .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip \
      && .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup failed: pip could not install newsdedup (output above)" >&2
  exit 1
fi
rm -f "$log"
