#!/usr/bin/env bash
# Makes bubblewrap (`bwrap`) available: the Python worker runs generated code and its tests inside
# it (apps/trainer-worker/src/trainer_worker/sandbox.py, docs/adr/0011-sandbox.md) and refuses to
# run them without it. Safe to run again: when bwrap is on PATH and works it only says so.
#
# On Debian/Ubuntu it installs the OS package `bubblewrap` (0.8.0 on Debian 12). bwrap needs
# unprivileged user namespaces; where the kernel or a container runtime forbids them, the trial
# run below fails and says so (the worker then refuses test-carrying evaluations, with the reason).
#
#   GENESIS_HOME  default <repo>/.genesis  (apt output in logs/apt-bwrap.log)
set -euo pipefail

# shellcheck source=tools/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

trial() { # a minimal sandbox like the worker's: new namespaces, no network, read-only /usr
  bwrap --unshare-all --die-with-parent --new-session --clearenv --ro-bind /usr /usr \
    --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 /usr/bin/true 2>&1
}

# A root worker runs the sandbox as uid 65534, which cannot reach an interpreter under /root
# (pyenv's): it falls back to the system's /usr/bin/python3, so that must exist too.
packages=()
command -v bwrap >/dev/null 2>&1 || packages+=(bubblewrap)
[[ $EUID -ne 0 || -x /usr/bin/python3 ]] || packages+=(python3)

if ((${#packages[@]} > 0)); then
  command -v apt-get >/dev/null 2>&1 ||
    die "missing: ${packages[*]}, and this is not a Debian/Ubuntu machine (no apt-get): install them yourself"
  sudo=()
  if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "missing: ${packages[*]}: run as root or apt-get install ${packages[*]}"
    sudo=(sudo)
  fi
  mkdir -p "$GENESIS_LOG_DIR"
  apt_log="$GENESIS_LOG_DIR/apt-bwrap.log"
  apt_install() {
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
      install -y --no-install-recommends "${packages[@]}" >>"$apt_log" 2>&1
  }
  log "installing ${packages[*]} (apt-get, output in $apt_log)"
  if ! apt_install; then
    # Stale package lists are the usual cause: refresh them once and try again.
    log "apt-get update (output in $apt_log)"
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update >>"$apt_log" 2>&1 || {
      show_log_tail "$apt_log"
      die "apt-get update failed (see $apt_log)"
    }
    apt_install || {
      show_log_tail "$apt_log"
      die "apt-get install ${packages[*]} failed (see $apt_log)"
    }
  fi
fi

if ! out=$(trial); then
  die "bwrap is installed but cannot create a sandbox here (unprivileged user namespaces disabled?): $out"
fi
log "bwrap: $(bwrap --version 2>&1 | head -n 1)"
