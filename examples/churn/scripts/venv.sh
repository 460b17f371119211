#!/usr/bin/env bash
# Creates (or reuses) the test venv and prints its path.
# The venv lives under ~/.cache/cd4ml-operator/venvs/churn-<hash>, where <hash>
# covers every requirements file the test venv installs and the Python version,
# so a changed pin gets a fresh venv and an unchanged one is reused as it is.
# Wheels only, as in the images (no compiler, no sdist builds).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
hash="$(cat "$here"/requirements-test.txt "$here"/requirements-server.txt "$here"/requirements-trainer.txt \
          <("$python" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)"
venvs="${XDG_CACHE_HOME:-$HOME/.cache}/cd4ml-operator/venvs"
venv="$venvs/churn-$hash"
mkdir -p "$venvs"
# One creator at a time; the marker is written last, so an interrupted install
# is redone instead of being taken for a complete venv.
exec 9>"$venv.lock"
flock 9
if [[ ! -f "$venv/.complete" ]]; then
  rm -rf "$venv"
  "$python" -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
    -r "$here/requirements-test.txt" >&2
  touch "$venv/.complete"
fi
echo "$venv"
