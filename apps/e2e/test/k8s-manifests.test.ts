import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { IConfigMap } from 'kubernetes-models/v1';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { trustedProxiesProblem } from '@genesis/config';
import { STREAMS, SUBJECTS, durableName } from '@genesis/contracts';
import { CONSUMER_CONFIGS } from '@genesis/messaging';
import {
  checkImages,
  checkIngress,
  checkNatsCredentials,
  checkNetworkPolicies,
  checkNoCommittedSecrets,
  checkProbes,
  checkReferences,
  checkResources,
  checkSchemas,
  checkSecurityContexts,
  checkServiceAccounts,
  checkWorkerSandbox,
  checkSetupPhase,
  checkWorkerEgress,
  checkStudyStorage,
  checkNatsHelmValues,
  POSTGRES,
  checkVectorIndex,
  egressAllows,
  ingressAdmits,
  VECTOR_INDEX_CLIENTS,
  WEAVIATE,
  probeExemptions,
  NATS_SERVER,
} from './k8s/checks';
import { validateStrict } from './k8s/strict-validate';
import { REPO, clone, find, ofKind, render, secretRefs, workloads, type K8sObject } from './k8s/manifests';

// deploy/k8s rendered with the real (pinned) kustomize and checked offline: OpenAPI schemas with
// unknown fields rejected, then the rules of docs/adr/0007. No cluster is needed.
const SERVICES = ['gateway', 'learner', 'monitor', 'trainer-bridge', 'evaluator', 'deployer'];
const OVERLAYS = ['dev', 'prod'] as const;

const rendered = new Map<string, K8sObject[]>();
function overlay(name: (typeof OVERLAYS)[number]): K8sObject[] {
  const objects = rendered.get(name);
  assert.ok(objects, `overlay ${name} was not rendered`);
  return objects;
}

describe('deploy/k8s', () => {
  before(() => {
    for (const name of OVERLAYS) rendered.set(name, render(`deploy/k8s/overlays/${name}`));
  });

  for (const name of OVERLAYS) {
    describe(`overlay ${name}`, () => {
      it('renders the six services, the worker, the embedder, Weaviate, both setup Jobs, the Ingress and NetworkPolicies', () => {
        const objects = overlay(name);
        const deployments = ofKind(objects, 'Deployment').map((d) => d.metadata.name);
        assert.deepEqual(deployments.sort(), [...SERVICES, 'trainer-worker', 'embedder'].sort());
        assert.deepEqual(
          ofKind(objects, 'StatefulSet').map((s) => s.metadata.name),
          ['weaviate'],
        );
        assert.deepEqual(
          ofKind(objects, 'Job')
            .map((j) => j.metadata.name)
            .sort(),
          ['genesis-migrate', 'genesis-provision'],
        );
        for (const kind of [
          'Namespace',
          'Ingress',
          'NetworkPolicy',
          'ConfigMap',
          'ServiceAccount',
          'Service',
        ]) {
          assert.ok(ofKind(objects, kind).length > 0, `no ${kind}`);
        }
        const namespaces = new Set(
          objects.filter((o) => o.kind !== 'Namespace').map((o) => o.metadata.namespace),
        );
        assert.deepEqual([...namespaces], [ofKind(objects, 'Namespace')[0]!.metadata.name]);
      });

      it('every object is valid against its OpenAPI schema, with no unknown field', () => {
        assert.deepEqual(checkSchemas(overlay(name)), []);
      });

      it('every long-running container has liveness and readiness probes on /health/*', () => {
        assert.deepEqual(checkProbes(overlay(name)), []);
        // the one exception, the worker without an HTTP port, is explicit and alone
        assert.deepEqual(probeExemptions(overlay(name)), ['trainer-worker']);
      });

      it('every container has CPU and memory requests and limits', () => {
        assert.deepEqual(checkResources(overlay(name)), []);
      });

      it('images are pinned to a tag other than latest', () => {
        assert.deepEqual(checkImages(overlay(name)), []);
      });

      it('no secret value is committed; every Secret it needs is documented', () => {
        const objects = overlay(name);
        assert.deepEqual(checkNoCommittedSecrets(objects), []);
        const readme = readFileSync(join(REPO, 'deploy', 'k8s', 'README.md'), 'utf8');
        for (const w of workloads(objects)) {
          for (const ref of secretRefs(w.template.spec)) {
            assert.match(
              readme,
              new RegExp(`\\b${ref.name}\\b`),
              `Secret ${ref.name} is not in deploy/k8s/README.md`,
            );
            if (ref.key)
              assert.ok(readme.includes(ref.key), `key ${ref.key} of ${ref.name} is not in the README`);
          }
        }
        for (const tls of ofKind<{ spec?: { tls?: Array<{ secretName?: string }> } }>(
          objects,
          'Ingress',
        ).flatMap((i) => i.spec?.tls ?? [])) {
          assert.ok(readme.includes(tls.secretName!), `TLS Secret ${tls.secretName} is not in the README`);
        }
      });

      it('every workload has its own ServiceAccount and no API token', () => {
        assert.deepEqual(checkServiceAccounts(overlay(name)), []);
      });

      it('pods meet the restricted Pod Security profile with read-only root filesystems', () => {
        assert.deepEqual(checkSecurityContexts(overlay(name)), []);
      });

      it('the worker gets what its sandbox needs: files for secrets, bwrap mode, the bwrap seccomp profile', () => {
        assert.deepEqual(checkWorkerSandbox(overlay(name)), []);
      });

      it('the worker keeps its studies in Postgres: the URL as a file, its egress NATS and Postgres only', () => {
        const objects = overlay(name);
        assert.deepEqual(checkStudyStorage(objects), []);
        assert.deepEqual(checkWorkerEgress(objects), []);
        const labels = workloads(objects).find((w) => w.name === 'trainer-worker')!.template.metadata!
          .labels as Record<string, string>;
        assert.ok(egressAllows(objects, labels, 5432, POSTGRES), 'the worker cannot reach Postgres');
        assert.ok(ingressAdmits(objects, POSTGRES, 5432, labels), 'Postgres does not admit the worker');
        assert.ok(!egressAllows(objects, labels, 6379, { 'app.kubernetes.io/name': 'redis' }), 'Redis');
      });

      it('NetworkPolicies deny by default, select every pod, and open only what is needed', () => {
        const objects = overlay(name);
        assert.deepEqual(checkNetworkPolicies(objects), []);
        assert.deepEqual(checkWorkerEgress(objects), []);
        assert.deepEqual(checkWorkerEgress(objects, 'embedder'), []);
        for (const svc of SERVICES) {
          const labels = workloads(objects).find((w) => w.name === svc)!.template.metadata!.labels as Record<
            string,
            string
          >;
          assert.ok(egressAllows(objects, labels, 4222, NATS_SERVER), `${svc} cannot reach NATS`);
          assert.ok(
            egressAllows(objects, labels, 5432, { 'app.kubernetes.io/name': 'postgresql' }),
            `${svc} cannot reach Postgres`,
          );
          assert.ok(
            egressAllows(objects, labels, 6379, { 'app.kubernetes.io/name': 'redis' }),
            `${svc} cannot reach Redis`,
          );
        }
      });

      it('Weaviate: a StatefulSet on a volume, API key from a Secret, reached by the learner and gateway only', () => {
        const objects = overlay(name);
        assert.deepEqual(checkVectorIndex(objects), []);
        // the rule is not vacuous: the clients really are let through both ends, others not
        const labels = (w: string) =>
          workloads(objects).find((x) => x.name === w)!.template.metadata!.labels as Record<string, string>;
        for (const client of VECTOR_INDEX_CLIENTS) {
          assert.ok(egressAllows(objects, labels(client), 8080, WEAVIATE), client);
          assert.ok(ingressAdmits(objects, WEAVIATE, 8080, labels(client)), client);
        }
        for (const other of [
          'monitor',
          'trainer-bridge',
          'evaluator',
          'deployer',
          'trainer-worker',
          'embedder',
        ]) {
          assert.ok(!egressAllows(objects, labels(other), 8080, WEAVIATE), other);
          assert.ok(!ingressAdmits(objects, WEAVIATE, 8080, labels(other)), other);
        }
        const sts = find(objects, 'StatefulSet', 'weaviate') as K8sObject & {
          spec: {
            replicas: number;
            volumeClaimTemplates: Array<{ spec: { resources: { requests: { storage: string } } } }>;
          };
        };
        assert.equal(sts.spec.replicas, 1);
        assert.match(sts.spec.volumeClaimTemplates[0]!.spec.resources.requests.storage, /^\d+Gi$/);
        assert.match(
          (sts.spec as unknown as IDeployment['spec'])!.template.spec!.containers[0]!.image!,
          /^cr\.weaviate\.io\/semitechnologies\/weaviate:1\.35\.2$/,
        );
      });

      it('the embedder runs the worker image as `python -m trainer_worker.embedding`, NATS only', () => {
        const embedder = find(overlay(name), 'Deployment', 'embedder') as K8sObject & IDeployment;
        const c = embedder.spec!.template.spec!.containers[0]!;
        const worker = find(overlay(name), 'Deployment', 'trainer-worker') as K8sObject & IDeployment;
        assert.equal(c.image, worker.spec!.template.spec!.containers[0]!.image);
        assert.deepEqual(c.command, ['python', '-m', 'trainer_worker.embedding']);
        const port = c.env!.find((e) => e.name === 'GENESIS_EMBEDDER_PORT')?.value;
        assert.equal(Number(port), c.ports![0]!.containerPort, 'the probes would miss the health port');
        assert.equal(c.env!.find((e) => e.name === 'HF_HUB_OFFLINE')?.value, '1');
      });

      it('the Ingress targets the gateway Service, API and docs only', () => {
        assert.deepEqual(checkIngress(overlay(name)), []);
      });

      it('the gateway believes X-Forwarded-For from the ingress controller (GENESIS_TRUSTED_PROXIES)', () => {
        // Without it every anonymous client shares the controller's address, and its rate-limit bucket.
        const objects = overlay(name);
        const config = ofKind<IConfigMap>(objects, 'ConfigMap').find((c) =>
          c.metadata.name.startsWith('genesis-config'),
        );
        const proxies = config?.data?.['GENESIS_TRUSTED_PROXIES'] ?? '';
        assert.notEqual(proxies.trim(), '', 'GENESIS_TRUSTED_PROXIES is set');
        assert.equal(trustedProxiesProblem(proxies), undefined);
        const gateway = find(objects, 'Deployment', 'gateway') as K8sObject & IDeployment;
        const envFrom = gateway.spec!.template.spec!.containers[0]!.envFrom ?? [];
        assert.ok(envFrom.some((e) => e.configMapRef?.name === config!.metadata.name));
      });

      it('references resolve: ConfigMaps, Service targets, PDB and KEDA targets', () => {
        assert.deepEqual(checkReferences(overlay(name)), []);
      });

      it('each pod connects to NATS as its own user (genesis-nats-credentials)', () => {
        const objects = overlay(name);
        assert.deepEqual(checkNatsCredentials(objects), []);
        const provision = workloads(objects).find((w) => w.name === 'genesis-provision')!;
        const user = provision.template.spec.containers[0]!.env!.find((e) => e.name === 'NATS_USER');
        assert.equal(user?.value, 'ops');
      });

      it('the setup phase (-l genesis.dev/phase=setup) holds everything the Jobs need', () => {
        assert.deepEqual(checkSetupPhase(overlay(name)), []);
      });
    });
  }

  describe('dev: one of each, CPU worker', () => {
    it('runs one replica of everything and the CPU worker on the tiny model', () => {
      const objects = overlay('dev');
      for (const d of [
        ...ofKind<IDeployment>(objects, 'Deployment'),
        ...ofKind<IDeployment>(objects, 'StatefulSet'),
      ])
        assert.equal(d.spec?.replicas, 1, d.metadata.name);
      const config = ofKind<IConfigMap>(objects, 'ConfigMap').find((c) =>
        c.metadata.name.startsWith('genesis-config'),
      );
      assert.equal(config?.data?.['GENESIS_BASE_MODEL'], 'tiny');
      const worker = find(objects, 'Deployment', 'trainer-worker') as K8sObject & IDeployment;
      const resources = worker.spec!.template.spec!.containers[0]!.resources!;
      assert.equal(resources.limits?.['nvidia.com/gpu'], undefined);
      assert.equal(ofKind(objects, 'ScaledObject').length, 0);
    });
  });

  describe('prod: replicas, PDBs, GPU worker, KEDA', () => {
    it('runs at least two replicas of every service, each with a PodDisruptionBudget', () => {
      const objects = overlay('prod');
      for (const svc of SERVICES) {
        const d = find(objects, 'Deployment', svc) as K8sObject & IDeployment;
        assert.ok((d.spec?.replicas ?? 1) >= 2, `${svc} has ${d.spec?.replicas} replica(s)`);
        const pdb = ofKind<{ spec?: { selector?: { matchLabels?: Record<string, string> } } }>(
          objects,
          'PodDisruptionBudget',
        ).find((p) => p.spec?.selector?.matchLabels?.['app.kubernetes.io/name'] === svc);
        assert.ok(pdb, `${svc} has no PodDisruptionBudget`);
      }
    });

    it('the worker is the GPU worker, scheduled on GPU nodes, its replicas left to KEDA', () => {
      const worker = find(overlay('prod'), 'Deployment', 'trainer-worker') as K8sObject & IDeployment;
      const pod = worker.spec!.template.spec!;
      assert.equal(pod.containers[0]!.resources?.limits?.['nvidia.com/gpu'], '1');
      assert.ok(
        Object.keys(pod.nodeSelector ?? {}).some((k) => k.startsWith('nvidia.com/')),
        'no GPU nodeSelector',
      );
      assert.ok(
        (pod.tolerations ?? []).some((t) => t.key === 'nvidia.com/gpu'),
        'no toleration for the GPU taint',
      );
      assert.equal(worker.spec!.replicas, undefined, 'a replicas field would fight the ScaledObject');
    });

    it('KEDA scales the worker from zero on the consumers provisioned in topology.ts', () => {
      const objects = overlay('prod');
      const [so, ...more] = ofKind<IScaledObject>(objects, 'ScaledObject');
      assert.ok(so && more.length === 0, 'expected one ScaledObject');
      assert.equal(so.spec.scaleTargetRef.name, 'trainer-worker');
      assert.equal(so.spec.minReplicaCount, 0);
      const provisioned = CONSUMER_CONFIGS.filter((c) => c.stream === STREAMS.jobs).map(
        (c) => c.config.durable_name,
      );
      const consumers = so.spec.triggers.map((t) => {
        assert.equal(t.type, 'nats-jetstream');
        assert.equal(t.metadata['account'], '$G');
        assert.equal(t.metadata['stream'], STREAMS.jobs);
        assert.ok(
          provisioned.includes(t.metadata['consumer']!),
          `${t.metadata['consumer']} is not provisioned`,
        );
        assert.match(t.metadata['natsServerMonitoringEndpoint'] ?? '', /:8222$/);
        return t.metadata['consumer'];
      });
      assert.ok(
        consumers.includes(durableName('trainer-worker', SUBJECTS.jobsTrain)),
        'no trigger on the training consumer',
      );
      assert.ok(consumers.includes('trainer-worker-jobs-train'));
    });
  });

  describe('observability ConfigMaps (deploy/kustomization.yaml)', () => {
    it('renders the Grafana dashboard for the sidecar and the Prometheus rules', () => {
      const objects = render('deploy');
      assert.deepEqual(checkSchemas(objects), []);
      const dashboards = find(objects, 'ConfigMap', 'genesis-grafana-dashboards') as K8sObject & IConfigMap;
      assert.equal(dashboards.metadata.labels?.['grafana_dashboard'], '1');
      const json = JSON.parse(dashboards.data!['genesis.json']!) as { panels?: unknown[]; rows?: unknown[] };
      assert.ok(Array.isArray(json.panels) || Array.isArray(json.rows), 'the dashboard has no panels');
      const rules = find(objects, 'ConfigMap', 'genesis-prometheus-rules') as K8sObject & IConfigMap;
      const groups = (parse(rules.data!['genesis.rules.yml']!) as { groups?: unknown[] }).groups;
      assert.ok(Array.isArray(groups), 'the rules file has no groups');
      for (const cm of [dashboards, rules]) {
        // 1 MiB is the API's limit; kubectl's client-side apply needs < 256 KiB (README: --server-side)
        assert.ok(
          JSON.stringify(cm.data).length < 1024 * 1024,
          `${cm.metadata.name} is too large for a ConfigMap`,
        );
      }
    });
  });

  describe('deploy/k8s/nats/values.yaml', () => {
    it('asks the NATS chart for a three-server JetStream cluster on file storage, pinned', () => {
      const values = parse(readFileSync(join(REPO, 'deploy', 'k8s', 'nats', 'values.yaml'), 'utf8')) as {
        config: {
          cluster: { enabled: boolean; replicas: number };
          jetstream: { enabled: boolean; fileStore: { enabled: boolean; pvc: { enabled: boolean } } };
        };
        container: {
          image: { tag: string };
          env: Record<string, { valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
        };
      };
      assert.equal(values.config.cluster.enabled, true);
      assert.equal(values.config.cluster.replicas, 3);
      assert.equal(values.config.jetstream.enabled, true);
      assert.equal(values.config.jetstream.fileStore.enabled, true);
      assert.equal(values.config.jetstream.fileStore.pvc.enabled, true);
      assert.match(values.container.image.tag, /^2\.(1[2-9]|[2-9]\d)\.\d+/);
    });

    // The chart gets the users and passwords from the generated deploy/nats/helm-values.yaml layered
    // after this file: the same Secret and keys as the pods, the variables auth.conf reads.
    const valuesFile = (path: string) =>
      parse(readFileSync(join(REPO, path), 'utf8')) as Record<string, unknown>;
    it('with deploy/nats/helm-values.yaml gives nats-server the pods’ passwords under auth.conf’s names', () => {
      assert.deepEqual(
        checkNatsHelmValues(
          valuesFile('deploy/k8s/nats/values.yaml'),
          valuesFile('deploy/nats/helm-values.yaml'),
        ),
        [],
      );
      const readme = readFileSync(join(REPO, 'deploy', 'k8s', 'README.md'), 'utf8');
      assert.match(
        readme,
        /helm upgrade --install nats [^\n]*(\\\n[^\n]*)*-f deploy\/k8s\/nats\/values\.yaml -f deploy\/nats\/helm-values\.yaml/,
        'the README installs the chart without the generated values',
      );
    });

    it('a second naming of the passwords, or another Secret, is caught', () => {
      const base = valuesFile('deploy/k8s/nats/values.yaml') as {
        container: { env: Record<string, unknown> };
      };
      base.container.env['GATEWAY_PASSWORD'] = {
        valueFrom: { secretKeyRef: { name: 'genesis-nats-credentials', key: 'gateway-password' } },
      };
      const generated = valuesFile('deploy/nats/helm-values.yaml') as {
        container: { env: Record<string, { valueFrom: { secretKeyRef: { name: string } } }> };
      };
      generated.container.env['NATS_OPS_PASSWORD']!.valueFrom.secretKeyRef.name = 'genesis-nats';
      assert.deepEqual(checkNatsHelmValues(base, generated), [
        'container.env.NATS_OPS_PASSWORD is not genesis-nats-credentials/ops-password',
        'container.env.GATEWAY_PASSWORD: a password variable that auth.conf does not read',
      ]);
      assert.ok(checkNatsHelmValues(base, {}).includes('config.merge does not include auth.conf'));
    });
  });

  // The checks above only mean something if they can fail: each one gets a broken copy.
  describe('the checks reject what they should', () => {
    const prod = () => clone(overlay('prod'));
    const deployment = (objects: K8sObject[], name: string) =>
      find(objects, 'Deployment', name) as K8sObject & IDeployment;
    const container = (objects: K8sObject[], name: string) =>
      deployment(objects, name).spec!.template.spec!.containers[0]!;

    it('the schema validator rejects unknown fields at any depth, and wrong types', () => {
      const objects = prod();
      (container(objects, 'learner') as unknown as Record<string, unknown>)['livenessprobe'] = {
        httpGet: { path: '/x', port: 1 },
      };
      (deployment(objects, 'monitor').spec as Record<string, unknown>)['replica'] = 2;
      (deployment(objects, 'evaluator').spec as Record<string, unknown>)['replicas'] = 'two';
      const so = ofKind<IScaledObject>(objects, 'ScaledObject')[0]!;
      (so.spec.triggers[0] as Record<string, unknown>)['metdata'] = {};
      const problems = checkSchemas(objects);
      assert.ok(
        problems.some((p) => /Deployment\/learner: .*containers\/0: unknown field "livenessprobe"/.test(p)),
        problems.join('\n'),
      );
      assert.ok(
        problems.some((p) => /Deployment\/monitor: \/spec: unknown field "replica"/.test(p)),
        problems.join('\n'),
      );
      assert.ok(
        problems.some((p) => /Deployment\/evaluator: .*replicas must be integer/.test(p)),
        problems.join('\n'),
      );
      assert.ok(
        problems.some((p) => /ScaledObject\/trainer-worker: .*triggers\/0: unknown field "metdata"/.test(p)),
        problems.join('\n'),
      );
      assert.equal(problems.length, 4, problems.join('\n'));
    });

    it('the schema validator accepts maps (labels, resource names) and refuses unknown kinds', () => {
      const cm = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'x', labels: { anything: 'goes' } },
        data: { 'a.json': '{}' },
      };
      assert.deepEqual(validateStrict(cm), []);
      assert.deepEqual(validateStrict({ apiVersion: 'example.com/v1', kind: 'Widget' }), [
        'no schema for example.com/v1 Widget',
      ]);
    });

    it('a missing probe, resource limit, pinned tag or ServiceAccount is caught', () => {
      const objects = prod();
      delete container(objects, 'gateway').readinessProbe;
      delete container(objects, 'learner').resources!.limits!['memory'];
      container(objects, 'monitor').image = 'genesis/monitor:latest';
      container(objects, 'deployer').image = 'genesis/deployer';
      deployment(objects, 'evaluator').spec!.template.spec!.serviceAccountName = undefined;
      assert.deepEqual(checkProbes(objects), ['gateway/gateway: no readinessProbe']);
      assert.deepEqual(checkResources(objects), ['learner/learner: no limits.memory']);
      assert.deepEqual(checkImages(objects).sort(), [
        'deployer/deployer: image "genesis/deployer" has no tag',
        'monitor/monitor: image "genesis/monitor:latest" uses the tag latest',
      ]);
      assert.deepEqual(checkServiceAccounts(objects), ['evaluator: no ServiceAccount of its own']);
    });

    it('a committed Secret or a credential in a ConfigMap is caught', () => {
      const objects = prod();
      objects.push({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'genesis-infra' },
        stringData: { DATABASE_URL: 'x' },
      });
      const config = ofKind<IConfigMap>(objects, 'ConfigMap')[0]!;
      config.data!['DATABASE_URL'] = 'postgres://genesis:hunter2@db:5432/genesis';
      const problems = checkNoCommittedSecrets(objects);
      assert.equal(problems.length, 2, problems.join('\n'));
      assert.match(problems[0]!, /Secret\/genesis-infra is rendered/);
      assert.match(problems[1]!, /URL with a password/);
    });

    it('a pod outside every policy, a wider worker egress or a wider ingress is caught', () => {
      const objects = prod();
      deployment(objects, 'deployer').spec!.template.metadata!.labels = {
        'app.kubernetes.io/name': 'deployer-x',
      };
      const workerPolicy = find(objects, 'NetworkPolicy', 'trainer-worker') as K8sObject & {
        spec: { egress: unknown[] };
      };
      workerPolicy.spec.egress.push({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443 }] });
      const ingressPolicy = find(objects, 'NetworkPolicy', 'gateway-from-ingress') as K8sObject & {
        spec: { podSelector: object };
      };
      ingressPolicy.spec.podSelector = { matchLabels: { 'app.kubernetes.io/component': 'service' } };
      const problems = checkNetworkPolicies(objects);
      assert.ok(
        problems.some((p) => /Deployment\/deployer: no NetworkPolicy/.test(p)),
        problems.join('\n'),
      );
      assert.ok(
        problems.some((p) => /trainer-worker: an egress rule allows the whole internet/.test(p)),
        problems.join('\n'),
      );
      assert.ok(
        problems.some((p) => /the ingress controller reaches .*learner/.test(p)),
        problems.join('\n'),
      );
      assert.equal(checkWorkerEgress(objects).length, 1);
    });

    it('a worker egress to everything, or past Postgres, or without Postgres, is caught', () => {
      const objects = prod();
      const workerPolicy = find(objects, 'NetworkPolicy', 'trainer-worker') as K8sObject & {
        spec: { egress: Array<{ to?: unknown[]; ports?: Array<{ port: number }> }> };
      };
      const postgres = workerPolicy.spec.egress.find((r) => r.ports?.[0]?.port === 5432)!;
      postgres.ports!.push({ port: 6379 });
      workerPolicy.spec.egress.push({});
      assert.deepEqual(
        checkWorkerEgress(objects).map((p) => p.replace(/ \(.*/, '')),
        [
          'NetworkPolicy/trainer-worker: lets trainer-worker reach more than NATS and Postgres and DNS',
          'NetworkPolicy/trainer-worker: lets trainer-worker reach more than NATS and Postgres and DNS',
          'trainer-worker cannot reach Postgres',
        ],
      );
      workerPolicy.spec.egress = workerPolicy.spec.egress.filter((r) => r !== postgres && r.to);
      assert.deepEqual(checkWorkerEgress(objects), ['trainer-worker cannot reach Postgres']);
      // the embedder may not follow the worker to Postgres
      const embedderPolicy = find(objects, 'NetworkPolicy', 'embedder') as typeof workerPolicy;
      embedderPolicy.spec.egress.push(postgres);
      assert.equal(checkWorkerEgress(objects, 'embedder').length, 1);
    });

    it('the study storage URL in the worker’s environment, or not from its Secret, is caught', () => {
      const objects = prod();
      const worker = container(objects, 'trainer-worker');
      worker.env = worker.env!.filter((e) => e.name !== 'GENESIS_STUDY_STORAGE_FILE');
      worker.env.push({
        name: 'GENESIS_STUDY_STORAGE',
        value: 'postgresql+psycopg2://genesis_study:hunter2@postgresql:5432/genesis',
      });
      worker.env.push({
        name: 'STUDY_URL',
        valueFrom: { secretKeyRef: { name: 'genesis-study-storage', key: 'url' } },
      });
      assert.deepEqual(checkStudyStorage(objects), [
        'trainer-worker/trainer-worker: no GENESIS_STUDY_STORAGE_FILE (studies would stay in the pod)',
        'trainer-worker/trainer-worker: a database URL in the environment (GENESIS_STUDY_STORAGE)',
        'trainer-worker/trainer-worker: the study storage URL in the environment (STUDY_URL)',
      ]);
      const fixed = prod();
      container(fixed, 'trainer-worker').env!.find((e) => e.name === 'GENESIS_STUDY_STORAGE_FILE')!.value =
        '/var/run/secrets/genesis/nats/password';
      assert.deepEqual(checkStudyStorage(fixed), [
        'trainer-worker/trainer-worker: GENESIS_STUDY_STORAGE_FILE is not a file from genesis-study-storage/url',
      ]);
    });

    it('an Ingress to another Service, or to /metrics, is caught', () => {
      const objects = prod();
      const ingress = find(objects, 'Ingress', 'gateway') as K8sObject & {
        spec: {
          rules: Array<{ http: { paths: Array<{ path: string; backend: { service: { name: string } } }> } }>;
        };
      };
      ingress.spec.rules[0]!.http.paths[0]!.backend.service.name = 'learner';
      ingress.spec.rules[0]!.http.paths[1]!.path = '/metrics';
      const problems = checkIngress(objects);
      assert.ok(
        problems.some((p) => /\/api goes to Service\/learner, which does not select the gateway/.test(p)),
        problems.join('\n'),
      );
      assert.ok(
        problems.some((p) => /routes \/metrics/.test(p)),
        problems.join('\n'),
      );
    });

    it('a secret in the worker’s environment, or the worker on RuntimeDefault seccomp, is caught', () => {
      const objects = prod();
      const worker = container(objects, 'trainer-worker');
      worker.env!.push({
        name: 'NATS_PASSWORD',
        valueFrom: { secretKeyRef: { name: 'genesis-nats-credentials', key: 'trainer-worker-password' } },
      });
      worker.env!.find((e) => e.name === 'GENESIS_SANDBOX_MODE')!.value = 'external';
      worker.securityContext!.seccompProfile = { type: 'RuntimeDefault' };
      assert.deepEqual(checkWorkerSandbox(objects), [
        'trainer-worker/trainer-worker: secret NATS_PASSWORD in the environment',
        'trainer-worker/trainer-worker: GENESIS_SANDBOX_MODE=external does not contain the code',
        'trainer-worker/trainer-worker: not on the genesis/bwrap.json seccomp profile (bwrap cannot start)',
      ]);
      worker.securityContext!.seccompProfile = {
        type: 'Localhost',
        localhostProfile: 'genesis/missing.json',
      };
      assert.ok(
        checkSecurityContexts(objects).includes(
          'trainer-worker/trainer-worker: seccomp profile genesis/missing.json is not in deploy/k8s/seccomp',
        ),
      );
    });

    it('the bwrap seccomp profile allows namespaces and mounts, and denies the rest of what RuntimeDefault does', () => {
      const profile = JSON.parse(
        readFileSync(join(REPO, 'deploy', 'k8s', 'seccomp', 'genesis', 'bwrap.json'), 'utf8'),
      ) as { defaultAction: string; syscalls: Array<{ names: string[]; action: string }> };
      const denied = new Set(
        profile.syscalls.filter((r) => r.action === 'SCMP_ACT_ERRNO').flatMap((r) => r.names),
      );
      for (const needed of [
        'clone',
        'clone3',
        'unshare',
        'mount',
        'umount2',
        'pivot_root',
        'chroot',
        'setns',
      ])
        assert.ok(!denied.has(needed), `${needed} is denied: bwrap needs it`);
      for (const risky of [
        'bpf',
        'keyctl',
        'ptrace',
        'perf_event_open',
        'kexec_load',
        'init_module',
        'finit_module',
        'io_uring_setup',
        'userfaultfd',
        'process_vm_writev',
        'open_by_handle_at',
      ])
        assert.ok(denied.has(risky), `${risky} is allowed`);
    });

    it('anonymous Weaviate, a key in plain text, a volume-less index or another pod reaching it is caught', () => {
      const objects = prod();
      const sts = find(objects, 'StatefulSet', 'weaviate') as K8sObject & IDeployment;
      const env = sts.spec!.template.spec!.containers[0]!.env!;
      env.find((e) => e.name === 'AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED')!.value = 'true';
      const key = env.find((e) => e.name === 'AUTHENTICATION_APIKEY_ALLOWED_KEYS')!;
      delete key.valueFrom;
      key.value = 'hunter2';
      (sts.spec as unknown as { volumeClaimTemplates: unknown[] }).volumeClaimTemplates = [];
      const clients = find(objects, 'NetworkPolicy', 'vector-index-clients') as K8sObject & {
        spec: { podSelector: { matchExpressions: Array<{ values: string[] }> } };
      };
      clients.spec.podSelector.matchExpressions[0]!.values.push('trainer-bridge');
      const problems = checkVectorIndex(objects);
      assert.deepEqual(
        problems.filter((p) => p.startsWith('weaviate')),
        [
          'weaviate: PERSISTENCE_DATA_PATH /var/lib/weaviate is not on a volumeClaimTemplate',
          'weaviate: anonymous access is not off',
          'weaviate: the API key does not come from a Secret',
        ],
      );
      // egress opened for the bridge is caught even though Weaviate's own ingress still refuses it
      assert.ok(problems.includes('trainer-bridge may reach Weaviate on 8080'), problems.join('\n'));
      // and the clients' keys no longer match a Secret-held key
      assert.ok(
        problems.includes("learner/learner: GENESIS_WEAVIATE_API_KEY is not Weaviate's key"),
        problems.join('\n'),
      );
    });

    it('a pod with another service’s NATS password is caught', () => {
      const objects = prod();
      const env = container(objects, 'learner').env!.find((e) => e.name === 'NATS_PASSWORD')!;
      env.valueFrom!.secretKeyRef!.key = 'gateway-password';
      assert.deepEqual(checkNatsCredentials(objects), [
        'learner/learner: NATS_PASSWORD is not genesis-nats-credentials/learner-password',
      ]);
    });
  });
});
