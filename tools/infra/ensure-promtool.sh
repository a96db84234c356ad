#!/usr/bin/env bash
# Makes `promtool` available for the observability tests (promtool check rules / check config /
# test rules over deploy/prometheus). Safe to run again: when promtool is on PATH it only says so.
#
# On Debian/Ubuntu it installs the OS `prometheus` package (promtool ships in it; no smaller
# package has it), without recommends. That package also holds the Prometheus server and a
# service for it: the server must not be left running on a development machine or a CI runner,
# so service starts are refused while the package installs (policy-rc.d answers 101, the
# Debian way) and anything the install started anyway is stopped.
#
#   GENESIS_HOME  default <repo>/.genesis  (apt output in logs/apt-promtool.log)
set -euo pipefail

# shellcheck source=tools/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if command -v promtool >/dev/null 2>&1; then
  log "promtool: $(promtool --version 2>&1 | head -n 1)"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 ||
  die "promtool is missing and this is not a Debian/Ubuntu machine (no apt-get): install Prometheus's promtool yourself (https://prometheus.io/download/)"
sudo=()
if [[ $EUID -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 ||
    die "promtool is missing: run as root or install it: apt-get install --no-install-recommends prometheus"
  sudo=(sudo)
fi

mkdir -p "$GENESIS_LOG_DIR"
apt_log="$GENESIS_LOG_DIR/apt-promtool.log"
policy=/usr/sbin/policy-rc.d
own_policy=false
if [[ ! -e $policy ]]; then
  # invoke-rc.d and deb-systemd-invoke ask this before starting a service: 101 = "not allowed".
  printf '#!/bin/sh\n# written by genesis tools/infra/ensure-promtool.sh while prometheus installs\nexit 101\n' |
    "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  own_policy=true
fi
cleanup() {
  if $own_policy; then "${sudo[@]}" rm -f "$policy"; fi
}
trap cleanup EXIT

apt_install() {
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
    install -y --no-install-recommends prometheus >>"$apt_log" 2>&1
}

log "installing promtool (apt-get install prometheus, output in $apt_log)"
if ! apt_install; then
  # Stale package lists are the usual cause: refresh them once and try again.
  log "apt-get update (output in $apt_log)"
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update >>"$apt_log" 2>&1 || {
    show_log_tail "$apt_log"
    die "apt-get update failed (see $apt_log)"
  }
  apt_install || {
    show_log_tail "$apt_log"
    die "apt-get install prometheus failed (see $apt_log)"
  }
fi

# Belt and braces: a machine with systemd may have started the server regardless of policy-rc.d.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  "${sudo[@]}" systemctl disable --now prometheus >>"$apt_log" 2>&1 || warn "could not stop the prometheus service"
fi

command -v promtool >/dev/null 2>&1 || die "the prometheus package installed but promtool is not on PATH"
log "promtool: $(promtool --version 2>&1 | head -n 1)"
