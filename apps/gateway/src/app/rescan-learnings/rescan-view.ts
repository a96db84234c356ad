import type { DataSource } from 'typeorm';

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

export const rescanStatusUrl = (id: string) => `/api/v1/admin/learnings/rescans/${id}`;

/** A rescan or forget job as the API shows it: its phase, progress and what it changed (ADR 0017). */
export async function rescanView(dataSource: DataSource, id: string) {
  const [r] = await dataSource.query(`SELECT * FROM learning_rescans WHERE id = $1`, [id]);
  if (!r) return undefined;
  const taints: { version: string; snapshot_id: string; reason: string; learning_ids: string[] }[] =
    await dataSource.query(
      `SELECT version, snapshot_id, reason, learning_ids FROM model_version_taints WHERE rescan_id = $1
       ORDER BY version`,
      [id],
    );
  const total: number | null = r.total;
  return {
    rescan_id: r.id,
    kind: r.kind,
    model_id: r.model_id,
    learning_ids: r.learning_ids,
    status: r.status,
    reason: r.reason,
    requested_by: r.requested_by,
    rule_set: r.rule_set,
    progress: {
      total,
      scanned: r.scanned,
      // Learnings captured during a rescan are scanned too, so `scanned` may pass the count taken at its start.
      fraction: r.status === 'completed' ? 1 : total ? Math.min(1, r.scanned / total) : 0,
    },
    redacted: r.redacted,
    quarantined: r.quarantined,
    forgotten: r.forgotten,
    snapshots_rebuilt: r.snapshots_rebuilt,
    snapshots_deleted: r.snapshots_deleted,
    models_tainted: r.models_tainted,
    evaluation_outputs_cleaned: r.evaluation_outputs_cleaned,
    tainted_versions: taints,
    attempts: r.attempts,
    failure: r.failure,
    requested_at: iso(r.requested_at),
    started_at: iso(r.started_at),
    scanned_at: iso(r.scanned_at),
    finished_at: iso(r.finished_at),
    status_url: rescanStatusUrl(r.id),
  };
}
