import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  SUBJECTS,
  followUp,
  type EventEnvelope,
  type LearningCapturedV1,
  type LearningRejectedV1,
  type LearningStoredV1,
} from '@genesis/contracts';
import { counter } from '@genesis/observability';
import { enqueueEvent, isUniqueViolation } from '@genesis/persistence';
import {
  learningContentHash,
  quarantineReason,
  redactLearningFields,
  type QuarantineReason,
} from '../clean-learning';
import { MicroBatcher } from './micro-batcher';

const stored = counter('genesis_learnings_stored_total', 'Learnings stored by outcome', [
  'model_id',
  'status',
]);
const redacted = counter('genesis_learnings_redactions_total', 'Secrets redacted from learnings', [
  'model_id',
]);

export type StoreOutcome = 'accepted' | 'duplicate' | 'quarantined' | 'already-stored';

type Row = Partial<Record<(typeof COLUMNS)[number], unknown>> & {
  id: string;
  model_id: string;
  content_hash: string;
};

/** A cleaned learning, ready to be written. Cleaning (CPU) happens outside the transaction. */
interface Prepared {
  event: EventEnvelope<LearningCapturedV1>;
  row: Row;
  quarantine?: QuarantineReason;
}

/**
 * learning.captured → cleaned, deduplicated row + learning.stored / learning.rejected, written in
 * one transaction (the event goes through the outbox), so a crash anywhere loses and duplicates
 * nothing. Idempotent by learning id: a redelivered message finds its row and does nothing.
 * Concurrent learnings share a transaction (micro-batch); if a batch fails, each of its learnings
 * is retried alone so one bad learning cannot hold back the others.
 */
@Injectable()
export class StoreLearningHandler {
  private readonly batcher = new MicroBatcher<Prepared, StoreOutcome>((items) => this.storeBatch(items));

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async handle(event: EventEnvelope<LearningCapturedV1>): Promise<StoreOutcome> {
    const prepared = await prepare(event);
    try {
      return await this.batcher.submit(prepared);
    } catch {
      return this.storeAlone(prepared);
    }
  }

  private async storeAlone(item: Prepared): Promise<StoreOutcome> {
    try {
      return (await this.storeBatch([item]))[0]!;
    } catch (err) {
      // A concurrent delivery of the same message won the race: it is stored, which is all we want.
      if (isUniqueViolation(err, 'learnings_pkey')) return 'already-stored';
      throw err;
    }
  }

  private async storeBatch(items: Prepared[]): Promise<StoreOutcome[]> {
    const outcomes = await this.dataSource.transaction(async (m) => {
      const ids = items.map((i) => i.row.id);
      const existing: { id: string }[] = await m.query(
        `SELECT id FROM learnings WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      const seen = new Set(existing.map((r) => r.id));
      const results: StoreOutcome[] = [];
      for (const item of items) {
        if (seen.has(item.row.id)) {
          results.push('already-stored');
          continue;
        }
        seen.add(item.row.id); // the same message twice in one batch
        results.push(await this.storeOne(m, item));
      }
      return results;
    });
    items.forEach((item, i) => {
      if (outcomes[i] === 'already-stored') return;
      stored.inc({ model_id: item.row.model_id, status: outcomes[i]! });
      const redactions = Number(item.row.redaction_count ?? 0);
      if (redactions > 0) redacted.inc({ model_id: item.row.model_id }, redactions);
    });
    return outcomes;
  }

  private async storeOne(m: EntityManager, { event, row, quarantine }: Prepared): Promise<StoreOutcome> {
    if (quarantine) {
      // What could not be cleaned is not kept: only the metadata and the reason.
      await insert(m, {
        ...row,
        context: null,
        model_output: null,
        correction: null,
        status: 'quarantined',
        quarantine_reason: `${quarantine.code}: ${quarantine.message}`,
      });
      await reject(m, event, { status: 'quarantined', reason: quarantine });
      return 'quarantined';
    }
    const inserted = await insert(
      m,
      { ...row, status: 'accepted' },
      `ON CONFLICT (model_id, content_hash) WHERE status = 'accepted' DO NOTHING`,
    );
    if (inserted) {
      const data: LearningStoredV1 = {
        learning_id: row.id,
        model_id: row.model_id,
        kind: event.data.kind,
        source: event.data.source,
        ...(row.language ? { language: row.language as string } : {}),
        content_hash: row.content_hash,
        redactions: Number(row.redaction_count ?? 0),
        stored_at: new Date().toISOString(),
      };
      await enqueueEvent(
        m,
        SUBJECTS.learningStored,
        followUp(event, SUBJECTS.learningStored, data, { source: 'learner' }),
      );
      return 'accepted';
    }
    const [original] = await m.query(
      `SELECT id FROM learnings WHERE model_id = $1 AND content_hash = $2 AND status = 'accepted'`,
      [row.model_id, row.content_hash],
    );
    await insert(m, {
      ...row,
      context: null,
      model_output: null,
      correction: null,
      status: 'duplicate',
      duplicate_of: original.id,
    });
    await reject(m, event, {
      status: 'duplicate',
      duplicate_of: original.id,
      reason: { code: 'DUPLICATE_CONTENT', message: `same normalised content as learning ${original.id}` },
    });
    return 'duplicate';
  }
}

/** Redacts secrets, applies the quarantine policy and hashes the cleaned content. */
async function prepare(event: EventEnvelope<LearningCapturedV1>): Promise<Prepared> {
  const d = event.data;
  const cleaned = await redactLearningFields({
    context: d.context,
    model_output: d.model_output,
    correction: d.correction,
  });
  const fields = cleaned.fields;
  const row: Row = {
    id: d.learning_id,
    model_id: d.model_id,
    kind: d.kind,
    source: d.source,
    language: d.language?.toLowerCase() ?? null,
    context: fields['context'] ?? null,
    model_output: fields['model_output'] ?? null,
    correction: fields['correction'] ?? null,
    produced_by: d.produced_by ?? null,
    metadata: JSON.stringify(d.metadata ?? {}),
    content_hash: learningContentHash({
      model_id: d.model_id,
      kind: d.kind,
      language: d.language,
      context: fields['context'],
      model_output: fields['model_output'],
      correction: fields['correction'] ?? '',
    }),
    redaction_count: cleaned.redactions,
    event_id: event.id,
    captured_at: d.received_at,
  };
  return { event, row, quarantine: quarantineReason(cleaned) };
}

async function reject(
  m: EntityManager,
  event: EventEnvelope<LearningCapturedV1>,
  rejection: Omit<LearningRejectedV1, 'learning_id' | 'model_id'>,
): Promise<void> {
  const data: LearningRejectedV1 = {
    learning_id: event.data.learning_id,
    model_id: event.data.model_id,
    ...rejection,
  };
  await enqueueEvent(
    m,
    SUBJECTS.learningRejected,
    followUp(event, SUBJECTS.learningRejected, data, { source: 'learner' }),
  );
}

const COLUMNS = [
  'id',
  'model_id',
  'kind',
  'source',
  'language',
  'context',
  'model_output',
  'correction',
  'produced_by',
  'metadata',
  'content_hash',
  'status',
  'duplicate_of',
  'quarantine_reason',
  'redaction_count',
  'event_id',
  'captured_at',
] as const;

/** Inserts one learnings row; returns false when `onConflict` swallowed it. */
async function insert(
  m: EntityManager,
  row: Partial<Record<(typeof COLUMNS)[number], unknown>>,
  onConflict = '',
) {
  const values = COLUMNS.map((c) => row[c] ?? null);
  const placeholders = COLUMNS.map((_, i) => `$${i + 1}`).join(', ');
  const result: unknown[] = await m.query(
    `INSERT INTO learnings (${COLUMNS.join(', ')}) VALUES (${placeholders}) ${onConflict} RETURNING id`,
    values,
  );
  return result.length > 0;
}
