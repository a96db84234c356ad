import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from './events';

export interface EnvelopeOptions {
  source: string;
  modelId: string;
  id?: string;
  cycleId?: string;
  correlationId?: string;
  causationId?: string;
  version?: number;
  time?: Date;
}

/** Builds an envelope; correlation defaults to the event's own id (it starts a chain). */
export function makeEnvelope<T>(type: string, data: T, opts: EnvelopeOptions): EventEnvelope<T> {
  const id = opts.id ?? randomUUID();
  return {
    id,
    type,
    version: opts.version ?? 1,
    time: (opts.time ?? new Date()).toISOString(),
    source: opts.source,
    model_id: opts.modelId,
    ...(opts.cycleId ? { cycle_id: opts.cycleId } : {}),
    correlation_id: opts.correlationId ?? id,
    causation_id: opts.causationId ?? id,
    data,
  };
}

/** An envelope caused by `cause`: same correlation and cycle, causation = cause.id. */
export function followUp<T>(
  cause: EventEnvelope<unknown>,
  type: string,
  data: T,
  opts: Omit<EnvelopeOptions, 'correlationId' | 'causationId' | 'modelId'> & { modelId?: string },
): EventEnvelope<T> {
  return makeEnvelope(type, data, {
    ...opts,
    modelId: opts.modelId ?? cause.model_id,
    cycleId: opts.cycleId ?? cause.cycle_id,
    correlationId: cause.correlation_id,
    causationId: cause.id,
  });
}
