import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DEFAULT_MODEL_ID, SUBJECTS, makeEnvelope, type LearningRescanRequestedV1 } from '@genesis/contracts';
import { enqueueEvent } from '@genesis/persistence';

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
