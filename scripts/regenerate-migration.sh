#!/usr/bin/env bash
# Regenerate the initial migration from the models (only while nothing has been released:
# after the first release, add new revisions with `flask --app crisis db migrate -m "..."`).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/*.py
export DATABASE_URL="sqlite:///$tmp/schema.sqlite3" SECRET_KEY=regenerate CRISIS_SCHEDULER=off
.venv/bin/flask --app crisis db migrate -m "initial schema" --rev-id 0001_initial >/dev/null
rm -rf "$tmp"
echo "migrations/versions: $(ls migrations/versions)"
