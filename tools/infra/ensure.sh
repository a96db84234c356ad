#!/usr/bin/env bash
# Makes NATS (with JetStream), PostgreSQL and Redis reachable at NATS_URL, DATABASE_URL and
# REDIS_URL. For each one: if something already answers at the URL's host:port it is reused;
# otherwise the OS package is installed when its binary is missing (Debian/Ubuntu, apt-get) and
# the server is started on 127.0.0.1 with its data under $GENESIS_HOME/data. Safe to run again:
# a second run finds everything answering and only says it is reusing it.
#
#   NATS_URL      default nats://127.0.0.1:4222        (HTTP monitor on port+4000, e.g. 8222)
#   DATABASE_URL  default postgres://genesis:genesis@127.0.0.1:5432/genesis
#   REDIS_URL     default redis://127.0.0.1:6379 (redis://:PASSWORD@…: a server started here requires it)
#   GENESIS_HOME  default <repo>/.genesis  (data/{nats,pg,redis}, logs/, run/)
#   GENESIS_INFRA_TIMEOUT      seconds to wait for each server to answer (default 30)
#   GENESIS_NATS_MONITOR_PORT  override the NATS monitor port
#   GENESIS_NATS_AUTH          `users`: a nats-server started here runs deploy/nats/nats-server.conf,
#                              one user per process, passwords generated once into
#                              $GENESIS_HOME/nats/credentials.env (what npm start asks for);
#                              `none` (default): no authentication (npm test, bench)
#
# What this script started is listed in $GENESIS_HOME/run/started-by-genesis; tools/infra/stop.sh
# stops exactly that.
set -euo pipefail

# shellcheck source=tools/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"
DATABASE_URL="${DATABASE_URL:-postgres://genesis:genesis@127.0.0.1:5432/genesis}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
GENESIS_NATS_AUTH="${GENESIS_NATS_AUTH:-none}"
[[ $GENESIS_NATS_AUTH == users || $GENESIS_NATS_AUTH == none ]] ||
  die "GENESIS_NATS_AUTH must be users or none (got '$GENESIS_NATS_AUTH')"

mkdir -p "$GENESIS_DATA_DIR/nats" "$GENESIS_DATA_DIR/redis" "$GENESIS_LOG_DIR" "$GENESIS_RUN_DIR"
take_infra_lock
touch "$GENESIS_STARTED_FILE"

# --- the three URLs ---------------------------------------------------------------------------

parse_url "$NATS_URL"
[[ $U_SCHEME == nats ]] || die "NATS_URL must start with nats:// (got '$NATS_URL')"
NATS_HOST=$U_HOST NATS_PORT=${U_PORT:-4222} NATS_USER=$U_USER NATS_PASS=$U_PASS
NATS_PROBE=$(probe_host "$NATS_HOST")
NATS_MONITOR_PORT=${GENESIS_NATS_MONITOR_PORT:-$((NATS_PORT + 4000))}

parse_url "$DATABASE_URL"
[[ $U_SCHEME == postgres || $U_SCHEME == postgresql ]] ||
  die "DATABASE_URL must start with postgres:// (got '$U_SCHEME://...')"
PG_HOST=$U_HOST PG_PORT=${U_PORT:-5432} PG_USER=$U_USER PG_PASS=$U_PASS PG_DB=${U_PATH:-$U_USER}
[[ -n $PG_USER ]] || die "DATABASE_URL must name a user (postgres://USER:PASSWORD@HOST:PORT/DB)"
PG_PROBE=$(probe_host "$PG_HOST")

parse_url "$REDIS_URL"
[[ $U_SCHEME == redis ]] || die "REDIS_URL must start with redis:// (got '$U_SCHEME://...')"
REDIS_HOST=$U_HOST REDIS_PORT=${U_PORT:-6379} REDIS_PASS=$U_PASS
REDIS_PROBE=$(probe_host "$REDIS_HOST")

# --- packages ---------------------------------------------------------------------------------

APT_UPDATED=false
install_packages() {
  (($# > 0)) || return 0
  local sudo=() apt_log="$GENESIS_LOG_DIR/apt.log"
  command -v apt-get >/dev/null 2>&1 ||
    die "missing: $* — this is not a Debian/Ubuntu machine (no apt-get); install them yourself"
  if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 ||
      die "missing packages: $* — run as root or install them: apt-get install $*"
    sudo=(sudo)
  fi
  if ! $APT_UPDATED; then
    log "apt-get update (output in $apt_log)"
    if ! "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update >>"$apt_log" 2>&1; then
      show_log_tail "$apt_log"
      die "apt-get update failed (see $apt_log)"
    fi
    APT_UPDATED=true
  fi
  log "installing $* (apt-get, output in $apt_log)"
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
    install -y --no-install-recommends "$@" >>"$apt_log" 2>&1; then
    show_log_tail "$apt_log"
    die "apt-get install $* failed (see $apt_log)"
  fi
}

require_local() { # service host port url-var
  is_loopback "$2" ||
    die "$1: nothing answers at $2:$3 ($4) and that is not a loopback address, so ensure.sh cannot start it there"
}

packages=()
if ! port_open "$NATS_PROBE" "$NATS_PORT"; then
  require_local NATS "$NATS_HOST" "$NATS_PORT" NATS_URL
  command -v nats-server >/dev/null 2>&1 || packages+=(nats-server)
fi
if ! port_open "$PG_PROBE" "$PG_PORT"; then
  require_local Postgres "$PG_HOST" "$PG_PORT" DATABASE_URL
  [[ -n $(pg_bin_dir) ]] || packages+=(postgresql)
fi
if ! command -v psql >/dev/null 2>&1 && [[ ! -x "$(pg_bin_dir)/psql" ]]; then
  packages+=(postgresql-client)
fi
if ! port_open "$REDIS_PROBE" "$REDIS_PORT"; then
  require_local Redis "$REDIS_HOST" "$REDIS_PORT" REDIS_URL
  command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || packages+=(redis-tools)
fi
install_packages "${packages[@]}"

# --- NATS -------------------------------------------------------------------------------------

ensure_nats() {
  local info ours=""
  if port_open "$NATS_PROBE" "$NATS_PORT"; then
    if [[ $(started_line nats 2>/dev/null | awk '{print $2}') == "$NATS_PORT" ]]; then
      ours=" (started earlier by genesis"
      if nats_has_users "$NATS_PORT"; then ours+=", per-service users)"; else ours+=", no users)"; fi
    fi
    info=$(nats_info "$NATS_PROBE" "$NATS_PORT")
    if [[ $info != INFO* ]]; then
      warn "NATS: something answers at $NATS_HOST:$NATS_PORT but it does not look like a NATS server"
    elif [[ $info != *'"jetstream":true'* ]]; then
      warn "NATS: reusing the server at $NATS_HOST:$NATS_PORT$ours, but JetStream does not look enabled there"
    else
      log "NATS: reusing the server at $NATS_HOST:$NATS_PORT$ours, JetStream enabled"
    fi
    if [[ $GENESIS_NATS_AUTH == users && -z $ours ]]; then
      log "NATS: that server was not started by genesis: its own authentication applies, not deploy/nats's users"
    fi
    return 0
  fi

  local dir="$GENESIS_DATA_DIR/nats" logf="$GENESIS_LOG_DIR/nats.log" pidf="$GENESIS_RUN_DIR/nats.pid"
  local args=(-js -sd "$dir" -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_MONITOR_PORT" -P "$pidf") mode=none
  if [[ -n $NATS_USER ]]; then
    [[ $GENESIS_NATS_AUTH == none ]] ||
      warn "NATS: NATS_URL names a user ($NATS_USER): starting nats-server with that one user, not deploy/nats's per-service users"
    args+=(--user "$NATS_USER" --pass "$NATS_PASS")
  elif [[ $GENESIS_NATS_AUTH == users ]]; then
    ensure_nats_credentials
    args=(-c "$GENESIS_NATS_CONF" "${args[@]}")
    mode=users
  fi
  rm -f "$pidf"
  log "NATS: starting nats-server on 127.0.0.1:$NATS_PORT (JetStream, data $dir, monitor http://127.0.0.1:$NATS_MONITOR_PORT, log $logf)"
  if [[ $mode == users ]]; then
    log "NATS: one user per service (deploy/nats/auth.conf), passwords in $GENESIS_NATS_CREDENTIALS"
  fi
  printf '\n=== %s ensure.sh starts nats-server %s\n' "$(date -Is)" "${args[*]}" >>"$logf"
  record_started nats "$NATS_PORT" "$mode"
  # The passwords reach nats-server through its environment only (auth.conf reads $NATS_*_PASSWORD).
  (
    if [[ $mode == users ]]; then export_nats_passwords; fi
    exec setsid nats-server "${args[@]}"
  ) </dev/null >>"$logf" 2>&1 9>&- &
  local launcher=$! deadline=$((SECONDS + GENESIS_INFRA_TIMEOUT))
  while :; do
    info=$(nats_info 127.0.0.1 "$NATS_PORT")
    [[ $info == *'"jetstream":true'* ]] && break
    if ! pid_alive "$launcher" && ! pid_alive "$(cat "$pidf" 2>/dev/null)"; then
      show_log_tail "$logf"
      die "NATS: nats-server exited during startup (see $logf)"
    fi
    if ((SECONDS >= deadline)); then
      show_log_tail "$logf"
      die "NATS: no JetStream-enabled server answered on 127.0.0.1:$NATS_PORT within ${GENESIS_INFRA_TIMEOUT}s (see $logf)"
    fi
    sleep 0.3
  done
  log "NATS: ready on 127.0.0.1:$NATS_PORT (pid $(cat "$pidf" 2>/dev/null || echo '?'))"
}

# --- Postgres ---------------------------------------------------------------------------------

PSQL=psql
PG_ADMIN=none     # how we can act as a superuser: ours | system | none
PG_ADMIN_SOCK=""

pg_admin_psql() { # extra psql args...
  case $PG_ADMIN in
    ours) "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$PG_ADMIN_SOCK" -p "$PG_PORT" -U postgres -d postgres "$@" ;;
    system) as_pg "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$PG_ADMIN_SOCK" -p "$PG_PORT" -d postgres "$@" ;;
    *) return 1 ;;
  esac
}

# Creates the role (LOGIN CREATEDB, with the URL's password) and the database from DATABASE_URL
# when missing, and (re)sets the role's password/attributes to what the URL says. The password
# reaches psql through stdin (a psql \set), never its command line, which `ps` shows to everyone.
pg_ensure_role_and_db() {
  local alter="ALTER ROLE %I WITH LOGIN CREATEDB PASSWORD %L" esc
  [[ -n $PG_PASS ]] || alter="ALTER ROLE %I WITH LOGIN CREATEDB"
  # psql's quoting inside '…': a quote is doubled, a backslash escapes.
  esc=${PG_PASS//\\/\\\\}
  esc=${esc//\'/\'\'}
  {
    printf '%s\n' "\\set pass '$esc'"
    cat <<SQL
SELECT format('CREATE ROLE %I', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')
\\gexec
SELECT format('$alter', :'role', :'pass')
\\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')
\\gexec
SQL
  } | pg_admin_psql -v role="$PG_USER" -v db="$PG_DB"
}

# Data directory for our own cluster. It lives in $GENESIS_HOME/data/pg unless the postgres user
# cannot reach that folder (e.g. a checkout under /root): then it goes to /var/lib/genesis/<id>
# and $GENESIS_HOME/data/pg becomes a symlink to it.
pg_resolve_dirs() {
  local link="$GENESIS_DATA_DIR/pg" alt
  alt="/var/lib/genesis/$(printf '%s' "$GENESIS_HOME" | sha1sum | cut -c1-12)"
  if [[ -L $link ]]; then
    PG_DATA=$(readlink -f "$link")
  else
    PG_DATA=$link
  fi
  mkdir -p "$PG_DATA"
  chmod 700 "$PG_DATA"
  if [[ $EUID -eq 0 ]]; then
    chown postgres:postgres "$PG_DATA"
    if ! as_pg test -w "$PG_DATA" 2>/dev/null; then
      [[ -L $link || -z "$(ls -A "$PG_DATA")" ]] ||
        die "Postgres: the postgres user cannot reach $PG_DATA (check the permissions of its parent folders)"
      log "Postgres: the postgres user cannot reach $link; keeping the cluster in $alt/pg instead (symlinked)"
      rmdir "$PG_DATA" 2>/dev/null || true
      mkdir -p "$alt/pg"
      chown postgres:postgres "$alt" "$alt/pg"
      chmod 700 "$alt/pg"
      ln -sfn "$alt/pg" "$link"
      PG_DATA="$alt/pg"
    fi
  fi
  # Unix socket folder: only used for admin access by this script (trust auth), so keep it 0700.
  if [[ $PG_DATA == "$link" ]]; then PG_SOCK="$GENESIS_RUN_DIR/pgsock"; else PG_SOCK="$alt/sock"; fi
  if ((${#PG_SOCK} > 90)); then
    PG_SOCK="/tmp/genesis-pgsock-$(printf '%s' "$GENESIS_HOME" | sha1sum | cut -c1-12)"
  fi
  mkdir -p "$PG_SOCK"
  chmod 700 "$PG_SOCK"
  if [[ $EUID -eq 0 ]]; then chown postgres:postgres "$PG_SOCK"; fi
}

pg_start_own() {
  local bin logf="$GENESIS_LOG_DIR/postgres.log" host_auth=scram-sha-256
  bin=$(pg_bin_dir)
  [[ -n $bin ]] || die "Postgres: no /usr/lib/postgresql/*/bin found even after installing postgresql"
  if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    log "Postgres: creating the 'postgres' OS user"
    useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  pg_resolve_dirs

  if [[ ! -f $PG_DATA/PG_VERSION ]]; then
    [[ -z "$(ls -A "$PG_DATA")" ]] ||
      die "Postgres: $PG_DATA is not empty but holds no cluster (no PG_VERSION); move it away and re-run"
    [[ -n $PG_PASS ]] || host_auth=trust
    log "Postgres: initdb in $PG_DATA ($(basename "$(dirname "$bin")"), local socket trust, TCP $host_auth)"
    if ! as_pg "$bin/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host="$host_auth" >>"$logf" 2>&1; then
      show_log_tail "$logf"
      die "Postgres: initdb failed (see $logf)"
    fi
  fi
  local ver
  ver=$(cat "$PG_DATA/PG_VERSION")
  if [[ $bin != "/usr/lib/postgresql/$ver/bin" ]]; then
    [[ -x /usr/lib/postgresql/$ver/bin/pg_ctl ]] ||
      die "Postgres: $PG_DATA holds a version $ver cluster but only $bin is installed (apt-get install postgresql-$ver, or move the folder away)"
    bin="/usr/lib/postgresql/$ver/bin"
  fi

  log "Postgres: starting on 127.0.0.1:$PG_PORT (data $PG_DATA, log $logf)"
  printf '\n=== %s ensure.sh starts postgres on 127.0.0.1:%s\n' "$(date -Is)" "$PG_PORT" >>"$logf"
  record_started postgres "$PG_PORT" "$PG_DATA" "$PG_SOCK"
  if ! as_pg "$bin/pg_ctl" -D "$PG_DATA" -w -t "$GENESIS_INFRA_TIMEOUT" \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_SOCK" start </dev/null >>"$logf" 2>&1 9>&-; then
    show_log_tail "$logf"
    die "Postgres: pg_ctl start failed or did not answer within ${GENESIS_INFRA_TIMEOUT}s (see $logf)"
  fi
  PG_ADMIN=ours PG_ADMIN_SOCK=$PG_SOCK
}

# A dev stack made before npm start generated passwords: its role still has the well-known one
# (GENESIS_PG_LEGACY_PASSWORD, set by npm start). Logs in with it and moves the role to the URL's
# password (a role may change its own, so this needs no superuser). The SQL goes through stdin,
# never the command line, where any local user could read it.
pg_migrate_legacy_password() {
  local legacy=${GENESIS_PG_LEGACY_PASSWORD:-}
  [[ -n $legacy && -n $PG_PASS && $PG_PASS != "$legacy" ]] || return 0
  [[ $PG_PASS =~ ^[A-Za-z0-9]+$ ]] || return 0 # generated passwords only: inlined in SQL below
  PGPASSWORD=$legacy PGCONNECT_TIMEOUT=5 "$PSQL" -X -q -h "$PG_PROBE" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" \
    -tAc 'select 1' >/dev/null 2>&1 || return 0
  log "Postgres: role '$PG_USER' still has the old well-known password; moving it to the generated one ($GENESIS_INFRA_CREDENTIALS)"
  if ! PGPASSWORD=$legacy PGCONNECT_TIMEOUT=5 "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$PG_PROBE" -p "$PG_PORT" \
    -U "$PG_USER" -d "$PG_DB" >/dev/null <<<"ALTER ROLE CURRENT_USER PASSWORD '$PG_PASS';"; then
    warn "Postgres: could not change the password of role '$PG_USER'; set it to the one in $GENESIS_INFRA_CREDENTIALS by hand"
  fi
}

ensure_pg() {
  local bin line
  bin=$(pg_bin_dir)
  if [[ -n $bin && -x $bin/psql ]]; then PSQL="$bin/psql"; fi

  if port_open "$PG_PROBE" "$PG_PORT"; then
    line=$(started_line postgres 2>/dev/null || true)
    if [[ -n $line && $(awk '{print $2}' <<<"$line") == "$PG_PORT" &&
      -S "$(awk '{print $4}' <<<"$line")/.s.PGSQL.$PG_PORT" ]]; then
      PG_ADMIN=ours PG_ADMIN_SOCK=$(awk '{print $4}' <<<"$line")
      log "Postgres: reusing the server at $PG_HOST:$PG_PORT (started earlier by genesis)"
    else
      log "Postgres: reusing the server at $PG_HOST:$PG_PORT"
      if is_loopback "$PG_HOST" && [[ $EUID -eq 0 ]] && id postgres >/dev/null 2>&1; then
        local d
        for d in /var/run/postgresql /run/postgresql /tmp; do
          if [[ -S $d/.s.PGSQL.$PG_PORT ]]; then
            PG_ADMIN=system PG_ADMIN_SOCK=$d
            break
          fi
        done
      fi
    fi
  else
    pg_start_own
  fi

  pg_migrate_legacy_password
  if [[ $PG_ADMIN != none ]]; then
    if ! pg_ensure_role_and_db; then
      die "Postgres: could not create role '$PG_USER' / database '$PG_DB' on $PG_HOST:$PG_PORT"
    fi
  fi

  if PGCONNECT_TIMEOUT=5 "$PSQL" -X -q -d "$DATABASE_URL" -tAc 'select 1' >/dev/null 2>&1; then
    log "Postgres: ready at $PG_HOST:$PG_PORT, role '$PG_USER' can log in to database '$PG_DB'"
  elif [[ $PG_ADMIN != none ]]; then
    PGCONNECT_TIMEOUT=5 "$PSQL" -X -q -d "$DATABASE_URL" -tAc 'select 1' >/dev/null || true
    die "Postgres: role '$PG_USER' cannot log in to '$PG_DB' at $PG_HOST:$PG_PORT even after setup"
  else
    warn "Postgres: the server at $PG_HOST:$PG_PORT was not started by genesis and there is no superuser access to it from here;"
    warn "  make sure role '$PG_USER' (LOGIN CREATEDB, with the DATABASE_URL password) and database '$PG_DB' exist there"
  fi
}

# --- Redis ------------------------------------------------------------------------------------

ensure_redis() {
  local reply ours=""
  if port_open "$REDIS_PROBE" "$REDIS_PORT"; then
    [[ $(started_line redis 2>/dev/null | awk '{print $2}') == "$REDIS_PORT" ]] && ours=" (started earlier by genesis)"
    reply=$(redis_ping "$REDIS_PROBE" "$REDIS_PORT")
    case $reply in
      +PONG | -NOAUTH* | -WRONGPASS* | -ERR*) log "Redis: reusing the server at $REDIS_HOST:$REDIS_PORT$ours" ;;
      *) warn "Redis: something answers at $REDIS_HOST:$REDIS_PORT but it does not look like Redis" ;;
    esac
    if [[ $reply == +PONG && -n $REDIS_PASS ]]; then
      # Open to anyone on this machine although REDIS_URL has a password: a server started by an
      # npm start from before the generated passwords. Ours gets it now; another one is reported.
      if [[ -n $ours ]] && [[ $(redis_command "$REDIS_PROBE" "$REDIS_PORT" "CONFIG SET requirepass $REDIS_PASS") == +OK ]]; then
        log "Redis: the server started earlier had no password; it now requires the one in REDIS_URL"
      else
        warn "Redis: the server at $REDIS_HOST:$REDIS_PORT requires no password (REDIS_URL has one; it is not checked)"
      fi
    fi
    return 0
  fi

  local dir="$GENESIS_DATA_DIR/redis" logf="$GENESIS_LOG_DIR/redis.log" pidf="$GENESIS_RUN_DIR/redis.pid"
  local args=(--bind 127.0.0.1 --port "$REDIS_PORT" --dir "$dir" --daemonize yes --pidfile "$pidf"
    --logfile "$logf" --appendonly yes)
  if [[ -n $REDIS_PASS ]]; then
    # In a 0600 config file, not on the command line (which every local user can read in ps).
    local conf="$GENESIS_RUN_DIR/redis.conf"
    (umask 077 && printf 'requirepass %s\n' "$REDIS_PASS" >"$conf")
    args=("$conf" "${args[@]}")
  fi
  log "Redis: starting redis-server on 127.0.0.1:$REDIS_PORT (data $dir, log $logf)"
  record_started redis "$REDIS_PORT"
  if ! redis-server "${args[@]}" </dev/null >>"$logf" 2>&1 9>&-; then
    show_log_tail "$logf"
    die "Redis: redis-server failed to start (see $logf)"
  fi
  local deadline=$((SECONDS + GENESIS_INFRA_TIMEOUT))
  while :; do
    reply=$(redis_ping 127.0.0.1 "$REDIS_PORT")
    [[ $reply == +PONG || $reply == -NOAUTH* ]] && break
    if ((SECONDS >= deadline)); then
      show_log_tail "$logf"
      die "Redis: nothing answered on 127.0.0.1:$REDIS_PORT within ${GENESIS_INFRA_TIMEOUT}s (see $logf)"
    fi
    sleep 0.3
  done
  log "Redis: ready on 127.0.0.1:$REDIS_PORT (pid $(cat "$pidf" 2>/dev/null || echo '?'))"
}

ensure_nats
ensure_pg
ensure_redis
log "infra ready (GENESIS_HOME=$GENESIS_HOME)"
