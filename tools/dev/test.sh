#!/usr/bin/env bash
# `npm test`: the whole suite against real NATS, Postgres and Redis.
#   - its own infra, never the dev stack: GENESIS_HOME=<repo>/.genesis/test and ports
#     14222 (NATS, monitor 18222), 15432 (Postgres), 16379 (Redis), via tools/infra/ensure.sh
#   - npm run build, then lint, typecheck, format:check (stops at the first failure)
#   - node --test over the compiled dist/**/*.spec.js and dist/**/*.test.js, one file at a time,
#     spec output here and TAP in $GENESIS_HOME/logs/tests.tap
#   - last line: "N passed, N failed, N skipped"; exit status: the test runner's
# Env: TEST_FILES="a.spec.js dist/libs/x ..." runs only those files (folders are searched);
#      GENESIS_TEST_SKIP_STATIC=1 skips lint/typecheck/format:check;
#      CI=true stops the test infra at the end (otherwise it stays up for the next run).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

export GENESIS_HOME="$ROOT/.genesis/test"
export NATS_URL="nats://127.0.0.1:14222"
export DATABASE_URL="postgres://genesis:genesis@127.0.0.1:15432/genesis"
export REDIS_URL="redis://127.0.0.1:16379"

# shellcheck source=tools/infra/lib.sh
source "$ROOT/tools/infra/lib.sh" # log/warn/die

if [[ ! -d node_modules ]]; then
  if [[ -f package-lock.json ]]; then
    log "npm ci (node_modules is missing)"
    npm ci --no-audit --no-fund
  else
    log "npm install (node_modules is missing, no package-lock.json)"
    npm install --no-audit --no-fund
  fi
fi

if [[ ${CI:-} == true ]]; then
  trap 'rc=$?; "$ROOT/tools/infra/stop.sh" || warn "tools/infra/stop.sh failed"; exit $rc' EXIT
fi

log "test infra: NATS $NATS_URL, Postgres 127.0.0.1:15432, Redis $REDIS_URL (GENESIS_HOME=$GENESIS_HOME)"
"$ROOT/tools/infra/ensure.sh"

npm_step() { # script
  log "npm run $1"
  local rc=0
  npm run --silent "$1" || rc=$?
  if ((rc != 0)); then
    die "npm run $1 failed (exit $rc)"
  fi
}

npm_step build
if [[ ${GENESIS_TEST_SKIP_STATIC:-} == 1 ]]; then
  log "skipping lint, typecheck and format:check (GENESIS_TEST_SKIP_STATIC=1)"
else
  npm_step lint
  npm_step typecheck
  npm_step format:check
fi

# === HOOK: Python worker (apps/trainer-worker) ================================================
# Set up its virtualenv and run its tests (pytest) here, against the same test infra. Fold its
# pass/fail counts into the summary below and its exit status into the final one.
# ==============================================================================================

files=()
if [[ -n ${TEST_FILES:-} ]]; then
  read -r -a wanted <<<"$TEST_FILES"
  for f in "${wanted[@]}"; do
    if [[ -d $f ]]; then
      while IFS= read -r x; do files+=("$x"); done < <(
        find "$f" -path '*/node_modules' -prune -o -type f \( -name '*.spec.js' -o -name '*.test.js' \) -print | sort
      )
    elif [[ -f $f ]]; then
      files+=("$f")
    else
      die "TEST_FILES: no such file or folder: $f"
    fi
  done
else
  if [[ -d dist ]]; then
    while IFS= read -r x; do files+=("$x"); done < <(
      find dist -path '*/node_modules' -prune -o -type f \( -name '*.spec.js' -o -name '*.test.js' \) -print | sort
    )
  fi
fi
((${#files[@]} > 0)) || die "no test files found (dist/**/*.spec.js, dist/**/*.test.js${TEST_FILES:+, TEST_FILES=$TEST_FILES})"

TAP="$GENESIS_LOG_DIR/tests.tap"
mkdir -p "$GENESIS_LOG_DIR"
rm -f "$TAP"
log "running ${#files[@]} test file(s); TAP in $TAP"
rc=0
node --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$TAP" \
  "${files[@]}" || rc=$?

# Totals from the TAP summary (the last "# pass N" etc. lines, which are the top-level ones).
tap_count() {
  [[ -f $TAP ]] || {
    echo 0
    return
  }
  awk -v k="$1" '$1 == "#" && $2 == k && $3 ~ /^[0-9]+$/ && NF == 3 { v = $3 } END { print v + 0 }' "$TAP"
}
passed=$(tap_count pass)
failed=$(tap_count fail)
skipped=$(tap_count skipped)
cancelled=$(tap_count cancelled)
if ((cancelled > 0)); then
  log "$cancelled test(s) were cancelled (counted as failed below)"
  failed=$((failed + cancelled))
fi
if [[ ! -s $TAP ]] || ! grep -q '^# pass ' "$TAP"; then
  warn "the test runner wrote no TAP summary (exit $rc); see the output above"
elif ((rc != 0 && failed == 0)); then
  warn "the test runner exited with $rc although no test failed (a file may have crashed; see above)"
fi
if [[ ${CI:-} == true ]]; then
  trap - EXIT # stop the infra now, so that the summary stays the last line
  "$ROOT/tools/infra/stop.sh" || warn "tools/infra/stop.sh failed"
fi
printf '%s passed, %s failed, %s skipped\n' "$passed" "$failed" "$skipped"
exit "$rc"
