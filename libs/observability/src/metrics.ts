import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per process, labelled with the service, holding the default process metrics and
 * everything the service and its libraries register.
 */
export const metricsRegistry = new Registry();
let initialised = false;

export function initMetrics(service: string): Registry {
  if (!initialised) {
    metricsRegistry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: metricsRegistry });
    initialised = true;
  }
  return metricsRegistry;
}

/** Returns the metric registered under `name`, creating it once (libraries may be loaded twice in tests). */
function once<T>(name: string, make: () => T): T {
  return (metricsRegistry.getSingleMetric(name) as T | undefined) ?? make();
}

export function counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
  return once(name, () => new Counter<L>({ name, help, labelNames, registers: [metricsRegistry] }));
}

export function gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
  return once(name, () => new Gauge<L>({ name, help, labelNames, registers: [metricsRegistry] }));
}

export function histogram<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
) {
  return once(
    name,
    () => new Histogram<L>({ name, help, labelNames, buckets, registers: [metricsRegistry] }),
  );
}
