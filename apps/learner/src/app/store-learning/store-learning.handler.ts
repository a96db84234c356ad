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
import { learningContentHash, quarantineReason, redactLearningFields } from '../clean-learning';

const stored = counter('genesis_learnings_stored_total', 'Learnings stored by outcome', [
  'model_id',
  'status',
]);
const redacted = counter('genesis_learnings_redactions_total', 'Secrets redacted from learnings', [
  'model_id',
]);

export type StoreOutcome = 'accepted' | 'duplicate' | 'quarantined' | 'already-stored';

/**
 * learning.captured → cleaned, deduplicated row + learning.stored / learning.rejected, written in
 * one transaction (the event goes through the outbox), so a crash anywhere loses and duplicates
 * nothing. Idempotent by learning id: a redelivered message finds its row and does nothing.
 */
@Injectable()
export class StoreLearningHandler {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async handle(event: EventEnvelope<LearningCapturedV1>): Promise<StoreOutcome> {
    const d = event.data;
    const seen = await this.dataSource.query(`SELECT 1 FROM learnings WHERE id = $1`, [d.learning_id]);
    if (seen.length > 0) return 'already-stored';

    const cleaned = await redactLearningFields({
      context: d.context,
      model_output: d.model_output,
      correction: d.correction,
    });
    const quarantine = quarantineReason(cleaned);
    const fields = cleaned.fields;
    const row = {
      id: d.learning_id,
      model_id: d.model_id,
      kind: d.kind,
      source: d.source,
      language: d.language?.toLowerCase() ?? null,
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

    try {
      const outcome = await this.dataSource.transaction(async (m) => {
        if (quarantine) {
          // What could not be cleaned is not kept: only the metadata and the reason.
          await insert(m, {
            ...row,
            status: 'quarantined',
            quarantine_reason: `${quarantine.code}: ${quarantine.message}`,
          });
          await this.reject(m, event, { status: 'quarantined', reason: quarantine });
          return 'quarantined' as const;
        }
        const inserted = await insert(
          m,
          {
            ...row,
            status: 'accepted',
            context: fields['context'],
            model_output: fields['model_output'],
            correction: fields['correction'],
          },
          `ON CONFLICT (model_id, content_hash) WHERE status = 'accepted' DO NOTHING`,
        );
        if (inserted) {
          const data: LearningStoredV1 = {
            learning_id: row.id,
            model_id: row.model_id,
            kind: d.kind,
            source: d.source,
            ...(row.language ? { language: row.language } : {}),
            content_hash: row.content_hash,
            redactions: row.redaction_count,
            stored_at: new Date().toISOString(),
          };
          await enqueueEvent(
            m,
            SUBJECTS.learningStored,
            followUp(event, SUBJECTS.learningStored, data, { source: 'learner' }),
          );
          return 'accepted' as const;
        }
        const [original] = await m.query(
          `SELECT id FROM learnings WHERE model_id = $1 AND content_hash = $2 AND status = 'accepted'`,
          [row.model_id, row.content_hash],
        );
        await insert(m, { ...row, status: 'duplicate', duplicate_of: original.id });
        await this.reject(m, event, {
          status: 'duplicate',
          duplicate_of: original.id,
          reason: {
            code: 'DUPLICATE_CONTENT',
            message: `same normalised content as learning ${original.id}`,
          },
        });
        return 'duplicate' as const;
      });
      stored.inc({ model_id: row.model_id, status: outcome });
      if (row.redaction_count > 0) redacted.inc({ model_id: row.model_id }, row.redaction_count);
      return outcome;
    } catch (err) {
      // A concurrent delivery of the same message won the race: it is stored, which is all we want.
      if (isUniqueViolation(err, 'learnings_pkey')) return 'already-stored';
      throw err;
    }
  }

  private async reject(
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
