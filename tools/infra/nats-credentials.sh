#!/usr/bin/env bash
# Prints the path of the NATS passwords file ($GENESIS_HOME/nats/credentials.env, mode 0600), after
# generating the passwords it lacks: one NATS_<USER>_PASSWORD line per user of deploy/nats/auth.conf.
# npm start uses it; docker-compose reads it as its --env-file:
#   docker compose --env-file "$(tools/infra/nats-credentials.sh)" up --build
set -euo pipefail

# shellcheck source=tools/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_nats_credentials >&2
printf '%s\n' "$GENESIS_NATS_CREDENTIALS"
