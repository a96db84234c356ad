#!/usr/bin/env bash
# Stops what tools/infra/ensure.sh started under $GENESIS_HOME (as listed in
# $GENESIS_HOME/run/started-by-genesis), and nothing else: servers that ensure.sh found already
# running are left alone. Graceful: nats-server SIGTERM, pg_ctl stop -m fast, redis-cli shutdown
# (SIGKILL only for a server still alive after 15 s). Data stays in $GENESIS_HOME/data.
set -euo pipefail

# shellcheck source=tools/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ ! -s $GENESIS_STARTED_FILE ]]; then
  log "infra: nothing to stop (ensure.sh started no service under $GENESIS_HOME)"
  exit 0
fi
take_infra_lock

# wait_gone PID SECONDS: true once the process is gone.
wait_gone() {
  local pid=$1 deadline=$((SECONDS + $2))
  while pid_alive "$pid"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

terminate() { # name pid
  kill -TERM "$2" 2>/dev/null || true
  if ! wait_gone "$2" 15; then
    warn "$1 (pid $2) still running after 15 s; sending SIGKILL"
    kill -KILL "$2" 2>/dev/null || true
    wait_gone "$2" 5 || true
  fi
}

stop_nats() {
  local pidf="$GENESIS_RUN_DIR/nats.pid" pid
  pid=$(cat "$pidf" 2>/dev/null || true)
  if pid_is "$pid" nats-server; then
    log "NATS: stopping nats-server (pid $pid, port $1)"
    terminate nats-server "$pid"
  else
    log "NATS: nats-server (port $1) is not running"
  fi
  rm -f "$pidf"
  forget_started nats
}

stop_pg() { # port datadir
  local port=$1 data=$2 bin ver logf="$GENESIS_LOG_DIR/postgres.log"
  if [[ -f $data/postmaster.pid ]] && pid_is "$(head -1 "$data/postmaster.pid")" postgres; then
    ver=$(cat "$data/PG_VERSION" 2>/dev/null || true)
    bin="/usr/lib/postgresql/$ver/bin"
    [[ -x $bin/pg_ctl ]] || bin=$(pg_bin_dir)
    log "Postgres: stopping (port $port, data $data)"
    if ! as_pg "$bin/pg_ctl" -D "$data" stop -m fast -w -t 30 </dev/null >>"$logf" 2>&1; then
      show_log_tail "$logf"
      die "Postgres: pg_ctl stop failed (see $logf)"
    fi
  else
    log "Postgres: (port $port) is not running"
  fi
  forget_started postgres
}

stop_redis() { # port
  local port=$1 pidf="$GENESIS_RUN_DIR/redis.pid" pid out
  pid=$(cat "$pidf" 2>/dev/null || true)
  if pid_is "$pid" redis-server; then
    log "Redis: stopping redis-server (pid $pid, port $port)"
    # The password, if any, comes from REDIS_URL, else from the file npm start generated it into.
    local auth=""
    if [[ -n ${REDIS_URL:-} ]]; then
      parse_url "$REDIS_URL"
      [[ ${U_PORT:-6379} == "$port" ]] && auth=$U_PASS
    fi
    [[ -n $auth ]] || auth=$(infra_password REDIS)
    local cli=(redis-cli -h 127.0.0.1 -p "$port")
    if [[ -n $auth ]]; then cli=(env REDISCLI_AUTH="$auth" "${cli[@]}"); fi
    if command -v redis-cli >/dev/null 2>&1 &&
      out=$("${cli[@]}" shutdown 2>&1) &&
      [[ $out != *ERR* && $out != *NOAUTH* ]] && wait_gone "$pid" 15; then
      :
    else
      [[ -z ${out:-} ]] || warn "Redis: redis-cli shutdown said: $out; sending SIGTERM instead"
      terminate redis-server "$pid"
    fi
  else
    log "Redis: redis-server (port $port) is not running"
  fi
  rm -f "$pidf"
  forget_started redis
}

while read -r svc port rest; do
  case $svc in
    nats) stop_nats "$port" ;;
    postgres) stop_pg "$port" "${rest%% *}" ;;
    redis) stop_redis "$port" ;;
    "") ;;
    *) warn "unknown entry '$svc' in $GENESIS_STARTED_FILE; ignoring it" ;;
  esac
done < <(cat "$GENESIS_STARTED_FILE")

[[ -s $GENESIS_STARTED_FILE ]] || rm -f "$GENESIS_STARTED_FILE"
log "infra stopped (GENESIS_HOME=$GENESIS_HOME)"
