/** The registry's documents (GET /api/v1/models, /api/v1/models/{version}, the rollback requests). */
export interface ModelVersion {
  version: string;
  model_id: string;
  status: 'candidate' | 'champion' | 'rejected' | 'retired' | string;
  base_model: string;
  parent_version: string | null;
  cycle_id: string | null;
  created_at: string;
  metrics: Record<string, unknown> | null;
  /** Trained on a snapshot a rescan or forget job changed (ADR 0017). */
  tainted?: boolean;
  taints?: { rescan_id: string; reason: string; learning_ids: string[]; tainted_at: string }[];
}

export interface ModelList {
  items: ModelVersion[];
  champion: string | null;
  next_cursor: string | null;
}

export interface AliasMove {
  alias: string;
  model_id: string;
  from_version: string | null;
  to_version: string;
  moved_at: string;
  actor: string | null;
  reason: string | null;
  kind: 'promotion' | 'rollback' | string;
}

/** The dataset snapshot a version was trained on, as GET /api/v1/models/{version} nests it. */
export interface SnapshotRef {
  id: string;
  sha256: string;
  train_records: number;
  replay_records: number;
  eval_records: number;
}

export interface ModelDetail extends ModelVersion {
  lineage: {
    snapshot: SnapshotRef | null;
    learning_ids: string[];
    parent_version: string | null;
    base_model: string;
    cycle_id: string | null;
    training_job_id: string | null;
  } | null;
  evaluation: Record<string, unknown> | null;
  alias_history: AliasMove[];
}

export interface RollbackAccepted {
  request_id: string;
  model_id: string;
  status_url: string;
}

export interface RollbackStatus {
  request_id: string;
  status: 'pending' | 'succeeded' | 'failed';
  from_version: string | null;
  to_version: string | null;
  reason: string;
  failure?: string | { code?: string; message?: string } | null;
}
