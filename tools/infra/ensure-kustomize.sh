#!/usr/bin/env bash
# Makes a pinned kustomize binary available and prints its path (the only line on stdout).
# Used by tools/dev/test.sh and apps/e2e/test/k8s-manifests.test.ts to render deploy/k8s.
#
#   - GENESIS_KUSTOMIZE set to an executable: that one is used as it is (no version check).
#   - otherwise ${XDG_CACHE_HOME:-~/.cache}/genesis/bin/kustomize-<version>; when it is missing it
#     is built once with `go install sigs.k8s.io/kustomize/kustomize/v5@<version>` through the Go
#     module proxy (needs Go >= 1.24; about 3 min on 2 cores the first time, then instant).
#
# The version lives here only. The file name carries it, so bumping the pin builds the new one.
set -euo pipefail

KUSTOMIZE_VERSION=v5.8.1

# shellcheck source=tools/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # log/warn/die (log goes to stderr below)
say() { log "$@" >&2; }

if [[ -n ${GENESIS_KUSTOMIZE:-} ]]; then
  [[ -x $GENESIS_KUSTOMIZE ]] || die "GENESIS_KUSTOMIZE=$GENESIS_KUSTOMIZE is not an executable file"
  printf '%s\n' "$GENESIS_KUSTOMIZE"
  exit 0
fi

BIN_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/genesis/bin"
TARGET="$BIN_DIR/kustomize-$KUSTOMIZE_VERSION"

if [[ -x $TARGET ]]; then
  printf '%s\n' "$TARGET"
  exit 0
fi

command -v go >/dev/null 2>&1 ||
  die "kustomize $KUSTOMIZE_VERSION is not in $BIN_DIR and Go is not installed to build it (needs Go >= 1.24), or set GENESIS_KUSTOMIZE to a kustomize binary"

mkdir -p "$BIN_DIR"
# One build at a time (parallel test runs share the cache); the second one finds the binary.
exec 8>"$BIN_DIR/.kustomize.lock"
flock -w 900 8 || die "another ensure-kustomize.sh holds $BIN_DIR/.kustomize.lock for more than 900 s"
if [[ ! -x $TARGET ]]; then
  tmp=$(mktemp -d "$BIN_DIR/.kustomize-build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  say "building kustomize $KUSTOMIZE_VERSION with $(go version | awk '{print $3}') (first time only, a few minutes)"
  started=$SECONDS
  # CGO off: a static binary, no C compiler needed. GOTOOLCHAIN=local: never fetch another Go.
  if ! CGO_ENABLED=0 GOTOOLCHAIN=local GOBIN="$tmp" GOFLAGS='' \
    go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" >"$tmp/build.log" 2>&1; then
    tail -n 15 "$tmp/build.log" | sed 's/^/    /' >&2
    die "go install sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION failed"
  fi
  built=$("$tmp/kustomize" version 2>/dev/null || true)
  [[ $built == "$KUSTOMIZE_VERSION" ]] || die "the built kustomize reports '$built', expected $KUSTOMIZE_VERSION"
  mv -f "$tmp/kustomize" "$TARGET"
  say "kustomize $KUSTOMIZE_VERSION ready in $((SECONDS - started)) s: $TARGET"
fi
printf '%s\n' "$TARGET"
