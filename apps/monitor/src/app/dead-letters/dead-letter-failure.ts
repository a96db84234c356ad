import { SUBJECTS, toStorableText } from '@genesis/contracts';
import { DLQ_HEADERS, envelopeRefs } from '@genesis/messaging';

/**
 * Subjects whose loss does not stop a cycle: a training.progress report is a heartbeat, the
 * training it reports on goes on and ends with its own completed/failed event.
 */
const NOT_ON_THE_CYCLE_PATH: readonly string[] = [SUBJECTS.trainingProgress];

export type DeadLetterVerdict =
  | { fail: true; cycleId: string; modelId: string | null; failure: { code: string; message: string } }
  | { fail: false; why: string };

/**
 * What a dead letter means for its cycle (ADR 0014): a message on a cycle's path that no consumer
 * could handle will never advance the cycle, so the cycle fails now, with the lost message and its
 * reason, instead of holding the model's one active slot until a phase deadline hours later.
 * The cycle id comes from the letter's headers, else from its envelope's top-level fields; never
 * from free text.
 */
export function deadLetterVerdict(
  headers: (name: string) => string | undefined,
  payload: Uint8Array,
): DeadLetterVerdict {
  const refs = envelopeRefs(payload);
  const cycleId = (headers(DLQ_HEADERS.cycle) || refs.cycleId || '').toLowerCase();
  if (!cycleId) return { fail: false, why: 'no cycle id' };
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(cycleId))
    return { fail: false, why: 'malformed cycle id' };
  const subject = headers(DLQ_HEADERS.subject) ?? 'a message';
  if (NOT_ON_THE_CYCLE_PATH.includes(subject))
    return { fail: false, why: `${subject} is not on the cycle's path` };
  const consumer = headers(DLQ_HEADERS.consumer) ?? 'a consumer';
  const code = headers(DLQ_HEADERS.code) ?? 'UNKNOWN';
  const reason = headers(DLQ_HEADERS.reason) ?? 'no reason given';
  const sequence = headers(DLQ_HEADERS.sequence);
  return {
    fail: true,
    cycleId,
    modelId: headers(DLQ_HEADERS.model) || refs.modelId || null,
    failure: {
      code: 'DEAD_LETTERED',
      message: toStorableText(
        (
          `${subject}${sequence ? ` (stream sequence ${sequence})` : ''} was dead-lettered by ${consumer}: ` +
          `${code}: ${reason}`
        ).slice(0, 1000),
      ),
    },
  };
}
