/**
 * Offline validation of Kubernetes objects against the API's OpenAPI schemas, as compiled into
 * `kubernetes-models` (core API) and `@kubernetes-models/keda` (the ScaledObject CRD).
 *
 * Those validators check types, enums and required fields but, like the published schemas, accept
 * unknown fields (a typo such as `livenessprobe` would pass). `kubectl apply` rejects them
 * (server-side field validation is Strict by default), so we add that check: the object is handed
 * to the validator through proxies that record which properties the validator reads. A compiled
 * schema reads every property it declares on an object (present or not), and enumerates the keys
 * of maps (labels, data, resource lists), so a key on a typed object that it never read is a field
 * the schema does not know. Objects the validator neither reads nor enumerates are free-form
 * (e.g. `x-kubernetes-preserve-unknown-fields`) and are not judged.
 */
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';

interface ModelClass {
  apiVersion: string;
  kind: string;
  prototype: { validate(): void };
}

/** Every kind our manifests may contain; anything else is reported as having no schema. */
const MODELS: ModelClass[] = [
  ConfigMap,
  Namespace,
  Secret,
  Service,
  ServiceAccount,
  Deployment,
  StatefulSet,
  Job,
  Ingress,
  NetworkPolicy,
  PodDisruptionBudget,
  ScaledObject,
];
const BY_TYPE = new Map(MODELS.map((m) => [`${m.apiVersion}/${m.kind}`, m]));

interface Node {
  path: string;
  value: object;
  read: Set<string>;
  enumerated: boolean;
}

/** Problems of one object: schema violations and unknown fields, as readable strings. */
export function validateStrict(obj: { apiVersion?: unknown; kind?: unknown }): string[] {
  const model = BY_TYPE.get(`${String(obj.apiVersion)}/${String(obj.kind)}`);
  if (!model) return [`no schema for ${String(obj.apiVersion)} ${String(obj.kind)}`];

  const nodes: Node[] = [];
  const wrap = (value: unknown, path: string): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const node: Node = { path, value, read: new Set(), enumerated: false };
    nodes.push(node);
    const children = new Map<string, unknown>();
    return new Proxy(value, {
      get(target, key, receiver) {
        const child: unknown = Reflect.get(target, key, receiver);
        if (typeof key !== 'string') return child;
        node.read.add(key);
        if (child === null || typeof child !== 'object') return child;
        if (!children.has(key)) children.set(key, wrap(child, `${path}/${key}`));
        return children.get(key);
      },
      has(target, key) {
        if (typeof key === 'string') node.read.add(key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        node.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
  };

  const problems: string[] = [];
  try {
    // The models' validate() runs the compiled schema on `this`; calling it on the proxy (instead
    // of on a model instance, which would copy the data first) lets us watch the reads.
    model.prototype.validate.call(wrap(obj, ''));
  } catch (err) {
    problems.push((err as Error).message);
  }
  for (const node of nodes) {
    if (Array.isArray(node.value) || node.enumerated || node.read.size === 0) continue;
    for (const key of Object.keys(node.value)) {
      if (!node.read.has(key)) problems.push(`${node.path || '/'}: unknown field "${key}"`);
    }
  }
  return problems;
}
