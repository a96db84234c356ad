import type { StoredMsg } from '@nats-io/jetstream';
import { SUBJECTS } from '@genesis/contracts';

/**
 * Which improvement cycle a dead letter belongs to: the cycle_id and model_id of the envelope it
 * holds (a DLQ entry's payload is the original message). Only well-formed ids are taken, so a
 * metric label never carries any of the payload's free text.
 */
export interface CycleRef {
  cycleId: string;
  modelId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function cycleOf(payload: Uint8Array): CycleRef | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(strictUtf8.decode(payload));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const { cycle_id, model_id } = parsed as { cycle_id?: unknown; model_id?: unknown };
  if (typeof cycle_id !== 'string' || !UUID.test(cycle_id)) return undefined;
  return {
    cycleId: cycle_id.toLowerCase(),
    modelId: typeof model_id === 'string' && MODEL_ID.test(model_id) ? model_id : 'unknown',
  };
}

/**
 * Subjects whose events never belong to a cycle (the capture path): their consumers' dead letters,
 * possibly many (a flood of bad learnings), are not read message by message.
 */
export const CYCLELESS_SUBJECTS: readonly string[] = [
  SUBJECTS.learningCaptured,
  SUBJECTS.learningStored,
  SUBJECTS.learningRejected,
  SUBJECTS.feedbackRecorded,
];

/** At most this many letters are read per consumer and scrape, and this many cycles exported. */
export const MAX_LETTERS_PER_CONSUMER = 200;
export const MAX_CYCLES = 20;

export interface CycleLetters {
  consumer: string;
  modelId: string;
  cycleId: string;
  count: number;
  /** Stream sequence of the newest letter: the newest cycles are the ones exported. */
  lastSeq: number;
}

/**
 * Counts the letters of each cycle among one consumer's dead letters, reading them in stream order
 * with `next_by_subj` (STREAM.MSG.GET), up to MAX_LETTERS_PER_CONSUMER.
 */
export async function lettersByCycle(
  consumer: string,
  next: (fromSeq: number) => Promise<StoredMsg | null>,
): Promise<CycleLetters[]> {
  const byCycle = new Map<string, CycleLetters>();
  let seq = 1;
  for (let read = 0; read < MAX_LETTERS_PER_CONSUMER; read++) {
    const msg = await next(seq);
    if (!msg) break;
    seq = msg.seq + 1;
    const ref = cycleOf(msg.data);
    if (!ref) continue;
    const entry = byCycle.get(ref.cycleId) ?? { consumer, ...ref, count: 0, lastSeq: 0 };
    entry.count++;
    entry.lastSeq = msg.seq;
    byCycle.set(ref.cycleId, entry);
  }
  return [...byCycle.values()];
}

/** The MAX_CYCLES cycles with the newest letters: a bounded label set however long the DLQ keeps them. */
export function newestCycles(all: CycleLetters[]): CycleLetters[] {
  return [...all].sort((a, b) => b.lastSeq - a.lastSeq).slice(0, MAX_CYCLES);
}
