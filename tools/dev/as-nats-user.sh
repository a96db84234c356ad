#!/usr/bin/env bash
# as-nats-user.sh USER COMMAND...: runs COMMAND logged in to npm start's NATS as USER (one of the
# users in deploy/nats/auth.conf), e.g.
#   tools/dev/as-nats-user.sh monitor npm run monitor:once
#   tools/dev/as-nats-user.sh ops npm run provision
# NATS_USER/NATS_PASSWORD come from $GENESIS_HOME/nats/credentials.env when the nats-server at
# NATS_URL is the one npm start runs with per-service users and NATS_PASSWORD is not set already;
# otherwise COMMAND runs unchanged.
set -euo pipefail

# shellcheck source=tools/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"

(($# >= 2)) || die "usage: tools/dev/as-nats-user.sh USER COMMAND..."
user=$1
shift
nats_conf_users | grep -qx "$user" ||
  die "no NATS user '$user' in deploy/nats/auth.conf (users: $(nats_conf_users | tr '\n' ' '))"
use_nats_user "$user"
exec "$@"
