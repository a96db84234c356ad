import { randomUUID } from 'node:crypto';
import { SUBJECTS, makeEnvelope, type LearningRescanRequestedV1 } from '@genesis/contracts';
import type { EventPublisher } from '@genesis/messaging';
import type { TestDatabase } from './database';
import { waitFor } from './wait';

/**
 * A rescan or forget job (ADR 0017) as the gateway starts one — the job row, then
 * learning.rescan_requested — for tests that run the learner without the gateway. Resolves with
 * the job id once the learner has done its part (the job is past `scanning`).
 */
export async function runRescanJob(
  db: TestDatabase,
  publisher: EventPublisher,
  job: { kind: 'rescan' | 'forget'; learningIds?: string[]; timeoutMs?: number },
): Promise<string> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO learning_rescans (id, kind, model_id, learning_ids, reason, requested_by, status)
     VALUES ($1, $2, NULL, $3::uuid[], 'test', 'test', 'pending')`,
    [id, job.kind, job.learningIds ?? null],
  );
  const data: LearningRescanRequestedV1 = {
    rescan_id: id,
    kind: job.kind,
    ...(job.learningIds ? { learning_ids: job.learningIds } : {}),
    requested_by: 'test',
  };
  await publisher.publish(
    SUBJECTS.learningRescanRequested,
    makeEnvelope(SUBJECTS.learningRescanRequested, data, { source: 'gateway', modelId: 'genesis' }),
  );
  await waitFor(
    `the ${job.kind} job done by the learner`,
    async () => {
      const [row] = await db.query<{ status: string }>(`SELECT status FROM learning_rescans WHERE id = $1`, [
        id,
      ]);
      return row !== undefined && row.status !== 'pending' && row.status !== 'scanning';
    },
    { timeoutMs: job.timeoutMs ?? 60_000, intervalMs: 200 },
  );
  return id;
}
