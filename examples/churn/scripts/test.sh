#!/usr/bin/env bash
# Runs the reference model's pytest suite in the cached test venv.
# Extra arguments go to pytest, e.g. scripts/test.sh -k server -x
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
venv="$("$here/scripts/venv.sh")"
cd "$here"
exec "$venv/bin/python" -m pytest "$@"
