#!/usr/bin/env bash
# Makes a pinned Weaviate server binary available and prints its path (the only line on stdout).
# Used by tools/dev/test.sh (the vector-index contract tests run against a real Weaviate) and by
# tools/dev/start.sh when GENESIS_VECTOR_STORE=weaviate.
#
#   - GENESIS_WEAVIATE set to an executable: that one is used as it is (no version check).
#   - otherwise ${XDG_CACHE_HOME:-~/.cache}/genesis/bin/weaviate-server-<version>, built once with
#     `go install github.com/weaviate/weaviate/cmd/weaviate-server@<version>` through the Go module
#     proxy (needs Go >= 1.24; about 15 min on 2 cores and ~2 GB of module cache under
#     ~/.cache/genesis the first time, then instant). No container registry is reachable here, hence
#     the build. See go_install_pinned in tools/infra/lib.sh for the caching and the build lock.
#
# The version lives here only; the file name carries it, so bumping the pin builds the new one.
set -euo pipefail

WEAVIATE_VERSION=v1.35.2

# shellcheck source=tools/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

go_install_pinned weaviate-server "$WEAVIATE_VERSION" github.com/weaviate/weaviate/cmd/weaviate-server \
  GENESIS_WEAVIATE 2400 '~15 min on 2 cores'
