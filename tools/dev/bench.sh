#!/usr/bin/env bash
# `npm run bench`: ingest benchmark of the capture path next to raw JetStream and raw Postgres,
# measured in the same run. Uses the test infrastructure (its own ports, never the dev stack).
# Env: BENCH_LEARNINGS (20000), BENCH_SINGLE_RPS (1000), BENCH_SINGLE_SECONDS (10).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export GENESIS_HOME="$ROOT/.genesis/test"
export NATS_URL="nats://127.0.0.1:14222"
export DATABASE_URL="postgres://genesis:genesis@127.0.0.1:15432/genesis"
export REDIS_URL="redis://127.0.0.1:16379"
# The test infrastructure has no NATS users (the permission tests start their own server).
export GENESIS_NATS_AUTH=none
# shellcheck source=tools/infra/lib.sh
source "$ROOT/tools/infra/lib.sh"
[[ -d node_modules ]] || npm ci --no-audit --no-fund
"$ROOT/tools/infra/ensure.sh"
npm run --silent build
node dist/tools/bench/ingest.js
node dist/tools/bench/vectors.js
