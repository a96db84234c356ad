#!/usr/bin/env bash
# `npm test`: the whole suite against real NATS, Postgres and Redis.
#   - its own infra, never the dev stack: GENESIS_HOME=<repo>/.genesis/test and ports
#     14222 (NATS, monitor 18222), 15432 (Postgres), 16379 (Redis), via tools/infra/ensure.sh
#   - promtool (tools/infra/ensure-promtool.sh: Debian's prometheus package) for the rule tests
#   - bubblewrap (tools/infra/ensure-bwrap.sh: Debian's bubblewrap) for the worker's sandbox
#   - npm run build, then lint, typecheck, format:check (stops at the first failure)
#   - node --test over the compiled dist/**/*.spec.js and dist/**/*.test.js, one file at a time,
#     spec output here and TAP in $GENESIS_HOME/logs/tests.tap (before them, the pinned kustomize
#     from tools/infra/ensure-kustomize.sh when the k8s manifest test is among them)
#   - the Python worker's pytest (apps/trainer-worker, venv by its scripts/setup-venv.sh), JUnit
#     XML in $GENESIS_HOME/logs/pytest.xml, counted in the summary line
#   - last line: "N passed, N failed, N skipped"; exit status: the test runner's
# Env: TEST_FILES="a.spec.js dist/libs/x ..." runs only those files (folders are searched);
#      GENESIS_TEST_TIMEOUT_MS (per test, default 600000) and GENESIS_TEST_RUN_TIMEOUT_S (pytest,
#      and the Node tests, each, default 2700): a hang fails the run, with a message, in that time;
#      GENESIS_TEST_SKIP_STATIC=1 skips lint/typecheck/format:check;
#      GENESIS_TEST_PYTHON=0 skips the Python worker's tests, =1 runs them even with TEST_FILES;
#      CI=true stops the test infra at the end (otherwise it stays up for the next run).
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
# promtool for the Prometheus rule/config tests (apps/e2e/test/observability.test.ts). Not fatal
# here: without it those tests fail and say why, and the rest of the suite still runs.
"$ROOT/tools/infra/ensure-promtool.sh" ||
  warn "tools/infra/ensure-promtool.sh failed: the observability tests will fail without promtool"
# bubblewrap: the worker's sandbox (docs/adr/0011-sandbox.md). Not fatal here either: without it
# the worker refuses to run tests, and the sandbox tests fail saying so.
"$ROOT/tools/infra/ensure-bwrap.sh" ||
  warn "tools/infra/ensure-bwrap.sh failed: the Python worker's sandbox tests will fail without bwrap"

# The vector-index contract tests run against a real Weaviate (apps/e2e/test/vectors). Its first
# build from the Go module proxy takes ~15 min on 2 cores; it starts now, niced, in the background,
# so it overlaps with the build, the static checks, pytest and the other test files, and the test
# waits for it (the build holds a lock). Afterwards the binary is in ~/.cache and this costs nothing.
if [[ -z ${TEST_FILES:-} || ${TEST_FILES} == *weaviate* || ${TEST_FILES} == *vectors* ]]; then
  mkdir -p "$GENESIS_LOG_DIR"
  (nice -n 10 "$ROOT/tools/infra/ensure-weaviate.sh" >/dev/null 2>"$GENESIS_LOG_DIR/weaviate-build.log" &)
fi

npm_step() { # script
  log "npm run $1"
  local rc=0
  npm run --silent "$1" || rc=$?
  if ((rc != 0)); then
    die "npm run $1 failed (exit $rc)"
  fi
}

# How long each test runner (pytest, then node --test) may take before `timeout` stops it.
RUN_TIMEOUT_S="${GENESIS_TEST_RUN_TIMEOUT_S:-2700}"

npm_step build
if [[ ${GENESIS_TEST_SKIP_STATIC:-} == 1 ]]; then
  log "skipping lint, typecheck and format:check (GENESIS_TEST_SKIP_STATIC=1)"
else
  npm_step lint
  npm_step typecheck
  npm_step format:check
fi

# === Python worker (apps/trainer-worker) =======================================================
# Its virtualenv (scripts/setup-venv.sh: seconds when already set up) and its tests: pytest, CPU
# only, one process; the tests start their own nats-server. The counts are folded into the summary
# line below; a failing test, a crashed run or no test collected (pytest exit 5) fails `npm test`.
# Runs unless TEST_FILES picks JS files (GENESIS_TEST_PYTHON=1 forces it, =0 skips it).
PY_PASSED=0 PY_FAILED=0 PY_SKIPPED=0 PY_RC=0
if [[ ${GENESIS_TEST_PYTHON:-} == 1 || (-z ${TEST_FILES:-} && ${GENESIS_TEST_PYTHON:-} != 0) ]]; then
  PY_DIR="$ROOT/apps/trainer-worker"
  PY_JUNIT="$GENESIS_LOG_DIR/pytest.xml"
  mkdir -p "$GENESIS_LOG_DIR"
  rm -f "$PY_JUNIT"
  log "python worker: setting up $PY_DIR/.venv"
  "$PY_DIR/scripts/setup-venv.sh" || die "apps/trainer-worker/scripts/setup-venv.sh failed"
  if [[ ${GENESIS_TEST_SKIP_STATIC:-} != 1 ]]; then
    log "python worker: ruff format --check, ruff check"
    (cd "$PY_DIR" && .venv/bin/ruff format --check --quiet --no-cache . && .venv/bin/ruff check --quiet --no-cache .) ||
      die "ruff found problems in apps/trainer-worker (fix: cd apps/trainer-worker && .venv/bin/ruff format . && .venv/bin/ruff check --fix .)"
  fi
  log "python worker: pytest (JUnit XML in $PY_JUNIT)"
  (cd "$PY_DIR" && timeout --kill-after=30 "$RUN_TIMEOUT_S" \
    .venv/bin/python -m pytest -q -p no:cacheprovider --junitxml="$PY_JUNIT") || PY_RC=$?
  if ((PY_RC == 124 || PY_RC == 137)); then
    warn "pytest did not end within ${RUN_TIMEOUT_S}s (GENESIS_TEST_RUN_TIMEOUT_S) and was stopped"
  fi
  if [[ -s $PY_JUNIT ]]; then
    read -r PY_PASSED PY_FAILED PY_SKIPPED < <(
      "$PY_DIR/.venv/bin/python" -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
n = lambda k: sum(int(s.get(k, 0)) for s in suites)
print(n("tests") - n("failures") - n("errors") - n("skipped"), n("failures") + n("errors"), n("skipped"))
' "$PY_JUNIT"
    ) || true
  fi
  if ((PY_RC == 5)); then
    warn "pytest collected no test (exit 5): counted as a failure"
  fi
  if ((PY_RC != 0 && PY_FAILED == 0)); then
    PY_FAILED=1 # no test was reported failed, yet pytest failed (no tests, a crash, a usage error)
  fi
  log "python worker: $PY_PASSED passed, $PY_FAILED failed, $PY_SKIPPED skipped (pytest exit $PY_RC)"
else
  log "python worker: skipped (TEST_FILES is set; GENESIS_TEST_PYTHON=1 runs it too)"
fi
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

# The Kubernetes manifest test renders deploy/k8s with a pinned kustomize: built once into
# ~/.cache/genesis/bin (a few minutes the first time), found there afterwards.
if [[ " ${files[*]} " == *"k8s-manifests.test.js "* ]]; then
  log "kustomize for the Kubernetes manifest test (tools/infra/ensure-kustomize.sh)"
  GENESIS_KUSTOMIZE="$("$ROOT/tools/infra/ensure-kustomize.sh")" || die "tools/infra/ensure-kustomize.sh failed"
  export GENESIS_KUSTOMIZE
fi

TAP="$GENESIS_LOG_DIR/tests.tap"
mkdir -p "$GENESIS_LOG_DIR"
rm -f "$TAP"
# A hang fails the run instead of stalling it: each test has GENESIS_TEST_TIMEOUT_MS (default
# 10 min), and the run RUN_TIMEOUT_S (above), after which `timeout` ends the runner, its files and
# their children. (Not --test-force-exit: with it, Node 20 cuts the TAP file short of its summary.)
log "running ${#files[@]} test file(s); TAP in $TAP"
rc=0
timeout --kill-after=30 "$RUN_TIMEOUT_S" \
  node --test --test-concurrency=1 \
  --test-timeout="${GENESIS_TEST_TIMEOUT_MS:-600000}" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$TAP" \
  "${files[@]}" || rc=$?
if ((rc == 124 || rc == 137)); then
  warn "the test run did not end within ${RUN_TIMEOUT_S}s (GENESIS_TEST_RUN_TIMEOUT_S) and was stopped"
fi

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
if ((rc != 0 && failed == 0)); then
  failed=1 # no test was reported failed, yet the run failed (a timeout, a crash): not "0 failed"
fi
if [[ ${CI:-} == true ]]; then
  trap - EXIT # stop the infra now, so that the summary stays the last line
  "$ROOT/tools/infra/stop.sh" || warn "tools/infra/stop.sh failed"
fi
# The Python worker's counts and status (see its block above).
passed=$((passed + PY_PASSED))
failed=$((failed + PY_FAILED))
skipped=$((skipped + PY_SKIPPED))
if ((PY_RC != 0 && rc == 0)); then rc=1; fi
printf '%s passed, %s failed, %s skipped\n' "$passed" "$failed" "$skipped"
exit "$rc"
