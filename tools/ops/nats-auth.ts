/**
 * Renders deploy/nats/auth.conf (the NATS users and their permissions) and deploy/nats/helm-values.yaml
 * (the same for the NATS Helm chart) from libs/messaging/src/nats-permissions.ts: `npm run nats:auth`.
 * `--check` only reports whether the committed files are up to date (exit 1 if not).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUTH_CONF_PATH, HELM_VALUES_PATH, renderAuthConf, renderHelmValues } from '@genesis/messaging';

const REPO = join(__dirname, '..', '..', '..');

function main(): void {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, rendered] of [
    [AUTH_CONF_PATH, renderAuthConf()],
    [HELM_VALUES_PATH, renderHelmValues()],
  ] as const) {
    const path = join(REPO, file);
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // not there yet
    }
    if (current === rendered) {
      process.stdout.write(`${file} is up to date\n`);
    } else if (check) {
      process.stderr.write(`[genesis:nats-auth] ${file} is out of date: run \`npm run nats:auth\`\n`);
      stale++;
    } else {
      writeFileSync(path, rendered);
      process.stdout.write(`wrote ${file}\n`);
    }
  }
  if (stale > 0) process.exit(1);
}

main();
