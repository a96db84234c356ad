#!/usr/bin/env bash
# Makes a pinned kustomize binary available and prints its path (the only line on stdout).
# Used by tools/dev/test.sh and apps/e2e/test/k8s-manifests.test.ts to render deploy/k8s.
#
#   - GENESIS_KUSTOMIZE set to an executable: that one is used as it is (no version check).
#   - otherwise ${XDG_CACHE_HOME:-~/.cache}/genesis/bin/kustomize-<version>, built once with
#     `go install sigs.k8s.io/kustomize/kustomize/v5@<version>` through the Go module proxy (needs
#     Go >= 1.24; about 3 min on 2 cores the first time, then instant). See go_install_pinned in
#     tools/infra/lib.sh for the caching and the build lock.
#
# The version lives here only. The file name carries it, so bumping the pin builds the new one.
set -euo pipefail

KUSTOMIZE_VERSION=v5.8.1

# shellcheck source=tools/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# CGO off: a static binary, no C compiler needed.
go_install_pinned kustomize "$KUSTOMIZE_VERSION" sigs.k8s.io/kustomize/kustomize/v5 GENESIS_KUSTOMIZE 900 \
  'a few minutes' CGO_ENABLED=0
