/**
 * The rules the rendered manifests must follow (docs/adr/0007). Each check takes every object of
 * one rendered overlay and returns its problems as readable lines (empty = fine), so the tests
 * can also feed it a deliberately broken copy and see it complain.
 */
import type { IContainer, IPodSpec, IService, IServiceAccount } from 'kubernetes-models/v1';
import type {
  INetworkPolicy,
  INetworkPolicyPeer,
  INetworkPolicyPort,
  IIngress,
} from 'kubernetes-models/networking.k8s.io/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { validateStrict } from './strict-validate';
import {
  REPO,
  configMapRefs,
  containersOf,
  find,
  isEmptySelector,
  ofKind,
  selects,
  workloads,
  type K8sObject,
  type Workload,
} from './manifests';

/** The pod-template annotation that exempts a Deployment without an HTTP endpoint from probes. */
export const NO_HTTP_PROBES = 'genesis.dev/no-http-probes';
/** The Secret that holds one NATS password per service (`<user>-password`). */
export const NATS_CREDENTIALS = 'genesis-nats-credentials';
export const NATS_USERS = [
  'gateway',
  'learner',
  'monitor',
  'trainer-bridge',
  'evaluator',
  'deployer',
  'trainer-worker',
  'embedder',
  'ops',
];
/** Pod labels of the NATS servers (the Helm chart's). */
export const NATS_SERVER = { 'app.kubernetes.io/name': 'nats', 'app.kubernetes.io/component': 'nats' };

const id = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
const podLabels = (w: Workload) => (w.template.metadata?.labels ?? {}) as Record<string, string>;

export function checkSchemas(objects: K8sObject[]): string[] {
  return objects.flatMap((o) => validateStrict(o).map((p) => `${id(o)}: ${p}`));
}

/** Health paths of third-party servers that the manifests run (Genesis's own use /health/*). */
const PROBE_PATHS: Record<string, { live: string; ready: string }> = {
  weaviate: { live: '/v1/.well-known/live', ready: '/v1/.well-known/ready' },
};

/**
 * Long-running pods (Deployments, StatefulSets) answer the kubelet: liveness on /health/live,
 * readiness on /health/ready (a third-party server: on its own health paths, PROBE_PATHS).
 */
export function checkProbes(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects).filter((w) => w.kind !== 'Job')) {
    if (w.template.metadata?.annotations?.[NO_HTTP_PROBES]) continue;
    const paths = PROBE_PATHS[w.name] ?? { live: '/health/live', ready: '/health/ready' };
    for (const c of w.template.spec.containers) {
      const ports = new Set<string | number>((c.ports ?? []).flatMap((p) => [p.containerPort, p.name ?? '']));
      for (const [kind, path] of [
        ['livenessProbe', paths.live],
        ['readinessProbe', paths.ready],
      ] as const) {
        const probe = c[kind]?.httpGet;
        if (!probe) problems.push(`${w.name}/${c.name}: no ${kind}`);
        else if (probe.path !== path)
          problems.push(`${w.name}/${c.name}: ${kind} on ${probe.path}, not ${path}`);
        else if (!ports.has(probe.port))
          problems.push(`${w.name}/${c.name}: ${kind} port ${probe.port} is not a container port`);
      }
    }
  }
  return problems;
}

export function probeExemptions(objects: K8sObject[]): string[] {
  return workloads(objects)
    .filter((w) => w.kind !== 'Job' && w.template.metadata?.annotations?.[NO_HTTP_PROBES])
    .map((w) => w.name);
}

/** Requests and limits for CPU and memory on every container, init containers and Jobs included. */
export function checkResources(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects)) {
    for (const c of containersOf(w.template.spec)) {
      for (const side of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory']) {
          if (c.resources?.[side]?.[resource] === undefined) {
            problems.push(`${w.name}/${c.name}: no ${side}.${resource}`);
          }
        }
      }
    }
  }
  return problems;
}

/** Images carry an explicit tag (not `latest`) or a digest. */
export function checkImages(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects)) {
    for (const c of containersOf(w.template.spec)) {
      const image = c.image ?? '';
      if (/@sha256:[0-9a-f]{64}$/.test(image)) continue;
      const tag = /:([^/:]+)$/.exec(image)?.[1];
      if (!tag) problems.push(`${w.name}/${c.name}: image "${image}" has no tag`);
      else if (tag === 'latest') problems.push(`${w.name}/${c.name}: image "${image}" uses the tag latest`);
    }
  }
  return problems;
}

/** No secret value is committed: Secrets are referenced by name; ConfigMaps hold no credentials. */
export function checkNoCommittedSecrets(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of ofKind(objects, 'Secret')) {
    const keys = [
      ...Object.keys((o['data'] as object) ?? {}),
      ...Object.keys((o['stringData'] as object) ?? {}),
    ];
    problems.push(
      `${id(o)} is rendered (keys: ${keys.join(', ') || 'none'}): Secrets are created outside the manifests`,
    );
  }
  for (const o of ofKind(objects, 'ConfigMap')) {
    for (const [key, value] of Object.entries((o['data'] as Record<string, string>) ?? {})) {
      if (/PASSWORD|SECRET|TOKEN|API_KEYS?$/i.test(key))
        problems.push(`${id(o)}: key ${key} belongs in a Secret`);
      if (/\w+:\/\/[^/\s:@]+:[^@\s/]+@/.test(value))
        problems.push(`${id(o)}: ${key} holds a URL with a password`);
    }
  }
  return problems;
}

/** Each workload runs as its own ServiceAccount, and no pod gets an API token. */
export function checkServiceAccounts(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects)) {
    const name = w.template.spec.serviceAccountName;
    const sa = name
      ? (find(objects, 'ServiceAccount', name) as (K8sObject & IServiceAccount) | undefined)
      : undefined;
    if (!name || name === 'default') problems.push(`${w.name}: no ServiceAccount of its own`);
    else if (!sa) problems.push(`${w.name}: ServiceAccount ${name} is not in the manifests`);
    else if (sa.automountServiceAccountToken !== false)
      problems.push(`ServiceAccount ${name}: token automounted`);
    if (w.template.spec.automountServiceAccountToken !== false)
      problems.push(`${w.name}: pod automounts a token`);
  }
  return problems;
}

/** The Pod Security `restricted` profile, plus a read-only root filesystem. */
export function checkSecurityContexts(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects)) {
    const pod = w.template.spec;
    const psc = pod.securityContext ?? {};
    if (psc.runAsNonRoot !== true) problems.push(`${w.name}: pod does not set runAsNonRoot`);
    if (psc.runAsUser === 0) problems.push(`${w.name}: pod runs as uid 0`);
    if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push(`${w.name}: shares a host namespace`);
    if ((pod.volumes ?? []).some((v) => v.hostPath)) problems.push(`${w.name}: mounts a hostPath`);
    for (const c of containersOf(pod)) {
      const sc = c.securityContext ?? {};
      const where = `${w.name}/${c.name}`;
      const seccomp = sc.seccompProfile ?? psc.seccompProfile;
      // `restricted` allows RuntimeDefault or a node-local profile; ours are in deploy/k8s/seccomp.
      if (seccomp?.type === 'Localhost') {
        if (!existsSync(join(REPO, 'deploy', 'k8s', 'seccomp', seccomp.localhostProfile ?? '-')))
          problems.push(`${where}: seccomp profile ${seccomp.localhostProfile} is not in deploy/k8s/seccomp`);
      } else if (seccomp?.type !== 'RuntimeDefault')
        problems.push(`${where}: no RuntimeDefault seccomp profile`);
      if (sc.allowPrivilegeEscalation !== false)
        problems.push(`${where}: allowPrivilegeEscalation is not false`);
      if (sc.privileged) problems.push(`${where}: privileged`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL'))
        problems.push(`${where}: capabilities not dropped (ALL)`);
      if ((sc.capabilities?.add ?? []).length > 0) problems.push(`${where}: adds capabilities`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: root filesystem is writable`);
      if (sc.runAsUser === 0) problems.push(`${where}: runs as uid 0`);
    }
  }
  return problems;
}

// --- NetworkPolicies --------------------------------------------------------------------------

type Policy = K8sObject & INetworkPolicy;
type Direction = 'ingress' | 'egress';

function policiesFor(objects: K8sObject[], labels: Record<string, string>): Policy[] {
  return ofKind<INetworkPolicy>(objects, 'NetworkPolicy').filter((p) => selects(p.spec?.podSelector, labels));
}

function rulesFor(objects: K8sObject[], labels: Record<string, string>, dir: Direction) {
  return policiesFor(objects, labels).flatMap(
    (p) =>
      (dir === 'ingress' ? p.spec?.ingress : p.spec?.egress)?.map((r) => ({
        policy: p.metadata.name,
        peers: ((dir === 'ingress'
          ? (r as { from?: INetworkPolicyPeer[] }).from
          : (r as { to?: INetworkPolicyPeer[] }).to) ?? []) as INetworkPolicyPeer[],
        ports: r.ports ?? [],
      })) ?? [],
  );
}

const portMatches = (ports: INetworkPolicyPort[], port: number | string) =>
  ports.length === 0 || ports.some((p) => p.port === port);

/** Does some egress rule of the pods with `labels` allow `port` towards pods labelled `peer` here? */
export function egressAllows(
  objects: K8sObject[],
  labels: Record<string, string>,
  port: number,
  peer: Record<string, string>,
) {
  return rulesFor(objects, labels, 'egress').some(
    (r) =>
      portMatches(r.ports, port) &&
      r.peers.some((p) => !p.namespaceSelector && !p.ipBlock && selects(p.podSelector, peer)),
  );
}

export function checkNetworkPolicies(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const policies = ofKind<INetworkPolicy>(objects, 'NetworkPolicy');
  const denyAll = policies.find(
    (p) =>
      isEmptySelector(p.spec?.podSelector) &&
      (['Ingress', 'Egress'] as const).every((t) => p.spec?.policyTypes?.includes(t)) &&
      !p.spec?.ingress?.length &&
      !p.spec?.egress?.length,
  );
  if (!denyAll)
    problems.push('no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)');

  for (const p of policies) {
    for (const dir of ['ingress', 'egress'] as const) {
      for (const r of (p.spec?.[dir] ?? []) as Array<{
        from?: INetworkPolicyPeer[];
        to?: INetworkPolicyPeer[];
      }>) {
        const peers = (dir === 'ingress' ? r.from : r.to) ?? [];
        if (peers.length === 0)
          problems.push(`NetworkPolicy/${p.metadata.name}: an ${dir} rule allows every peer`);
        for (const peer of peers) {
          if (peer.ipBlock?.cidr === '0.0.0.0/0' || peer.ipBlock?.cidr === '::/0')
            problems.push(`NetworkPolicy/${p.metadata.name}: an ${dir} rule allows the whole internet`);
          if (peer.namespaceSelector && isEmptySelector(peer.namespaceSelector) && !peer.podSelector)
            problems.push(`NetworkPolicy/${p.metadata.name}: an ${dir} rule allows every namespace`);
        }
      }
    }
  }

  const all = workloads(objects);
  for (const w of all) {
    const specific = policiesFor(objects, podLabels(w)).filter((p) => !isEmptySelector(p.spec?.podSelector));
    if (specific.length === 0)
      problems.push(`${w.kind}/${w.name}: no NetworkPolicy of its own selects its pods`);
  }

  // From outside the namespace, only the ingress controller, and only to the gateway.
  for (const p of policies) {
    const fromIngress = (p.spec?.ingress ?? []).some((r) =>
      (r.from ?? []).some(
        (peer) => peer.namespaceSelector?.matchLabels?.['genesis.dev/ingress-controller'] === 'true',
      ),
    );
    if (!fromIngress) continue;
    const reached = all.filter((w) => selects(p.spec?.podSelector, podLabels(w))).map((w) => w.name);
    if (reached.join() !== 'gateway')
      problems.push(`NetworkPolicy/${p.metadata.name}: the ingress controller reaches ${reached.join(', ')}`);
  }
  const gateway = all.find((w) => w.name === 'gateway');
  if (
    gateway &&
    !rulesFor(objects, podLabels(gateway), 'ingress').some((r) =>
      r.peers.some(
        (peer) => peer.namespaceSelector?.matchLabels?.['genesis.dev/ingress-controller'] === 'true',
      ),
    )
  )
    problems.push('the gateway is not reachable from the ingress controller');

  // Prometheus scrapes each service's port.
  for (const w of all.filter((w) => podLabels(w)['app.kubernetes.io/component'] === 'service')) {
    const ok = rulesFor(objects, podLabels(w), 'ingress').some(
      (r) =>
        portMatches(r.ports, 'http') &&
        r.peers.some((peer) => peer.namespaceSelector?.matchLabels?.['genesis.dev/prometheus'] === 'true'),
    );
    if (!ok) problems.push(`${w.name}: Prometheus may not scrape its metrics port`);
  }
  return problems;
}

/** Pod labels of Postgres (the Bitnami chart's, deploy/k8s/README.md). */
export const POSTGRES = { 'app.kubernetes.io/name': 'postgresql' };

/** A peer a worker may reach: pods with these labels, on this port, and nothing else in the rule. */
export interface EgressPeer {
  name: string;
  labels: Record<string, string>;
  port: number;
}
const NATS_PEER: EgressPeer = { name: 'NATS', labels: NATS_SERVER, port: 4222 };
const POSTGRES_PEER: EgressPeer = { name: 'Postgres', labels: POSTGRES, port: 5432 };
/**
 * Exactly where each worker may go besides DNS: the trainer worker runs generated code, so NATS and
 * (for Optuna's study storage, ADR 0025) Postgres; the embedder NATS only.
 */
export const WORKER_EGRESS: Record<string, EgressPeer[]> = {
  'trainer-worker': [NATS_PEER, POSTGRES_PEER],
  embedder: [NATS_PEER],
};

/** The worker reaches exactly its WORKER_EGRESS peers, and DNS. */
export function checkWorkerEgress(objects: K8sObject[], worker = 'trainer-worker'): string[] {
  const w = workloads(objects).find((x) => x.name === worker);
  if (!w) return [`no ${worker} workload`];
  const allowed = WORKER_EGRESS[worker] ?? [NATS_PEER];
  const names = allowed.map((a) => a.name).join(' and ');
  const problems: string[] = [];
  const reached = new Set<string>();
  for (const r of rulesFor(objects, podLabels(w), 'egress')) {
    const dnsOnly = r.ports.length > 0 && r.ports.every((p) => p.port === 53);
    const peer = allowed.find(
      (a) =>
        r.ports.length > 0 &&
        r.ports.every((p) => p.port === a.port) &&
        r.peers.length > 0 &&
        r.peers.every((p) => !p.namespaceSelector && !p.ipBlock && selects(p.podSelector, a.labels)),
    );
    if (peer) reached.add(peer.name);
    if (!dnsOnly && !peer)
      problems.push(
        `NetworkPolicy/${r.policy}: lets ${worker} reach more than ${names} and DNS (${JSON.stringify(r)})`,
      );
  }
  for (const a of allowed) if (!reached.has(a.name)) problems.push(`${worker} cannot reach ${a.name}`);
  return problems;
}

/** The Secret with the trainer worker's study storage URL (its own Postgres role, ADR 0025). */
export const STUDY_STORAGE = { name: 'genesis-study-storage', key: 'url' };

/**
 * The trainer worker reads Optuna's study storage URL from a file (GENESIS_STUDY_STORAGE_FILE)
 * mounted from genesis-study-storage: the URL holds a password, and the worker runs generated code,
 * so no database URL may be in its environment, whether as a value or from any Secret.
 */
export function checkStudyStorage(objects: K8sObject[]): string[] {
  const worker = workloads(objects).find((w) => w.name === 'trainer-worker');
  if (!worker) return ['trainer-worker: no Deployment'];
  const problems: string[] = [];
  for (const c of worker.template.spec.containers) {
    const where = `trainer-worker/${c.name}`;
    const file = (c.env ?? []).find((e) => e.name === 'GENESIS_STUDY_STORAGE_FILE');
    const ref = file?.value ? secretFileRef(worker.template.spec, c, file.value) : undefined;
    if (!file) problems.push(`${where}: no GENESIS_STUDY_STORAGE_FILE (studies would stay in the pod)`);
    else if (ref?.name !== STUDY_STORAGE.name || ref.key !== STUDY_STORAGE.key)
      problems.push(
        `${where}: GENESIS_STUDY_STORAGE_FILE is not a file from ${STUDY_STORAGE.name}/${STUDY_STORAGE.key}`,
      );
    for (const e of c.env ?? []) {
      if (/\b(postgres(ql)?|sqlite)(\+\w+)?:\/\//i.test(e.value ?? ''))
        problems.push(`${where}: a database URL in the environment (${e.name})`);
      if (e.valueFrom?.secretKeyRef?.name === STUDY_STORAGE.name)
        problems.push(`${where}: the study storage URL in the environment (${e.name})`);
    }
  }
  return problems;
}

// --- references -------------------------------------------------------------------------------

/** Every ConfigMap, Service target and selector points at something in the same render. */
export function checkReferences(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const all = workloads(objects);
  for (const w of all) {
    for (const name of configMapRefs(w.template.spec)) {
      if (!find(objects, 'ConfigMap', name))
        problems.push(`${w.name}: ConfigMap ${name} is not in the manifests`);
    }
  }
  for (const s of ofKind<IService>(objects, 'Service')) {
    const targets = all.filter((w) => selects({ matchLabels: s.spec?.selector }, podLabels(w)));
    if (targets.length === 0) problems.push(`${id(s)}: selects no pod`);
    for (const port of s.spec?.ports ?? []) {
      for (const t of targets) {
        const ok = t.template.spec.containers.some((c) =>
          (c.ports ?? []).some((p) => p.name === port.targetPort || p.containerPort === port.targetPort),
        );
        if (!ok) problems.push(`${id(s)}: targetPort ${port.targetPort} is not a port of ${t.name}`);
      }
    }
  }
  for (const pdb of ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget')) {
    if (!all.some((w) => selects(pdb.spec?.selector, podLabels(w))))
      problems.push(`${id(pdb)}: selects no pod`);
  }
  for (const so of ofKind(objects, 'ScaledObject')) {
    const target = (so.spec as { scaleTargetRef?: { name?: string; kind?: string } }).scaleTargetRef;
    if (!find(objects, target?.kind ?? 'Deployment', target?.name ?? ''))
      problems.push(`${id(so)}: no target ${target?.name}`);
  }
  return problems;
}

/** The Ingress sends only the API and its docs to the gateway Service, which selects the gateway. */
export function checkIngress(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const ingresses = ofKind<IIngress>(objects, 'Ingress');
  if (ingresses.length === 0) problems.push('no Ingress');
  const gatewayPods = workloads(objects).find((w) => w.name === 'gateway');
  for (const ing of ingresses) {
    if (ing.spec?.defaultBackend) problems.push(`${id(ing)}: has a default backend`);
    for (const rule of ing.spec?.rules ?? []) {
      for (const path of rule.http?.paths ?? []) {
        const backend = path.backend.service;
        const svc = backend
          ? (find(objects, 'Service', backend.name) as (K8sObject & IService) | undefined)
          : undefined;
        if (!svc) {
          problems.push(`${id(ing)}: ${path.path} goes to a Service that is not in the manifests`);
          continue;
        }
        if (!gatewayPods || !selects({ matchLabels: svc.spec?.selector }, podLabels(gatewayPods)))
          problems.push(`${id(ing)}: ${path.path} goes to ${id(svc)}, which does not select the gateway`);
        const port = (svc.spec?.ports ?? []).find(
          (p) =>
            (backend!.port?.name !== undefined && p.name === backend!.port.name) ||
            p.port === backend!.port?.number,
        );
        if (!port) problems.push(`${id(ing)}: ${path.path} names a port that ${id(svc)} does not have`);
        if (!/^\/(api|docs)(\/|$)/.test(path.path ?? '/'))
          problems.push(`${id(ing)}: routes ${path.path ?? '/'} (only /api and /docs are public)`);
      }
    }
  }
  return problems;
}

/** Each pod connects as its own NATS user, with its password from genesis-nats-credentials. */
export function checkNatsCredentials(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const env = (c: IContainer, name: string) => (c.env ?? []).find((e) => e.name === name);
  for (const w of workloads(objects)) {
    for (const c of w.template.spec.containers) {
      const user = env(c, 'NATS_USER');
      const password = env(c, 'NATS_PASSWORD');
      const file = env(c, 'NATS_PASSWORD_FILE');
      if (!user && !password && !file) {
        if (w.kind === 'Deployment') problems.push(`${w.name}/${c.name}: no NATS_USER / NATS_PASSWORD`);
        continue;
      }
      const ref = file
        ? secretFileRef(w.template.spec, c, file.value ?? '')
        : password?.valueFrom?.secretKeyRef;
      if (!user?.value || !NATS_USERS.includes(user.value))
        problems.push(`${w.name}/${c.name}: NATS_USER ${user?.value} is not a Genesis NATS user`);
      if (w.kind === 'Deployment' && user?.value !== w.name)
        problems.push(`${w.name}/${c.name}: connects as ${user?.value}`);
      if (ref?.name !== NATS_CREDENTIALS || ref.key !== `${user?.value}-password`)
        problems.push(
          `${w.name}/${c.name}: NATS_PASSWORD is not ${NATS_CREDENTIALS}/${user?.value}-password`,
        );
    }
  }
  return problems;
}

/** The Secret key that a file path in a container comes from: its volume's secret and item. */
function secretFileRef(
  pod: IPodSpec,
  c: IContainer,
  path: string,
): { name?: string; key?: string } | undefined {
  const mount = (c.volumeMounts ?? []).find((m) => path.startsWith(`${m.mountPath}/`));
  const secret = (pod.volumes ?? []).find((v) => v.name === mount?.name)?.secret;
  const item = secret?.items?.find((i) => `${mount!.mountPath}/${i.path}` === path);
  return item ? { name: secret!.secretName, key: item.key } : undefined;
}

/**
 * The worker runs generated code (docs/adr/0011-sandbox.md): no secret in its environment, a
 * sandbox mode that contains, and the seccomp profile that lets bubblewrap make its namespaces.
 */
export function checkWorkerSandbox(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const worker = workloads(objects).find((w) => w.name === 'trainer-worker');
  if (!worker) return ['trainer-worker: no Deployment'];
  for (const c of worker.template.spec.containers) {
    const where = `trainer-worker/${c.name}`;
    for (const e of c.env ?? [])
      if (e.valueFrom?.secretKeyRef) problems.push(`${where}: secret ${e.name} in the environment`);
    if ((c.envFrom ?? []).some((e) => e.secretRef)) problems.push(`${where}: a Secret as environment`);
    const mode = (c.env ?? []).find((e) => e.name === 'GENESIS_SANDBOX_MODE')?.value;
    if (mode !== 'bwrap' && mode !== 'auto' && mode !== undefined)
      problems.push(`${where}: GENESIS_SANDBOX_MODE=${mode} does not contain the code`);
    const seccomp = c.securityContext?.seccompProfile ?? worker.template.spec.securityContext?.seccompProfile;
    if (seccomp?.type !== 'Localhost' || seccomp.localhostProfile !== 'genesis/bwrap.json')
      problems.push(`${where}: not on the genesis/bwrap.json seccomp profile (bwrap cannot start)`);
  }
  return problems;
}

/**
 * `kubectl apply -k <overlay> -l genesis.dev/phase=setup` must be enough to run the setup Jobs:
 * the namespace, the Jobs, and every ServiceAccount, ConfigMap and NetworkPolicy they need.
 */
export function checkSetupPhase(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const inSetup = (o: K8sObject | undefined) => o?.metadata.labels?.['genesis.dev/phase'] === 'setup';
  for (const o of objects) {
    if (['Namespace', 'Job', 'NetworkPolicy'].includes(o.kind) && !inSetup(o))
      problems.push(`${id(o)}: not in the setup phase`);
  }
  for (const w of workloads(objects).filter((w) => w.kind === 'Job')) {
    const spec: IPodSpec = w.template.spec;
    if (!inSetup(find(objects, 'ServiceAccount', spec.serviceAccountName ?? '')))
      problems.push(`Job/${w.name}: ServiceAccount ${spec.serviceAccountName} is not in the setup phase`);
    for (const cm of configMapRefs(spec)) {
      if (!inSetup(find(objects, 'ConfigMap', cm)))
        problems.push(`Job/${w.name}: ConfigMap ${cm} is not in the setup phase`);
    }
  }
  return problems;
}

// --- the vector index (docs/adr/0018-semantic-memory.md) ----------------------------------------

/** Pod labels of Weaviate (deploy/k8s/base/weaviate.yaml). */
export const WEAVIATE = { 'app.kubernetes.io/name': 'weaviate' };
/** The workloads that read or write vectors: the learner indexes, the gateway searches and rebuilds. */
export const VECTOR_INDEX_CLIENTS = ['learner', 'gateway'];
const WEAVIATE_PORTS = [8080, 50051];

const envValue = (c: IContainer, name: string) => (c.env ?? []).find((e) => e.name === name);

/** Does some ingress rule of the pods labelled `target` admit pods with `labels` on `port`? */
export function ingressAdmits(
  objects: K8sObject[],
  target: Record<string, string>,
  port: number,
  labels: Record<string, string>,
) {
  return rulesFor(objects, target, 'ingress').some(
    (r) =>
      portMatches(r.ports, port) &&
      r.peers.some((p) => !p.namespaceSelector && !p.ipBlock && selects(p.podSelector, labels)),
  );
}

/**
 * Weaviate runs as a StatefulSet on a volume, with API-key authentication only (the key from a
 * Secret); the learner and the gateway reach it, every other pod is kept out in both directions;
 * those two are configured for it (genesis-config) and get the same key.
 */
export function checkVectorIndex(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const weaviate = workloads(objects).find((w) => w.name === 'weaviate');
  if (!weaviate || weaviate.kind !== 'StatefulSet') return ['weaviate: no StatefulSet'];
  const sts = weaviate.owner.spec as {
    volumeClaimTemplates?: Array<{ metadata?: { name?: string } }>;
  };
  const claims = new Set((sts.volumeClaimTemplates ?? []).map((t) => t.metadata?.name));
  const c = weaviate.template.spec.containers[0]!;
  const dataPath = envValue(c, 'PERSISTENCE_DATA_PATH')?.value;
  const dataMount = (c.volumeMounts ?? []).find((m) => m.mountPath === dataPath);
  if (!dataMount || !claims.has(dataMount.name))
    problems.push(`weaviate: PERSISTENCE_DATA_PATH ${dataPath} is not on a volumeClaimTemplate`);
  if (envValue(c, 'AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED')?.value !== 'false')
    problems.push('weaviate: anonymous access is not off');
  if (envValue(c, 'AUTHENTICATION_APIKEY_ENABLED')?.value !== 'true')
    problems.push('weaviate: API-key authentication is not on');
  const keyRef = envValue(c, 'AUTHENTICATION_APIKEY_ALLOWED_KEYS')?.valueFrom?.secretKeyRef;
  if (!keyRef) problems.push('weaviate: the API key does not come from a Secret');

  const config = ofKind<{ data?: Record<string, string> }>(objects, 'ConfigMap').find((m) =>
    m.metadata.name.startsWith('genesis-config'),
  );
  if (config?.data?.['GENESIS_VECTOR_STORE'] !== 'weaviate')
    problems.push('genesis-config: GENESIS_VECTOR_STORE is not weaviate');
  const url = config?.data?.['GENESIS_WEAVIATE_URL'] ?? '';
  const service = ofKind<IService>(objects, 'Service').find(
    (s) =>
      url.startsWith(`http://${s.metadata.name}:`) && selects({ matchLabels: s.spec?.selector }, WEAVIATE),
  );
  if (!service)
    problems.push(`genesis-config: GENESIS_WEAVIATE_URL ${url || '(unset)'} is not a Weaviate Service`);

  for (const w of workloads(objects)) {
    if (w.name === 'weaviate') continue;
    const labels = podLabels(w);
    const client = VECTOR_INDEX_CLIENTS.includes(w.name);
    for (const port of WEAVIATE_PORTS) {
      const out = egressAllows(objects, labels, port, WEAVIATE);
      const inn = ingressAdmits(objects, WEAVIATE, port, labels);
      if (client && !(out && inn)) problems.push(`${w.name} cannot reach Weaviate on ${port}`);
      if (!client && (out || inn)) problems.push(`${w.name} may reach Weaviate on ${port}`);
    }
    if (client) {
      for (const ct of w.template.spec.containers) {
        const ref = envValue(ct, 'GENESIS_WEAVIATE_API_KEY')?.valueFrom?.secretKeyRef;
        if (!ref || ref.name !== keyRef?.name || ref.key !== keyRef?.key)
          problems.push(`${w.name}/${ct.name}: GENESIS_WEAVIATE_API_KEY is not Weaviate's key`);
      }
    }
  }
  return problems;
}

// --- the NATS chart's values (deploy/k8s/nats/values.yaml + deploy/nats/helm-values.yaml) ------

type Values = Record<string, unknown>;
const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's merge of values files: maps merge key by key, anything else the later file replaces. */
export function mergeValues(...files: Values[]): Values {
  const merge = (a: Values, b: Values): Values => {
    const out: Values = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = isMap(out[k]) && isMap(v) ? merge(out[k], v) : v;
    return out;
  };
  return files.reduce((acc, f) => merge(acc, f), {});
}

/**
 * The chart, given both values files in the README's order, includes auth.conf, and hands
 * nats-server every NATS_<USER>_PASSWORD that auth.conf reads from the key `<user>-password` of
 * genesis-nats-credentials — the key the Genesis pods read their own password from — and no
 * password variable that auth.conf does not read (a second naming would be a second Secret).
 */
export function checkNatsHelmValues(base: Values, generated: Values): string[] {
  const problems: string[] = [];
  const merged = mergeValues(base, generated) as {
    config?: { merge?: Record<string, unknown> };
    configMap?: { merge?: { data?: Record<string, string> } };
    container?: { env?: Record<string, { valueFrom?: { secretKeyRef?: { name?: string; key?: string } } }> };
  };
  if (merged.config?.merge?.['$include'] !== 'auth.conf')
    problems.push('config.merge does not include auth.conf');
  const authConf = merged.configMap?.merge?.data?.['auth.conf'] ?? '';
  if (!authConf) problems.push('no auth.conf in configMap.merge.data');
  const read = new Set([...authConf.matchAll(/password:\s*\$(\w+)/g)].map((m) => m[1]!));
  const env = merged.container?.env ?? {};
  for (const user of NATS_USERS) {
    const variable = `NATS_${user.toUpperCase().replace(/-/g, '_')}_PASSWORD`;
    if (!read.has(variable)) problems.push(`auth.conf does not read ${variable}`);
    const ref = env[variable]?.valueFrom?.secretKeyRef;
    if (ref?.name !== NATS_CREDENTIALS || ref.key !== `${user}-password`)
      problems.push(`container.env.${variable} is not ${NATS_CREDENTIALS}/${user}-password`);
  }
  for (const [name, e] of Object.entries(env))
    if (e?.valueFrom?.secretKeyRef && !read.has(name))
      problems.push(`container.env.${name}: a password variable that auth.conf does not read`);
  return problems;
}
