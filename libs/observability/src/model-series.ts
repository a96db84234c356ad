import type { Counter } from 'prom-client';

/**
 * Per-model counters whose every label set exists at 0 from the moment the process knows the model.
 *
 * A counter series that appears with its first event is invisible to rate() and increase(): they
 * need a sample before the event, and the series had none ("cycles opened: 0" while two opened).
 * So each per-model counter declares the values of its other labels, and every model the process
 * learns of (the default model at boot, every model in the database — KnownModels in
 * libs/persistence, refreshed periodically — and any model an event names) gets the whole cross
 * product at 0. Cardinality stays what the counter would reach anyway: models × declared values.
 * The first event of a model nobody knew of a moment earlier is still born at 1 (nothing can
 * precede it); every later one, and every other label set of that model, is seen.
 */
type Others = Record<string, readonly string[]>;

interface Family {
  metric: Counter<string>;
  others: Others;
}

const families: Family[] = [];
const models = new Set<string>();

/** Declares `metric` a per-model family (label `model_id` plus `others`' values); returns it. */
export function perModelSeries<L extends string>(
  metric: Counter<L>,
  others: Partial<Record<Exclude<L, 'model_id'>, readonly string[]>> = {},
): Counter<L> {
  const family = { metric: metric as unknown as Counter<string>, others: others as Others };
  if (families.some((f) => f.metric === family.metric)) return metric; // a library loaded twice
  families.push(family);
  for (const model of models) zero(family, model);
  // Every event names its model: an unknown one gets its sibling label sets at 0 before it counts.
  const inc = metric.inc.bind(metric) as (labels: unknown, value?: number) => void;
  (metric as unknown as { inc: (labels?: unknown, value?: number) => void }).inc = (labels, value) => {
    const model = typeof labels === 'object' && labels !== null ? (labels as Others)['model_id'] : undefined;
    if (typeof model === 'string') knowModels([model]);
    inc(labels, value);
  };
  return metric;
}

/** Every per-model family gets each new model's label sets at 0. Cheap for models already known. */
export function knowModels(ids: Iterable<string>): void {
  for (const id of ids) {
    if (models.has(id)) continue;
    models.add(id);
    for (const family of families) zero(family, id);
  }
}

/** The models this process has seen so far (for tests and diagnostics). */
export function knownModelIds(): string[] {
  return [...models].sort();
}

function zero(family: Family, modelId: string): void {
  for (const labels of crossProduct(family.others)) family.metric.inc({ ...labels, model_id: modelId }, 0);
}

function crossProduct(others: Others): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const [label, values] of Object.entries(others))
    out = out.flatMap((partial) => values.map((v) => ({ ...partial, [label]: v })));
  return out;
}
