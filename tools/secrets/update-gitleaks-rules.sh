#!/usr/bin/env bash
# Vendors gitleaks' default rule set (config/gitleaks.toml of github.com/zricethezav/gitleaks/v8) into
# libs/secrets/src/gitleaks/ as JSON, with its version and MIT licence. The learner compiles these RE2
# patterns to JavaScript (libs/secrets/src/re2-to-js.ts); see docs/adr/0012-secret-detection.md.
# Usage: tools/secrets/update-gitleaks-rules.sh [version]   (needs go and python3 >= 3.11)
set -euo pipefail
version=${1:-v8.30.1}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/libs/secrets/src/gitleaks
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && go mod init vendor-gitleaks >/dev/null 2>&1 &&
  go mod download -json "github.com/zricethezav/gitleaks/v8@$version" >"$work/module.json")
dir=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Dir"])' "$work/module.json")
cp "$dir/LICENSE" "$out/LICENSE"
python3 "$root/tools/secrets/gitleaks-toml-to-json.py" "$dir/config/gitleaks.toml" "$version" >"$out/gitleaks-rules.json"
(cd "$root" && npx prettier --write "$out/gitleaks-rules.json" >/dev/null)
echo "vendored gitleaks $version rules into $out"
