#!/usr/bin/env bash
# Makes a pinned Weaviate server binary available and prints its path (the only line on stdout).
# Used by tools/dev/test.sh (the vector-index contract tests run against a real Weaviate) and by
# tools/dev/start.sh when GENESIS_VECTOR_STORE=weaviate.
#
#   - GENESIS_WEAVIATE set to an executable: that one is used as it is (no version check).
#   - otherwise ${XDG_CACHE_HOME:-~/.cache}/genesis/bin/weaviate-server-<version>; when it is missing
#     it is built once with `go install github.com/weaviate/weaviate/cmd/weaviate-server@<version>`
#     through the Go module proxy (needs Go >= 1.24; about 15 min on 2 cores and ~2 GB of module
#     cache the first time, then instant). No container registry is reachable here, hence the build.
#
# The module and build caches live under ~/.cache as well (GOMODCACHE, GOCACHE), so a CI machine
# that keeps ~/.cache between runs pays the build once. The version lives here only; the file name
# carries it, so bumping the pin builds the new one.
set -euo pipefail

WEAVIATE_VERSION=v1.35.2
WEAVIATE_MODULE=github.com/weaviate/weaviate

# shellcheck source=tools/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # log/warn/die (log goes to stderr below)
say() { log "$@" >&2; }

if [[ -n ${GENESIS_WEAVIATE:-} ]]; then
  [[ -x $GENESIS_WEAVIATE ]] || die "GENESIS_WEAVIATE=$GENESIS_WEAVIATE is not an executable file"
  printf '%s\n' "$GENESIS_WEAVIATE"
  exit 0
fi

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}"
BIN_DIR="$CACHE_ROOT/genesis/bin"
TARGET="$BIN_DIR/weaviate-server-$WEAVIATE_VERSION"

if [[ -x $TARGET ]]; then
  printf '%s\n' "$TARGET"
  exit 0
fi

command -v go >/dev/null 2>&1 ||
  die "weaviate $WEAVIATE_VERSION is not in $BIN_DIR and Go is not installed to build it (needs Go >= 1.24), or set GENESIS_WEAVIATE to a weaviate-server binary"

mkdir -p "$BIN_DIR"
# One build at a time (parallel test runs share the cache); the second one waits and finds it.
exec 8>"$BIN_DIR/.weaviate.lock"
flock -w 2400 8 || die "another ensure-weaviate.sh holds $BIN_DIR/.weaviate.lock for more than 2400 s"
if [[ ! -x $TARGET ]]; then
  tmp=$(mktemp -d "$BIN_DIR/.weaviate-build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  say "building weaviate-server $WEAVIATE_VERSION with $(go version | awk '{print $3}') (first time only, ~15 min on 2 cores)"
  started=$SECONDS
  # GOTOOLCHAIN=local: never fetch another Go. GOFLAGS='' drops a user's -mod=vendor and the like.
  if ! GOTOOLCHAIN=local GOBIN="$tmp" GOFLAGS='' \
    GOMODCACHE="$CACHE_ROOT/genesis/go-mod" GOCACHE="$CACHE_ROOT/genesis/go-build" \
    go install "$WEAVIATE_MODULE/cmd/weaviate-server@$WEAVIATE_VERSION" >"$tmp/build.log" 2>&1; then
    tail -n 15 "$tmp/build.log" | sed 's/^/    /' >&2
    die "go install $WEAVIATE_MODULE/cmd/weaviate-server@$WEAVIATE_VERSION failed"
  fi
  # The binary's embedded build info names the module version it was built from.
  built=$(go version -m "$tmp/weaviate-server" | awk '$1 == "mod" { print $3 }')
  [[ $built == "$WEAVIATE_VERSION" ]] || die "the built weaviate-server is '$built', expected $WEAVIATE_VERSION"
  mv -f "$tmp/weaviate-server" "$TARGET"
  say "weaviate-server $WEAVIATE_VERSION ready in $((SECONDS - started)) s: $TARGET"
fi
printf '%s\n' "$TARGET"
