/** GET /api/v1/models/{id}/performance (libs/registry's ModelPerformance). */
export interface MetricsRecord {
  version: string;
  source: 'training' | 'evaluation';
  role: 'candidate' | 'champion' | null;
  suite_version: string | null;
  evaluation_id: string | null;
  accuracy: number | null;
  latency_ms: number | null;
  size_bytes: number | null;
  resources: Record<string, unknown>;
  metrics: Record<string, unknown>;
  recorded_at: string | null;
}

export interface ModelFamily {
  id: string;
  base_model: string | null;
  artifact_kind: string;
  constraints: { max_size_bytes?: number; latency_target_ms?: number };
  thresholds: Record<string, number>;
  description: string | null;
  registered_by: string;
  created_at: string | null;
  updated_at: string | null;
}

export interface ModelPerformance {
  model_id: string;
  family: ModelFamily | null;
  champion: {
    version: string;
    accuracy: number | null;
    suite_version: string | null;
    latency_ms: number | null;
    size_bytes: number | null;
    resources: Record<string, unknown>;
    evaluated_at: string | null;
    within_constraints: { latency: boolean | null; size: boolean | null };
  } | null;
  history: MetricsRecord[];
}
