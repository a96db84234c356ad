#!/usr/bin/env bash
# `npm start`: the whole Genesis stack on this machine.
#   1. npm ci (only when node_modules is missing)
#   2. tools/infra/ensure.sh   (NATS + JetStream, Postgres, Redis on loopback; installs them if needed).
#      Postgres' role and Redis get passwords generated once into $GENESIS_HOME/infra/credentials.env.
#      A nats-server it starts runs deploy/nats/nats-server.conf: one user per process, passwords
#      generated once into $GENESIS_HOME/nats/credentials.env (GENESIS_NATS_AUTH=none: no users).
#      A server already running at NATS_URL is used as it is (its own authentication, if any).
#   3. npm run build, npm run migrate, npm run provision (as the NATS user `ops`)
#   4. an admin API key (created once in $GENESIS_HOME/admin.key) unless GENESIS_API_KEYS is set
#   5. the six services, `node dist/apps/<app>/main.js`, output prefixed with [app] here and
#      appended to $GENESIS_HOME/logs/<app>.log; each logs in to NATS as its own user (and the
#      Python worker as trainer-worker), with only its own password in its environment
#   6. waits for the gateway's /health/ready, prints how to use it, then runs until Ctrl-C/SIGTERM
# On Ctrl-C/SIGTERM: SIGTERM to every service, SIGKILL after 15 s, tools/infra/stop.sh, exit 0.
# If a service exits by itself, everything is stopped and the exit status is non-zero.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=tools/infra/lib.sh
source "$ROOT/tools/infra/lib.sh" # log/warn/die, port_open, pid_alive; sets GENESIS_HOME

if ((BASH_VERSINFO[0] < 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] < 1))); then
  die "tools/dev/start.sh needs bash >= 5.1 (this is $BASH_VERSION)"
fi

export NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"
# Postgres and Redis get passwords generated once into $GENESIS_HOME/infra/credentials.env (0600),
# unless DATABASE_URL / REDIS_URL are given; a role that still has the old well-known password
# `genesis` (a .genesis made before) is moved to the generated one by ensure.sh, with a message.
if [[ -z ${DATABASE_URL:-} || -z ${REDIS_URL:-} ]]; then ensure_infra_credentials; fi
export DATABASE_URL="${DATABASE_URL:-postgres://genesis:$(infra_password POSTGRES)@127.0.0.1:5432/genesis}"
export REDIS_URL="${REDIS_URL:-redis://:$(infra_password REDIS)@127.0.0.1:6379}"
export GENESIS_PG_LEGACY_PASSWORD="${GENESIS_PG_LEGACY_PASSWORD-$GENESIS_PG_LEGACY_PASSWORD_DEFAULT}"
# Services listen on loopback only for local dev (the apps' own default is 0.0.0.0, for containers).
export GENESIS_BIND_HOST="${GENESIS_BIND_HOST:-127.0.0.1}"
# A nats-server started here gets the per-service users and permissions (deploy/nats).
export GENESIS_NATS_AUTH="${GENESIS_NATS_AUTH:-users}"

APPS=(gateway learner monitor trainer-bridge evaluator deployer)
GATEWAY_PORT="${GENESIS_GATEWAY_PORT:-8000}"
READY_URL="http://127.0.0.1:$GATEWAY_PORT/health/ready"
READY_TIMEOUT="${GENESIS_READY_TIMEOUT:-60}"
STOP_TIMEOUT=15
LOCK="$GENESIS_RUN_DIR/start.pid"

mkdir -p "$GENESIS_RUN_DIR" "$GENESIS_LOG_DIR"

# --- one instance at a time -------------------------------------------------------------------

LOCK_HELD=false
acquire_lock() {
  local pid _
  for _ in 1 2; do
    if (set -o noclobber && printf '%s\n' "$$" >"$LOCK") 2>/dev/null; then
      LOCK_HELD=true
      return 0
    fi
    pid=$(head -1 "$LOCK" 2>/dev/null || true)
    if pid_alive "$pid" && grep -qa 'start\.sh' "/proc/$pid/cmdline" 2>/dev/null; then
      printf '[genesis] already running (pid %s)\n' "$pid" >&2
      exit 1
    fi
    log "replacing stale lock $LOCK (pid ${pid:-?} is gone)"
    rm -f "$LOCK"
  done
  die "could not take the lock $LOCK"
}
acquire_lock

# --- shutdown ---------------------------------------------------------------------------------

declare -A APP_OF=() # service pid -> app name
PIDS=()
INFRA_USED=false

cleanup() {
  local rc=$? pid deadline app alive
  set +e
  trap 'log "still shutting down (services get up to ${STOP_TIMEOUT}s)..."' INT TERM HUP
  if ((${#PIDS[@]} > 0)); then
    log "stopping services (SIGTERM)"
    for pid in "${PIDS[@]}"; do
      pid_alive "$pid" && kill -TERM "$pid" 2>/dev/null
    done
    deadline=$((SECONDS + STOP_TIMEOUT))
    while :; do
      alive=()
      for pid in "${PIDS[@]}"; do pid_alive "$pid" && alive+=("$pid"); done
      ((${#alive[@]} == 0 || SECONDS >= deadline)) && break
      sleep 0.2
    done
    for pid in "${alive[@]}"; do
      warn "${APP_OF[$pid]} (pid $pid) did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    sleep 0.2 # let the [app] prefixers flush the last lines
  fi
  if $INFRA_USED; then
    "$ROOT/tools/infra/stop.sh" || warn "tools/infra/stop.sh failed"
  fi
  if $LOCK_HELD; then rm -f "$LOCK"; fi
  if ((rc == 0)); then log "stopped"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo; log "SIGINT received, shutting down"; exit 0' INT
trap 'log "SIGTERM received, shutting down"; exit 0' TERM
trap 'log "SIGHUP received, shutting down"; exit 0' HUP

run_step() { # description, command...
  local what=$1
  shift
  log "$what"
  "$@" || {
    local rc=$?
    die "$what failed (exit $rc)"
  }
}

# --- 1-3: dependencies, infra, build, database ------------------------------------------------

if [[ ! -d node_modules ]]; then
  if [[ -f package-lock.json ]]; then
    run_step "npm ci (node_modules is missing)" npm ci --no-audit --no-fund
  else
    run_step "npm install (node_modules is missing, no package-lock.json)" npm install --no-audit --no-fund
  fi
fi

INFRA_USED=true
run_step "infra: NATS, Postgres, Redis" "$ROOT/tools/infra/ensure.sh"
run_step "npm run build" npm run --silent build
run_step "npm run migrate" npm run --silent migrate
NATS_WITH_USERS=false
parse_url "$NATS_URL"
if is_loopback "$U_HOST" && [[ -z $U_USER ]] && nats_has_users "${U_PORT:-4222}"; then
  NATS_WITH_USERS=true
fi
run_step "npm run provision" "$ROOT/tools/dev/as-nats-user.sh" ops npm run --silent provision

# --- 4: API key -------------------------------------------------------------------------------

ADMIN_KEY=""
if [[ -z ${GENESIS_API_KEYS:-} ]]; then
  KEY_FILE="$GENESIS_HOME/admin.key"
  if [[ ! -s $KEY_FILE ]]; then
    key=$(openssl rand -hex 24 2>/dev/null || node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("hex"))')
    (umask 077 && printf '%s\n' "$key" >"$KEY_FILE")
    log "created an admin API key in $KEY_FILE"
  fi
  chmod 600 "$KEY_FILE"
  ADMIN_KEY=$(head -1 "$KEY_FILE" | tr -d '[:space:]')
  [[ $ADMIN_KEY =~ ^[A-Za-z0-9._~+/=-]+$ ]] ||
    die "$KEY_FILE does not hold a usable key (letters, digits, ._~+/=- only); delete it to get a new one"
  export GENESIS_API_KEYS="[{\"key\":\"$ADMIN_KEY\",\"scopes\":[\"admin\",\"learnings:write\",\"status:read\"]}]"
fi

# --- 5: services ------------------------------------------------------------------------------

if port_open 127.0.0.1 "$GATEWAY_PORT"; then
  die "port $GATEWAY_PORT is already in use on 127.0.0.1 (another gateway?); stop it or set GENESIS_GATEWAY_PORT"
fi

# Copies a service's output to its log file and, prefixed with [app], to the terminal. It ignores
# INT/TERM/HUP so that the service's last words during shutdown still get through; it ends when
# the service closes its output.
prefix_output() { # app logfile
  trap '' INT TERM HUP
  tee -a "$2" | sed -u "s/^/[$1] /"
}

start_app() {
  local app=$1 main="dist/apps/$1/main.js" logf="$GENESIS_LOG_DIR/$1.log"
  [[ -f $main ]] || die "$main is missing (npm run build should have produced it)"
  printf '=== %s start.sh starts %s\n' "$(date -Is)" "$app" >>"$logf"
  # setsid: the service does not get the terminal's Ctrl-C; we send it SIGTERM ourselves, once.
  # use_nats_user: its own NATS user and password, in its environment only.
  (
    use_nats_user "$app"
    exec setsid node "$main"
  ) </dev/null > >(prefix_output "$app" "$logf") 2>&1 &
  PIDS+=("$!")
  APP_OF[$!]=$app
}

log "starting services: ${APPS[*]}"
for app in "${APPS[@]}"; do start_app "$app"; done

# The Python worker (apps/trainer-worker), with the same lifecycle as the services: output prefixed
# here and appended to $GENESIS_LOG_DIR/trainer-worker.log, SIGTERM on exit (a running training
# saves a checkpoint and gives its job back). Its virtualenv: scripts/setup-venv.sh (seconds when
# up to date; the first time it installs torch and friends, a few minutes).
WORKER_DIR="$ROOT/apps/trainer-worker"
run_step "python worker: virtualenv (apps/trainer-worker/.venv)" "$WORKER_DIR/scripts/setup-venv.sh"
# Without bubblewrap the worker refuses evaluations whose items carry tests (docs/adr/0011).
run_step "python worker: sandbox (bubblewrap)" "$ROOT/tools/infra/ensure-bwrap.sh"
start_worker() {
  local app=trainer-worker logf="$GENESIS_LOG_DIR/trainer-worker.log"
  printf '=== %s start.sh starts %s\n' "$(date -Is)" "$app" >>"$logf"
  (
    use_nats_user trainer-worker
    export GENESIS_WORK_DIR="${GENESIS_WORK_DIR:-$GENESIS_HOME/trainer-worker}"
    # The worker runs generated code: its password goes in a file (0600), never its environment
    # (docs/adr/0011-sandbox.md).
    if [[ -n ${NATS_PASSWORD:-} ]]; then
      mkdir -p "$GENESIS_WORK_DIR"
      (umask 077 && printf '%s\n' "$NATS_PASSWORD" >"$GENESIS_WORK_DIR/nats-password")
      export NATS_PASSWORD_FILE="$GENESIS_WORK_DIR/nats-password"
      unset NATS_PASSWORD
    fi
    # Architecture studies (docs/adr/0025) keep their trials in Postgres (schema optuna); the URL
    # holds a password, so it goes in a file too.
    if [[ -n ${DATABASE_URL:-} ]]; then
      mkdir -p "$GENESIS_WORK_DIR"
      (umask 077 && printf '%s\n' "$DATABASE_URL" >"$GENESIS_WORK_DIR/study-storage")
      export GENESIS_STUDY_STORAGE_FILE="$GENESIS_WORK_DIR/study-storage"
      unset DATABASE_URL
    fi
    exec setsid "$WORKER_DIR/.venv/bin/python" -m trainer_worker
  ) </dev/null > >(prefix_output "$app" "$logf") 2>&1 &
  PIDS+=("$!")
  APP_OF[$!]=$app
}
start_worker

# The embedder (same virtualenv): answers embeddings.compute for the learner's indexer and the
# gateway's search with the bundled all-MiniLM-L6-v2, offline (ADR 0018).
start_embedder() {
  local app=embedder logf="$GENESIS_LOG_DIR/embedder.log"
  printf '=== %s start.sh starts %s\n' "$(date -Is)" "$app" >>"$logf"
  (
    use_nats_user embedder
    export HF_HUB_OFFLINE=1
    exec setsid "$WORKER_DIR/.venv/bin/python" -m trainer_worker.embedding
  ) </dev/null > >(prefix_output "$app" "$logf") 2>&1 &
  PIDS+=("$!")
  APP_OF[$!]=$app
}
start_embedder

first_dead() { # prints "pid" of the first service that has exited
  local pid
  for pid in "${PIDS[@]}"; do
    pid_alive "$pid" || {
      echo "$pid"
      return 0
    }
  done
  return 1
}

service_exited() { # pid
  local rc=0
  wait "$1" 2>/dev/null || rc=$?
  printf '[genesis] error: %s exited unexpectedly (exit code %s); stopping everything (log: %s)\n' \
    "${APP_OF[$1]}" "$rc" "$GENESIS_LOG_DIR/${APP_OF[$1]}.log" >&2
  exit 1
}

http_status() {
  if command -v curl >/dev/null 2>&1; then
    curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null || true
  else
    node -e 'fetch(process.argv[1],{signal:AbortSignal.timeout(2000)}).then(r=>console.log(r.status),()=>console.log(0))' "$1" 2>/dev/null || true
  fi
}

# --- 6: ready ---------------------------------------------------------------------------------

log "waiting for $READY_URL (up to ${READY_TIMEOUT}s)"
deadline=$((SECONDS + READY_TIMEOUT))
while [[ $(http_status "$READY_URL") != 200 ]]; do
  if dead=$(first_dead); then service_exited "$dead"; fi
  if ((SECONDS >= deadline)); then
    die "the gateway did not report ready at $READY_URL within ${READY_TIMEOUT}s (see $GENESIS_LOG_DIR/)"
  fi
  sleep 1
done

GATEWAY_URL="http://127.0.0.1:$GATEWAY_PORT"
SHOWN_KEY=${ADMIN_KEY:-<one of your GENESIS_API_KEYS>}
EXAMPLE='{"kind":"correction","source":"cli","language":"python","context":"...","model_output":"...","correction":"..."}'
echo
log "Genesis is up"
log "  gateway:   $GATEWAY_URL"
if [[ -n $ADMIN_KEY ]]; then
  log "  admin key: $ADMIN_KEY   (kept in $GENESIS_HOME/admin.key)"
else
  log "  API keys:  from GENESIS_API_KEYS"
fi
log "  try:       curl -H \"Authorization: Bearer $SHOWN_KEY\" -H 'content-type: application/json' -d '$EXAMPLE' $GATEWAY_URL/api/v1/learnings"
log "  logs:      $GENESIS_LOG_DIR"
if $NATS_WITH_USERS; then
  log "  NATS:      one user per service (deploy/nats/auth.conf); passwords in $GENESIS_NATS_CREDENTIALS"
  log "             the nats CLI as admin: nats -s $NATS_URL --user ops --password \"\$(sed -n 's/^NATS_OPS_PASSWORD=//p' $GENESIS_NATS_CREDENTIALS)\" stream ls"
fi
log "press Ctrl-C to stop"
echo

while :; do
  done_pid=""
  rc=0
  wait -n -p done_pid "${PIDS[@]}" || rc=$?
  if [[ -n $done_pid ]]; then
    printf '[genesis] error: %s exited unexpectedly (exit code %s); stopping everything (log: %s)\n' \
      "${APP_OF[$done_pid]}" "$rc" "$GENESIS_LOG_DIR/${APP_OF[$done_pid]}.log" >&2
    exit 1
  fi
done
