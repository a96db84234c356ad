import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import {
  SUBJECTS,
  followUp,
  formatIssues,
  toStorableJson,
  toStorableText,
  validateEvalResult,
  type EvalItemResult,
  type EvaluationCompletedV1,
  type EvaluationFailedV1,
  type EvaluationMetrics,
  type EvaluationRole,
  type EventEnvelope,
  type GateDecisionName,
  type ModelEvaluatedV1,
  type ObjectRef,
} from '@genesis/contracts';
import { transitionCycle } from '@genesis/cycles';
import { JobLifecycle } from '@genesis/jobs';
import { ArtifactStore } from '@genesis/messaging';
import { getFamily, recordEvaluation } from '@genesis/registry';
import {
  checkConstraints,
  effectiveConstraints,
  type ConstraintCheck,
  type CycleTargets,
} from '@genesis/engine';
import { counter, gauge, Log, perModelSeries } from '@genesis/observability';
import { applyConstraints } from '../decide/constraints';
import { decide, PRIMARY_METRIC } from '../decide/decision';
import { EVALUATOR_CONFIG, type EvaluatorConfig } from '../evaluator.config';
import { EVALUATION, failEvaluation, type EvaluationRow } from '../evaluation-jobs';
import { loadItemSlices } from './item-slices';

const decisions = perModelSeries(
  counter('genesis_evaluations_total', 'Evaluations decided, by decision', ['model_id', 'decision']),
  { decision: ['promote', 'reject', 'inconclusive'] satisfies GateDecisionName[] },
);
const detectable = gauge(
  'genesis_gate_minimum_detectable_effect',
  "The last evaluation's minimum detectable accuracy gain at the configured power (ADR 0015); 1 when none",
  ['model_id'],
);
const sliceRegressions = perModelSeries(
  counter(
    'genesis_gate_slice_regressions_total',
    'Evaluations in which a topic slice was significantly worse after Holm (ADR 0020), gated or not',
    ['model_id'],
  ),
);

const constraintRejections = perModelSeries(
  counter(
    'genesis_gate_constraint_rejections_total',
    'Candidates rejected for breaking a constraint (ADR 0027), by constraint',
    ['model_id', 'constraint'],
  ),
  { constraint: ['latency_target_ms', 'max_size_bytes'] },
);

interface CompletedJob {
  role: EvaluationRole;
  result: { metrics: EvaluationMetrics; results: ResultsRef };
}

type ResultsRef = ObjectRef & { sha256: string };

/**
 * Each model's mean generation time per item, in ms, where the worker reported its job's duration
 * (kept beside the job's results): the job's wall time over its items. The registry's metrics
 * history and the latency constraint use the same figure (ADR 0027).
 */
async function meanLatencies(
  m: EntityManager,
  evaluationId: string,
  metrics: Record<EvaluationRole, EvaluationMetrics>,
): Promise<Record<EvaluationRole, number | null>> {
  const durations: { role: EvaluationRole; seconds: number | null }[] = await m.query(
    `SELECT DISTINCT ON (role) role, (result->>'duration_seconds')::float8 AS seconds FROM jobs
     WHERE kind = 'evaluation' AND parent_id = $1 AND status = 'completed' ORDER BY role, attempt DESC`,
    [evaluationId],
  );
  const latencyMs = (role: EvaluationRole) => {
    const seconds = durations.find((d) => d.role === role)?.seconds;
    return seconds === null || seconds === undefined || metrics[role].items <= 0
      ? null
      : (seconds * 1000) / metrics[role].items;
  };
  return { candidate: latencyMs('candidate'), champion: latencyMs('champion') };
}

/** Both models' scores into the registry's metrics history (ADR 0022), with their latency. */
async function recordScores(
  m: EntityManager,
  evaluation: EvaluationRow,
  candidate: EvaluationMetrics,
  champion: EvaluationMetrics,
  latency: Record<EvaluationRole, number | null>,
): Promise<void> {
  await recordEvaluation(m, {
    evaluationId: evaluation.id,
    modelId: evaluation.model_id,
    suiteVersion: evaluation.suite.suite_version ?? null,
    scores: [
      {
        version: evaluation.candidate_version,
        role: 'candidate',
        metrics: candidate,
        latencyMs: latency.candidate,
      },
      {
        version: evaluation.champion_version,
        role: 'champion',
        metrics: champion,
        latencyMs: latency.champion,
      },
    ],
  });
}

/**
 * The constraints in force for this candidate (ADR 0027): its family's and its task's (carried on
 * the cycle), the stricter winning, against its measured latency and stored artifact size.
 */
async function judgeConstraints(
  m: EntityManager,
  evaluation: EvaluationRow,
  candidateLatencyMs: number | null,
): Promise<ConstraintCheck[]> {
  const family = await getFamily(m, evaluation.model_id);
  const [cycle] = (await m.query(`SELECT targets FROM improvement_cycles WHERE id = $1`, [
    evaluation.cycle_id,
  ])) as { targets: CycleTargets | null }[];
  const limits = effectiveConstraints(family?.constraints, cycle?.targets?.constraints);
  if (limits.length === 0) return [];
  const [artifact] = (await m.query(`SELECT size_bytes FROM model_artifacts WHERE version = $1`, [
    evaluation.candidate_version,
  ])) as { size_bytes: string | number | null }[];
  const size = artifact?.size_bytes;
  return checkConstraints(limits, {
    latency_target_ms: candidateLatencyMs,
    max_size_bytes: size === null || size === undefined ? null : Number(size),
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The worker's evaluation.completed / failed → once both roles have results on the same suite:
 * per-item pairing, the gate's decision, per-item rows, model.evaluated (outbox, same
 * transaction). Every step locks the evaluation row, so two results racing each other or their
 * redeliveries decide exactly once.
 */
@Injectable()
export class EvaluationResultsHandler {
  private readonly log = new Log('evaluator', 'evaluation-results');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ArtifactStore) private readonly artifacts: ArtifactStore,
    @Inject(EVALUATOR_CONFIG) private readonly config: EvaluatorConfig,
    @Inject(JobLifecycle) private readonly jobs: JobLifecycle,
  ) {}

  async completed(event: EventEnvelope<EvaluationCompletedV1>): Promise<void> {
    const r = event.data;
    let own: EvalItemResult[];
    try {
      own = await this.loadResults(r.results);
    } catch (err) {
      // The worker's output is unusable: count it as a retryable failure of that job.
      await this.failed({
        ...event,
        data: {
          job_id: r.job_id,
          evaluation_id: r.evaluation_id,
          role: r.role,
          reason: { code: 'INVALID_RESULTS', message: (err as Error).message },
          retryable: true,
        },
      });
      return;
    }
    await this.dataSource.transaction(async (m) => {
      // Locks the evaluation (the unit both roles meet on), then the job; a second result is ignored.
      const job = await this.jobs.complete(m, r.job_id, r);
      if (!job) return;
      const [evaluation] = (await m.query(`SELECT * FROM evaluations WHERE id = $1`, [
        job.parent_id,
      ])) as EvaluationRow[];
      if (!evaluation || evaluation.status !== 'running') return;
      const [other] = (await m.query(
        `SELECT role, result FROM jobs WHERE kind = $1 AND parent_id = $2 AND role <> $3 AND status = 'completed'
         ORDER BY attempt DESC LIMIT 1`,
        [EVALUATION, evaluation.id, r.role],
      )) as CompletedJob[];
      if (!other) return; // the other model is still being evaluated
      const otherResults = await this.loadResults(other.result.results);
      const byRole = {
        [r.role]: { metrics: r.metrics, results: own },
        [other.role]: { metrics: other.result.metrics, results: otherResults },
      } as Record<EvaluationRole, { metrics: EvaluationMetrics; results: EvalItemResult[] }>;
      await this.decide(m, evaluation, byRole, event);
    });
  }

  private async decide(
    m: EntityManager,
    evaluation: EvaluationRow,
    byRole: Record<EvaluationRole, { metrics: EvaluationMetrics; results: EvalItemResult[] }>,
    cause: EventEnvelope<unknown>,
  ): Promise<void> {
    const candidate = byRole.candidate;
    const champion = byRole.champion;
    const championById = new Map(champion.results.map((x) => [x.item_id, x]));
    const pairs = candidate.results.map((c) => ({
      item_id: c.item_id,
      candidate: c,
      champion: championById.get(c.item_id)!,
    }));
    if (candidate.results.length !== champion.results.length || pairs.some((p) => !p.champion)) {
      await failEvaluation(
        m,
        evaluation.id,
        'EVALUATION_MISMATCH',
        'candidate and champion results do not cover the same suite items',
      );
      return;
    }
    const slices = await loadItemSlices(
      m,
      evaluation.cycle_id,
      pairs.filter((p) => p.candidate.split === 'in_domain').map((p) => p.item_id),
    );
    const measured = decide(
      { candidate: candidate.metrics, champion: champion.metrics, pairs, slices },
      this.config.gate,
    );
    const latency = await meanLatencies(m, evaluation.id, {
      candidate: candidate.metrics,
      champion: champion.metrics,
    });
    const constraints = await judgeConstraints(m, evaluation, latency.candidate);
    const gate = { ...measured, ...applyConstraints(measured, constraints) };
    const data: ModelEvaluatedV1 = {
      cycle_id: evaluation.cycle_id,
      evaluation_id: evaluation.id,
      model_version: evaluation.candidate_version,
      champion_version: evaluation.champion_version,
      base_model: evaluation.base_model,
      decision: gate.decision,
      reason: gate.reason,
      primary_metric: PRIMARY_METRIC,
      candidate: candidate.metrics,
      champion: champion.metrics,
      delta: gate.delta,
      min_improvement: this.config.gate.minImprovement,
      test: gate.test,
      guards: gate.guards,
      items: gate.items,
      power: gate.power,
      ...(evaluation.suite.suite_version ? { suite_version: evaluation.suite.suite_version } : {}),
      non_inferiority: gate.non_inferiority,
      slices: gate.slices,
      ...(constraints.length ? { constraints } : {}),
    };
    // Model output is kept as generated: what Postgres refuses (U+0000, unpaired surrogates) is
    // stored in the reversible escaped form of the shared storable-text rule (ADR 0014), which
    // readers undo with fromStorableJson. The results artifact keeps the bytes the worker wrote.
    await m.query(
      `INSERT INTO evaluation_items (evaluation_id, item_id, split, learning_id, candidate_correct, champion_correct, candidate, champion, slice_id)
       SELECT $1, x.item_id, x.split, x.learning_id, x.candidate_correct, x.champion_correct, x.candidate, x.champion, x.slice_id
       FROM json_to_recordset($2) AS x(item_id text, split text, learning_id uuid, candidate_correct boolean,
         champion_correct boolean, candidate jsonb, champion jsonb, slice_id text)`,
      [
        evaluation.id,
        JSON.stringify(
          pairs.map((p) => ({
            item_id: toStorableText(p.item_id),
            split: p.candidate.split,
            learning_id: p.candidate.split === 'in_domain' && UUID.test(p.item_id) ? p.item_id : null,
            candidate_correct: p.candidate.correct,
            champion_correct: p.champion.correct,
            candidate: toStorableJson(p.candidate),
            champion: toStorableJson(p.champion),
            slice_id:
              p.candidate.split === 'in_domain' ? (slices.byItem.get(p.item_id)?.slice_id ?? null) : null,
          })),
        ),
      ],
    );
    await m.query(
      `UPDATE evaluations SET status = 'completed', decision = $2, reason = $3, result = $4, completed_at = now() WHERE id = $1`,
      [evaluation.id, gate.decision, gate.reason, JSON.stringify(data)],
    );
    await recordScores(m, evaluation, candidate.metrics, champion.metrics, latency);
    await transitionCycle(m, evaluation.cycle_id, 'evaluated', {
      reason: gate.reason,
      event: {
        subject: SUBJECTS.modelEvaluated,
        envelope: followUp(cause, SUBJECTS.modelEvaluated, data, {
          source: 'evaluator',
          cycleId: evaluation.cycle_id,
        }),
      },
    });
    decisions.inc({ model_id: evaluation.model_id, decision: gate.decision });
    detectable.set({ model_id: evaluation.model_id }, gate.power.mde ?? 1);
    if (gate.slices.regressed.length > 0) sliceRegressions.inc({ model_id: evaluation.model_id });
    for (const c of gate.broken)
      constraintRejections.inc({ model_id: evaluation.model_id, constraint: c.constraint });
    this.log.info('evaluation decided', {
      cycle_id: evaluation.cycle_id,
      evaluation_id: evaluation.id,
      decision: gate.decision,
      reason: gate.reason,
    });
  }

  async failed(event: EventEnvelope<EvaluationFailedV1>): Promise<void> {
    const f = event.data;
    await this.dataSource.transaction(async (m) => {
      const outcome = await this.jobs.fail(
        m,
        f.job_id,
        { code: f.reason.code, message: f.reason.message, retryable: f.retryable, phase: f.phase },
        event,
      );
      if (outcome.outcome === 'retried')
        this.log.warn('evaluation job failed; retrying', {
          evaluation_id: outcome.job.parent_id,
          role: outcome.job.role,
          attempt: outcome.job.attempt + 1,
          job_id: outcome.next,
          reason: f.reason.code,
        });
    });
  }

  /** Per-item results from the artifact store, checked against their sha256 and schema. */
  private async loadResults(ref: ResultsRef): Promise<EvalItemResult[]> {
    const bytes = await this.artifacts.get(ref.bucket, ref.key);
    if (!bytes) throw new Error(`results ${ref.key} are not in ${ref.bucket}`);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== ref.sha256)
      throw new Error(`results ${ref.key} have sha256 ${actual}, expected ${ref.sha256}`);
    return new TextDecoder()
      .decode(bytes)
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((line, i) => {
        const check = validateEvalResult(JSON.parse(line), `/${i}`);
        if (!check.ok) throw new Error(`results line ${i + 1}: ${formatIssues(check.issues)}`);
        return check.value;
      });
  }
}
