import type { LearningEntity } from '@genesis/persistence';

/** The API's snake_case view of a stored learning. */
export function learningView(l: LearningEntity) {
  return {
    id: l.id,
    model_id: l.modelId,
    kind: l.kind,
    source: l.source,
    language: l.language,
    context: l.context,
    model_output: l.modelOutput,
    correction: l.correction,
    produced_by: l.producedBy,
    metadata: l.metadata,
    status: l.status,
    duplicate_of: l.duplicateOf,
    quarantine_reason: l.quarantineReason,
    redaction_count: l.redactionCount,
    content_hash: l.contentHash,
    snapshot_id: l.snapshotId,
    captured_at: l.capturedAt.toISOString(),
    stored_at: l.storedAt.toISOString(),
  };
}
