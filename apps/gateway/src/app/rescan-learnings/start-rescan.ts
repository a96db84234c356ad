import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DEFAULT_MODEL_ID, SUBJECTS, makeEnvelope, type LearningRescanRequestedV1 } from '@genesis/contracts';
import { enqueueEvent } from '@genesis/persistence';

/**
 * A job that has not moved for this long is taken for dead (its message dead-lettered, say): a new
 * request fails it and starts another, which takes over its changes. Every live phase moves the
 * job's updated_at at least once per batch or snapshot, far more often than this.
 */
export const STALLED_AFTER = '10 minutes';

/** Fails the stalled active jobs `where` selects (a SQL condition on learning_rescans, params from $1). */
export async function failStalled(
  dataSource: DataSource,
  where: string,
  params: unknown[] = [],
): Promise<void> {
  await dataSource.query(
    `UPDATE learning_rescans SET status = 'failed', finished_at = now(), updated_at = now(),
       failure = 'stalled: no progress for ${STALLED_AFTER}; superseded by a new request'
     WHERE status IN ('pending', 'scanning', 'purging') AND updated_at < now() - interval '${STALLED_AFTER}'
       AND ${where}`,
    params,
  );
}

export interface RescanRequest {
  kind: 'rescan' | 'forget';
  modelId: string | null;
  learningIds?: string[];
  reason: string;
  requestedBy: string;
}

/**
 * The job row and learning.rescan_requested in one transaction (outbox): the learner picks the job
 * up, the trainer-bridge finishes it, and the row shows where it is. Returns the job id.
 */
export async function startRescan(dataSource: DataSource, request: RescanRequest): Promise<string> {
  const id = randomUUID();
  const data: LearningRescanRequestedV1 = {
    rescan_id: id,
    kind: request.kind,
    ...(request.learningIds ? { learning_ids: request.learningIds } : {}),
    requested_by: request.requestedBy,
  };
  await dataSource.transaction(async (m) => {
    await m.query(
      `INSERT INTO learning_rescans (id, kind, model_id, learning_ids, reason, requested_by, status)
       VALUES ($1, $2, $3, $4::uuid[], $5, $6, 'pending')`,
      [id, request.kind, request.modelId, request.learningIds ?? null, request.reason, request.requestedBy],
    );
    await enqueueEvent(
      m,
      SUBJECTS.learningRescanRequested,
      makeEnvelope(SUBJECTS.learningRescanRequested, data, {
        source: 'gateway',
        modelId: request.modelId ?? DEFAULT_MODEL_ID,
        correlationId: id,
        causationId: id,
      }),
    );
  });
  return id;
}
