# shellcheck shell=bash
# Shared helpers for tools/infra/ensure.sh and tools/infra/stop.sh (and tools/dev/*.sh); sourced,
# not executed. Variables set here are used by the scripts that source it.
# shellcheck disable=SC2034,SC2016

GENESIS_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export GENESIS_HOME="${GENESIS_HOME:-$GENESIS_REPO_ROOT/.genesis}"
GENESIS_DATA_DIR="$GENESIS_HOME/data"
GENESIS_LOG_DIR="$GENESIS_HOME/logs"
GENESIS_RUN_DIR="$GENESIS_HOME/run"
GENESIS_STARTED_FILE="$GENESIS_RUN_DIR/started-by-genesis"
GENESIS_INFRA_TIMEOUT="${GENESIS_INFRA_TIMEOUT:-30}"

log() { printf '[genesis] %s\n' "$*"; }
warn() { printf '[genesis] warning: %s\n' "$*" >&2; }
die() {
  printf '[genesis] error: %s\n' "$*" >&2
  exit 1
}

# Last lines of a log file, indented, on stderr (used in error paths).
show_log_tail() {
  local file=$1
  [[ -f $file ]] || return 0
  printf '[genesis] last lines of %s:\n' "$file" >&2
  tail -n 15 "$file" | sed 's/^/    /' >&2
}

# Percent-decoding for URL parts (user, password, path).
urldecode() {
  local s=$1
  s=${s//\\/\\\\}
  printf '%b' "${s//%/\\x}"
}

# parse_url URL -> sets U_SCHEME U_USER U_PASS U_HOST U_PORT U_PATH (decoded, path without '/').
parse_url() {
  local url=$1 rest auth hostport
  U_SCHEME=${url%%://*}
  rest=${url#*://}
  rest=${rest%%\?*}
  rest=${rest%%#*}
  if [[ $rest == */* ]]; then
    U_PATH=${rest#*/}
    rest=${rest%%/*}
  else
    U_PATH=
  fi
  if [[ $rest == *@* ]]; then
    auth=${rest%@*}
    hostport=${rest##*@}
  else
    auth=
    hostport=$rest
  fi
  U_USER=${auth%%:*}
  if [[ $auth == *:* ]]; then U_PASS=${auth#*:}; else U_PASS=; fi
  if [[ $hostport == \[*\]* ]]; then
    U_HOST=${hostport%%]*}
    U_HOST=${U_HOST#[}
    U_PORT=${hostport##*]}
    U_PORT=${U_PORT#:}
  elif [[ $hostport == *:* ]]; then
    U_HOST=${hostport%:*}
    U_PORT=${hostport##*:}
  else
    U_HOST=$hostport
    U_PORT=
  fi
  U_USER=$(urldecode "$U_USER")
  U_PASS=$(urldecode "$U_PASS")
  U_PATH=$(urldecode "$U_PATH")
  if [[ -n $U_PORT && ! $U_PORT =~ ^[0-9]+$ ]]; then
    die "cannot parse the port in '$url'"
  fi
  [[ -n $U_HOST ]] || die "cannot parse the host in '$url'"
}

is_loopback() {
  case "$1" in
    127.* | localhost | ::1 | 0:0:0:0:0:0:0:1) return 0 ;;
    *) return 1 ;;
  esac
}

# The address we probe / bind for a URL host: 'localhost' is probed as 127.0.0.1 because
# that is where we bind.
probe_host() {
  if [[ $1 == localhost ]]; then echo 127.0.0.1; else echo "$1"; fi
}

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# First line a NATS server sends on connect (its INFO line), or nothing.
nats_info() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && IFS= read -r -t 2 line <&3 && printf "%s\n" "$line"' \
    "$1" "$2" 2>/dev/null || true
}

# Reply of a Redis server to PING ('+PONG', or an auth error, which still proves it is Redis).
redis_ping() {
  local line
  line=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "PING\r\n" >&3 && IFS= read -r -t 2 line <&3 && printf "%s\n" "$line"' \
    "$1" "$2" 2>/dev/null) || true
  printf '%s\n' "${line%$'\r'}"
}

# redis_command HOST PORT "COMMAND ARGS": one inline command, its first reply line (empty if none).
redis_command() {
  local line
  # The command (it may hold a password) travels in the environment, not in a process's arguments.
  line=$(REDIS_COMMAND=$3 timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "%s\r\n" "$REDIS_COMMAND" >&3 && IFS= read -r -t 2 line <&3 && printf "%s\n" "$line"' \
    "$1" "$2" 2>/dev/null) || true
  printf '%s\n' "${line%$'\r'}"
}

pid_alive() {
  local pid=$1 line state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  line=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  state=${line##*) }
  state=${state%% *}
  [[ -n $state && $state != Z ]]
}

# pid_is PID NAME: the process is alive and its executable name is NAME.
pid_is() {
  local comm
  pid_alive "$1" || return 1
  comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
  [[ $comm == "$2"* ]]
}

pg_bin_dir() {
  # shellcheck disable=SC2012
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

# Run a command as the 'postgres' OS user when we are root (initdb/postgres refuse to run as root),
# as ourselves otherwise. Runs from / so that an unreadable cwd does not produce warnings.
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    if command -v runuser >/dev/null 2>&1; then
      (cd / && runuser -u postgres -- "$@")
    else
      local cmd
      cmd=$(printf '%q ' "$@")
      (cd / && su -s /bin/sh postgres -c "$cmd")
    fi
  else
    (cd / && "$@")
  fi
}

# started-by-genesis: one line per service this GENESIS_HOME's ensure.sh started:
#   nats <port> <users|none>     (users: deploy/nats/nats-server.conf, one user per process)
#   postgres <port> <data dir> <socket dir>
#   redis <port>
started_line() {
  [[ -f $GENESIS_STARTED_FILE ]] || return 1
  awk -v s="$1" '$1 == s { line = $0 } END { if (line == "") exit 1; print line }' "$GENESIS_STARTED_FILE"
}

record_started() {
  local svc=$1
  shift
  forget_started "$svc"
  printf '%s %s\n' "$svc" "$*" >>"$GENESIS_STARTED_FILE"
}

forget_started() {
  [[ -f $GENESIS_STARTED_FILE ]] || return 0
  local tmp="$GENESIS_STARTED_FILE.tmp.$$"
  awk -v s="$1" '$1 != s' "$GENESIS_STARTED_FILE" >"$tmp"
  mv -f "$tmp" "$GENESIS_STARTED_FILE"
}

# Serialises ensure.sh/stop.sh runs for one GENESIS_HOME. The lock lives on fd 9, so every daemon
# we launch is started with 9>&- (otherwise it would hold the lock for its whole life).
take_infra_lock() {
  mkdir -p "$GENESIS_RUN_DIR"
  exec 9>"$GENESIS_RUN_DIR/infra.lock"
  if ! flock -w 300 9; then
    die "another ensure.sh/stop.sh holds $GENESIS_RUN_DIR/infra.lock for more than 300 s"
  fi
}

# --- Postgres and Redis passwords (docs/adr/0013-hostile-http.md) ------------------------------
# npm start's Postgres role and Redis server get passwords generated once into
# $GENESIS_INFRA_CREDENTIALS (mode 0600): GENESIS_POSTGRES_PASSWORD=… and GENESIS_REDIS_PASSWORD=…
# (hex, so they need no escaping in a URL). The services get them inside DATABASE_URL / REDIS_URL.
# npm test keeps its fixed test credentials on its own ports (tools/dev/test.sh).
GENESIS_INFRA_CREDENTIALS="$GENESIS_HOME/infra/credentials.env"
# What npm start used before the generated passwords: a stack made then is migrated from it.
GENESIS_PG_LEGACY_PASSWORD_DEFAULT=genesis

# Creates $GENESIS_INFRA_CREDENTIALS or adds the passwords it lacks; never changes one there.
ensure_infra_credentials() {
  local dir var pw added=()
  dir=$(dirname "$GENESIS_INFRA_CREDENTIALS")
  mkdir -p "$dir"
  chmod 700 "$dir"
  (umask 077 && touch "$GENESIS_INFRA_CREDENTIALS")
  chmod 600 "$GENESIS_INFRA_CREDENTIALS"
  for var in GENESIS_POSTGRES_PASSWORD GENESIS_REDIS_PASSWORD; do
    grep -q "^$var=" "$GENESIS_INFRA_CREDENTIALS" && continue
    pw=$(openssl rand -hex 24 2>/dev/null || node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("hex"))')
    printf '%s=%s\n' "$var" "$pw" >>"$GENESIS_INFRA_CREDENTIALS"
    added+=("$var")
  done
  if ((${#added[@]} > 0)); then
    log "generated ${added[*]} in $GENESIS_INFRA_CREDENTIALS (mode 0600)"
  fi
}

# infra_password POSTGRES|REDIS: that password from $GENESIS_INFRA_CREDENTIALS (read as data).
infra_password() {
  [[ -f $GENESIS_INFRA_CREDENTIALS ]] || return 0
  sed -n "s/^GENESIS_$1_PASSWORD=//p" "$GENESIS_INFRA_CREDENTIALS" | tail -1
}

# --- NATS users (deploy/nats, docs/adr/0006-nats-permissions.md) ------------------------------
# npm start runs its nats-server with deploy/nats/nats-server.conf: one user per process, each
# with exactly the permissions its code needs. The passwords are generated once into
# $GENESIS_NATS_CREDENTIALS (mode 0600), as the NATS_<USER>_PASSWORD=… lines that auth.conf reads
# from nats-server's environment (also usable as `docker compose --env-file`).
GENESIS_NATS_CONF="$GENESIS_REPO_ROOT/deploy/nats/nats-server.conf"
GENESIS_NATS_CREDENTIALS="$GENESIS_HOME/nats/credentials.env"

# The users that deploy/nats/auth.conf declares, one per line.
nats_conf_users() {
  sed -n 's/^ *user: "\([A-Za-z0-9_-]*\)"$/\1/p' "$GENESIS_REPO_ROOT/deploy/nats/auth.conf"
}

# nats_password_var USER: the variable auth.conf reads its password from (trainer-bridge ->
# NATS_TRAINER_BRIDGE_PASSWORD).
nats_password_var() {
  local v=${1^^}
  printf 'NATS_%s_PASSWORD\n' "${v//[^A-Z0-9]/_}"
}

# Creates $GENESIS_NATS_CREDENTIALS, or adds the users it lacks; never changes a password there.
# Passwords are letters and digits starting with a letter (nats-server parses them as config tokens).
ensure_nats_credentials() {
  local dir user var pw added=()
  dir=$(dirname "$GENESIS_NATS_CREDENTIALS")
  mkdir -p "$dir"
  chmod 700 "$dir"
  (umask 077 && touch "$GENESIS_NATS_CREDENTIALS")
  chmod 600 "$GENESIS_NATS_CREDENTIALS"
  while IFS= read -r user; do
    var=$(nats_password_var "$user")
    grep -q "^$var=" "$GENESIS_NATS_CREDENTIALS" && continue
    pw=$(openssl rand -hex 24 2>/dev/null || node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("hex"))')
    printf '%s=n%s\n' "$var" "$pw" >>"$GENESIS_NATS_CREDENTIALS"
    added+=("$user")
  done < <(nats_conf_users)
  if ((${#added[@]} > 0)); then
    log "NATS: generated passwords for ${added[*]} in $GENESIS_NATS_CREDENTIALS"
  fi
}

# nats_password USER: that user's password from $GENESIS_NATS_CREDENTIALS (empty if none).
nats_password() {
  [[ -f $GENESIS_NATS_CREDENTIALS ]] || return 0
  sed -n "s/^$(nats_password_var "$1")=//p" "$GENESIS_NATS_CREDENTIALS" | tail -1
}

# Exports every NATS_<USER>_PASSWORD from the credentials file (for nats-server itself). The file
# is read as data, not sourced.
export_nats_passwords() {
  local key value
  while IFS='=' read -r key value; do
    [[ $key =~ ^NATS_[A-Z0-9_]+_PASSWORD$ ]] && export "$key=$value"
  done <"$GENESIS_NATS_CREDENTIALS"
}

# nats_has_users PORT: the nats-server on 127.0.0.1:PORT was started by ensure.sh under this
# GENESIS_HOME with the per-service users.
nats_has_users() {
  [[ $(started_line nats 2>/dev/null | awk '{print $2, $3}') == "$1 users" ]]
}

# use_nats_user USER: when the nats-server at NATS_URL is npm start's (loopback, started here with
# the per-service users) and NATS_PASSWORD is not set already, exports NATS_USER=USER and its
# NATS_PASSWORD. Call it in the subshell of the one process that needs them, so that every process
# sees only its own password. Otherwise (no auth, an external server) it changes nothing.
use_nats_user() {
  local pw
  [[ -z ${NATS_PASSWORD:-} ]] || return 0
  parse_url "${NATS_URL:-nats://127.0.0.1:4222}"
  if is_loopback "$U_HOST" && [[ -z $U_USER ]] && nats_has_users "${U_PORT:-4222}"; then
    pw=$(nats_password "$1")
    [[ -n $pw ]] || die "no password for NATS user '$1' in $GENESIS_NATS_CREDENTIALS; restart the dev nats-server (tools/infra/stop.sh, then npm start)"
    export NATS_USER="$1" NATS_PASSWORD="$pw"
  fi
}

# --- pinned Go tools (ensure-kustomize.sh, ensure-weaviate.sh) -------------------------------
# go_install_pinned BINARY VERSION PACKAGE OVERRIDE_VAR LOCK_WAIT_S HINT [VAR=VALUE...]
# Prints the path of a pinned Go binary (the only line on stdout; progress goes to stderr):
#   - $OVERRIDE_VAR set to an executable: that one, as it is (no version check);
#   - otherwise ${XDG_CACHE_HOME:-~/.cache}/genesis/bin/BINARY-VERSION, built once when missing with
#     `go install PACKAGE@VERSION` through the Go module proxy (no container registry is reachable
#     here, hence the build). The file name carries the version, so bumping the pin builds anew.
# The module and build caches live under ~/.cache/genesis too (GOMODCACHE, GOCACHE): a CI machine
# that keeps ~/.cache pays each build once. One build at a time per binary (a flock held up to
# LOCK_WAIT_S: parallel test runs share the cache, and the second one waits and finds the binary).
# The VAR=VALUE arguments go into the build's environment (e.g. CGO_ENABLED=0). HINT says how long
# a first build takes, for the log line.
go_install_pinned() {
  local binary=$1 version=$2 package=$3 override_var=$4 lock_wait=$5 hint=$6
  shift 6
  local override=${!override_var:-}
  if [[ -n $override ]]; then
    [[ -x $override ]] || die "$override_var=$override is not an executable file"
    printf '%s\n' "$override"
    return 0
  fi
  local cache_root="${XDG_CACHE_HOME:-$HOME/.cache}"
  local bin_dir="$cache_root/genesis/bin"
  local target="$bin_dir/$binary-$version"
  if [[ -x $target ]]; then
    printf '%s\n' "$target"
    return 0
  fi
  command -v go >/dev/null 2>&1 ||
    die "$binary $version is not in $bin_dir and Go is not installed to build it (needs Go >= 1.24), or set $override_var to a $binary binary"
  mkdir -p "$bin_dir"
  local lock_fd
  exec {lock_fd}>"$bin_dir/.$binary.lock"
  flock -w "$lock_wait" "$lock_fd" ||
    die "another build holds $bin_dir/.$binary.lock for more than $lock_wait s"
  if [[ ! -x $target ]]; then
    local tmp started built
    tmp=$(mktemp -d "$bin_dir/.$binary-build.XXXXXX")
    log "building $binary $version with $(go version | awk '{print $3}') (first time only, $hint)" >&2
    started=$SECONDS
    # GOTOOLCHAIN=local: never fetch another Go. GOFLAGS='' drops a user's -mod=vendor and the like.
    if ! env "$@" GOTOOLCHAIN=local GOBIN="$tmp" GOFLAGS='' \
      GOMODCACHE="$cache_root/genesis/go-mod" GOCACHE="$cache_root/genesis/go-build" \
      go install "$package@$version" >"$tmp/build.log" 2>&1; then
      tail -n 15 "$tmp/build.log" | sed 's/^/    /' >&2
      rm -rf "$tmp"
      die "go install $package@$version failed"
    fi
    # The binary's embedded build info names the module version it was built from.
    built=$(go version -m "$tmp/$binary" | awk '$1 == "mod" { print $3 }')
    if [[ $built != "$version" ]]; then
      rm -rf "$tmp"
      die "the built $binary is '$built', expected $version"
    fi
    mv -f "$tmp/$binary" "$target"
    rm -rf "$tmp"
    log "$binary $version ready in $((SECONDS - started)) s: $target" >&2
  fi
  exec {lock_fd}>&-
  printf '%s\n' "$target"
}
