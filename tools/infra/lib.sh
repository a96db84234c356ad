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
#   nats <port>
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
