/**
 * Rendering deploy/k8s with the pinned kustomize (tools/infra/ensure-kustomize.sh) and the few
 * Kubernetes semantics the manifest checks need: pod templates, label selectors, references.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { IContainer, IPodSpec, IPodTemplateSpec, IConfigMap } from 'kubernetes-models/v1';
import type { IDeploymentSpec } from 'kubernetes-models/apps/v1';

export type IObjectMeta = NonNullable<IConfigMap['metadata']>;
export type ILabelSelector = IDeploymentSpec['selector'];

export const REPO = join(__dirname, '..', '..', '..', '..', '..');

/** Any rendered object; checks narrow it by kind. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: IObjectMeta & { name: string };
  spec?: Record<string, unknown>;
  [field: string]: unknown;
}

/** A pod template and what owns it (Deployment, StatefulSet or Job). */
export interface Workload {
  kind: 'Deployment' | 'StatefulSet' | 'Job';
  name: string;
  owner: K8sObject;
  template: IPodTemplateSpec & { spec: IPodSpec };
}

let kustomizePath: string | undefined;

/** The pinned kustomize: $GENESIS_KUSTOMIZE (set by tools/dev/test.sh), else the ensure script. */
export function kustomize(): string {
  if (kustomizePath === undefined) {
    kustomizePath = execFileSync(join(REPO, 'tools', 'infra', 'ensure-kustomize.sh'), {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
      .trim()
      .split('\n')
      .pop();
  }
  return kustomizePath!;
}

/** `kustomize build <dir>` (relative to the repository root), parsed. */
export function render(dir: string): K8sObject[] {
  const out = execFileSync(kustomize(), ['build', join(REPO, dir)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseAllDocuments(out).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`kustomize output of ${dir}: ${doc.errors[0]!.message}`);
    return doc.toJS() as K8sObject;
  });
}

export function ofKind<T = K8sObject>(objects: K8sObject[], kind: string): (K8sObject & T)[] {
  return objects.filter((o) => o.kind === kind) as (K8sObject & T)[];
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

export function workloads(objects: K8sObject[]): Workload[] {
  return objects
    .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet' || o.kind === 'Job')
    .map((o) => ({
      kind: o.kind as Workload['kind'],
      name: o.metadata.name,
      owner: o,
      template: (o.spec as { template: Workload['template'] }).template,
    }));
}

export function containersOf(spec: IPodSpec): IContainer[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

/** Does a label selector (matchLabels + matchExpressions) select these labels? */
export function selects(selector: ILabelSelector | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    const ok =
      e.operator === 'In'
        ? inValues
        : e.operator === 'NotIn'
          ? !inValues
          : e.operator === 'Exists'
            ? has
            : e.operator === 'DoesNotExist'
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

/** Is this selector empty (selects every pod)? */
export function isEmptySelector(selector: ILabelSelector | undefined): boolean {
  return (
    !!selector &&
    Object.keys(selector.matchLabels ?? {}).length === 0 &&
    (selector.matchExpressions ?? []).length === 0
  );
}

/** Names of Secrets a pod spec refers to, with the keys it reads from each. */
export function secretRefs(spec: IPodSpec): Array<{ name: string; key?: string }> {
  const refs: Array<{ name: string; key?: string }> = [];
  for (const c of containersOf(spec)) {
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref?.name) refs.push({ name: ref.name, key: ref.key });
    }
    for (const e of c.envFrom ?? []) if (e.secretRef?.name) refs.push({ name: e.secretRef.name });
  }
  for (const v of spec.volumes ?? []) if (v.secret?.secretName) refs.push({ name: v.secret.secretName });
  for (const s of spec.imagePullSecrets ?? []) if (s.name) refs.push({ name: s.name });
  return refs;
}

/** Names of ConfigMaps a pod spec refers to. */
export function configMapRefs(spec: IPodSpec): string[] {
  const refs: string[] = [];
  for (const c of containersOf(spec)) {
    for (const e of c.env ?? [])
      if (e.valueFrom?.configMapKeyRef?.name) refs.push(e.valueFrom.configMapKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.configMapRef?.name) refs.push(e.configMapRef.name);
  }
  for (const v of spec.volumes ?? []) if (v.configMap?.name) refs.push(v.configMap.name);
  return refs;
}

/** A structured copy, for self-tests that break one object on purpose. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}
