import {
  NATS_USERS,
  consumersOf,
  natsPasswordVariable,
  natsPermissions,
  type NatsUserSpec,
} from './nats-permissions';

/** Where the rendered files live, relative to the repository root. */
export const AUTH_CONF_PATH = 'deploy/nats/auth.conf';
export const HELM_VALUES_PATH = 'deploy/nats/helm-values.yaml';
/**
 * The Kubernetes Secret with every user's password, keyed `<user>-password`: the one the Genesis
 * pods read their own password from (deploy/k8s/README.md), so the servers and the clients cannot
 * disagree. nats-server gets each key as the NATS_<USER>_PASSWORD variable auth.conf names.
 */
export const NATS_PASSWORDS_SECRET = 'genesis-nats-credentials';
/** The key of NATS_PASSWORDS_SECRET that holds `user`'s password. */
export const natsPasswordKey = (user: string): string => `${user}-password`;

/**
 * deploy/nats/auth.conf, rendered from NATS_USERS: a table of the users for people, then the
 * `authorization` block for nats-server (2.9 and later). Deterministic, so a spec can compare it
 * with the committed file.
 */
export function renderAuthConf(users: readonly NatsUserSpec[] = NATS_USERS): string {
  const out: string[] = [
    `# ${AUTH_CONF_PATH} — GENERATED from libs/messaging/src/nats-permissions.ts by`,
    '# `npm run nats:auth`. Edit that file, not this one (a spec fails when the two differ).',
    '#',
    '# One NATS user per Genesis process (docs/adr/0006-nats-permissions.md). Each may publish and',
    '# subscribe to exactly the subjects its code uses; only `ops` may create, update or delete',
    '# streams, consumers and buckets. Included by deploy/nats/nats-server.conf (npm start,',
    '# docker-compose, the permission test) and by the Helm chart (config.merge `$include`).',
    '#',
    "# Passwords come from nats-server's environment, one variable per user (below). nats-server",
    '# parses the value as a config token: use letters and digits, starting with a letter (`123`',
    '# would become a number, a space a syntax error). A process logs in with NATS_USER (default:',
    '# its service name) and NATS_PASSWORD.',
    '#',
    ...table(users).map((line) => `# ${line}`.trimEnd()),
    '#',
    '# Every user below except ops may also: ask for account info ($JS.API.INFO, the readiness check);',
    '# read the info of, pull from and ack on its own consumers only; subscribe to its own replies',
    '# (_INBOX.<user>.>, the inbox prefix its client sets). Artifacts: the Object Store bucket',
    '# genesis-artifacts (read = info/get, read-write = also put, which purges replaced chunks).',
    '',
    'authorization {',
    '  users = [',
  ];
  for (const spec of users) {
    const perms = natsPermissions(spec);
    out.push(`    # ${spec.user}: ${spec.role}`);
    out.push('    {');
    out.push(`      user: ${quote(spec.user)}`);
    out.push(`      password: $${natsPasswordVariable(spec.user)}`);
    if (perms) {
      out.push('      permissions: {');
      out.push(...allowBlock('publish', perms.publish, perms.publishDeny));
      out.push(...allowBlock('subscribe', perms.subscribe));
      if (perms.allowResponses) out.push('        allow_responses: true');
      out.push('      }');
    }
    out.push('    }');
  }
  out.push('  ]', '}', '');
  return out.join('\n');
}

function allowBlock(kind: 'publish' | 'subscribe', subjects: string[], deny: string[] = []): string[] {
  const list = (name: string, items: string[]) => [
    `          ${name}: [`,
    ...items.map((s) => `            ${quote(s)}`),
    '          ]',
  ];
  return [
    `        ${kind}: {`,
    ...list('allow', subjects),
    ...(deny.length ? list('deny', deny) : []),
    '        }',
  ];
}

/** Double-quoted, so `$JS…` is a subject, not a variable reference. */
function quote(s: string): string {
  if (/["\\\s]/.test(s)) throw new Error(`unexpected character in subject or user name: ${s}`);
  return `"${s}"`;
}

function table(users: readonly NatsUserSpec[]): string[] {
  const header = ['user', 'password variable', 'publishes', 'pulls from (durable consumers)', 'artifacts'];
  const rows = users.map((spec) => [
    [spec.user],
    [natsPasswordVariable(spec.user)],
    spec.admin ? ['everything'] : dashIfEmpty([...spec.publishes]),
    spec.admin ? ['everything'] : dashIfEmpty(consumersOf(spec.user).map((c) => c.durable)),
    spec.admin ? ['everything'] : [spec.artifacts === 'none' ? '-' : spec.artifacts],
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.flatMap((r) => r[i]!.map((l) => l.length))));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const lines = [line(header), line(widths.map((w) => '-'.repeat(w)))];
  for (const row of rows) {
    const height = Math.max(...row.map((cell) => cell.length));
    for (let k = 0; k < height; k++) lines.push(line(row.map((cell) => cell[k] ?? '')));
  }
  return lines;
}

function dashIfEmpty(items: string[]): string[] {
  return items.length ? items : ['-'];
}

/**
 * deploy/nats/helm-values.yaml: values for the NATS Helm chart (nats-io/k8s, chart 1.x) that
 * include auth.conf in the server config (config.merge `$include`, the file in the chart's
 * ConfigMap) and hand nats-server the passwords from the Secret NATS_PASSWORDS_SECRET.
 */
export function renderHelmValues(users: readonly NatsUserSpec[] = NATS_USERS): string {
  const out = [
    `# ${HELM_VALUES_PATH} — GENERATED from libs/messaging/src/nats-permissions.ts by`,
    '# `npm run nats:auth`. Edit that file, not this one (a spec fails when the two differ).',
    '#',
    '# Values for the NATS Helm chart (nats-io/k8s, chart 1.x), layered over its own values:',
    '#   helm upgrade --install nats nats/nats -f <your values> -f deploy/nats/helm-values.yaml',
    '# (kustomize `helmCharts`: additionalValuesFiles). They include auth.conf (one user per Genesis',
    "# process, docs/adr/0006-nats-permissions.md) in the chart's server config and give nats-server",
    `# every user's password from the Secret \`${NATS_PASSWORDS_SECRET}\` (key <user>-password) as the`,
    '# variable NATS_<USER>_PASSWORD that auth.conf reads. Each Genesis pod gets its own key of that',
    '# Secret as NATS_PASSWORD (its user: its service name, `ops` for the provisioning Job,',
    '# `trainer-worker` for the worker); deploy/k8s/README.md creates it. With deploy/k8s:',
    '#   helm upgrade --install nats nats/nats -f deploy/k8s/nats/values.yaml -f deploy/nats/helm-values.yaml',
    'config:',
    '  merge:',
    '    $include: auth.conf',
    'configMap:',
    '  merge:',
    '    data:',
    '      auth.conf: |',
    ...renderAuthConf(users)
      .trimEnd()
      .split('\n')
      .map((line) => (line ? `        ${line}` : '')),
    'container:',
    '  env:',
  ];
  for (const { user } of users) {
    const variable = natsPasswordVariable(user);
    out.push(
      `    ${variable}:`,
      '      valueFrom:',
      '        secretKeyRef:',
      `          name: ${NATS_PASSWORDS_SECRET}`,
      `          key: ${natsPasswordKey(user)}`,
    );
  }
  out.push('');
  return out.join('\n');
}
