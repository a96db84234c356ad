/** Headers on every GENESIS_DLQ entry: why it is there and where it came from. */
export const DLQ_HEADERS = {
  code: 'Genesis-Dlq-Code',
  reason: 'Genesis-Dlq-Reason',
  subject: 'Genesis-Original-Subject',
  stream: 'Genesis-Original-Stream',
  sequence: 'Genesis-Original-Sequence',
  consumer: 'Genesis-Consumer',
  deliveries: 'Genesis-Deliveries',
  /** The original envelope's cycle_id / model_id, when it had them: whom the loss concerns (ADR 0014). */
  cycle: 'Genesis-Cycle-Id',
  model: 'Genesis-Model-Id',
} as const;

/** Published by nats-server when a consumer reaches max_deliver for a message without an ack. */
export function maxDeliveriesAdvisory(stream: string, durable: string): string {
  return `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${durable}`;
}

/** The headers of a DLQ entry, by the DLQ_HEADERS names. */
export function dlqHeaders(entry: {
  code: string;
  reason: string;
  subject: string;
  stream: string;
  sequence: number;
  consumer: string;
  deliveries: number;
  /** From envelopeRefs(original payload). */
  refs?: EnvelopeRefs;
}): Record<string, string> {
  return {
    ...(entry.refs?.cycleId ? { [DLQ_HEADERS.cycle]: entry.refs.cycleId } : {}),
    ...(entry.refs?.modelId ? { [DLQ_HEADERS.model]: entry.refs.modelId } : {}),
    [DLQ_HEADERS.code]: entry.code,
    [DLQ_HEADERS.reason]: entry.reason.slice(0, 2000),
    [DLQ_HEADERS.subject]: entry.subject,
    [DLQ_HEADERS.stream]: entry.stream,
    [DLQ_HEADERS.sequence]: String(entry.sequence),
    [DLQ_HEADERS.consumer]: entry.consumer,
    [DLQ_HEADERS.deliveries]: String(entry.deliveries),
  };
}

export interface EnvelopeRefs {
  cycleId?: string;
  modelId?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The cycle and model a dead-lettered payload belongs to, read from its envelope's top-level
 * fields when the payload is JSON at all (a schema-invalid envelope usually still is). Only
 * well-formed ids are taken, so a header never carries any of the payload's free text.
 */
export function envelopeRefs(payload: Uint8Array): EnvelopeRefs {
  let parsed: unknown;
  try {
    parsed = JSON.parse(strictUtf8.decode(payload));
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  const { cycle_id, model_id } = parsed as { cycle_id?: unknown; model_id?: unknown };
  return {
    ...(typeof cycle_id === 'string' && UUID.test(cycle_id) ? { cycleId: cycle_id.toLowerCase() } : {}),
    ...(typeof model_id === 'string' && MODEL_ID.test(model_id) ? { modelId: model_id } : {}),
  };
}
