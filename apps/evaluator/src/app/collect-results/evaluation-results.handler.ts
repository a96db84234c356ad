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
import { ArtifactStore } from '@genesis/messaging';
import { recordEvaluation } from '@genesis/registry';
import { counter, gauge, Log, perModelSeries } from '@genesis/observability';
import { decide, PRIMARY_METRIC } from '../decide/decision';
import { EVALUATOR_CONFIG, type EvaluatorConfig } from '../evaluator.config';
import { modelUnderTest, queueEvaluationJob, type EvaluationRow } from '../evaluation-jobs';
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
const jobOutcomes = counter('genesis_evaluation_jobs_total', 'Evaluation jobs by role and outcome', [
  'model_id',
  'role',
  'outcome',
]);

interface JobRow {
  job_id: string;
  role: EvaluationRole;
  attempt: number;
  status: string;
  metrics: EvaluationMetrics | null;
  results: (ObjectRef & { sha256: string }) | null;
}

type ResultsRef = ObjectRef & { sha256: string };

/**
 * Both models' scores into the registry's metrics history (ADR 0022), each with the worker's mean
 * generation time per item where it reported its duration (kept beside the job's results).
 */
async function recordScores(
  m: EntityManager,
  evaluation: EvaluationRow,
  candidate: EvaluationMetrics,
  champion: EvaluationMetrics,
): Promise<void> {
  const durations: { role: EvaluationRole; seconds: number | null }[] = await m.query(
    `SELECT DISTINCT ON (role) role, (results->>'duration_seconds')::float8 AS seconds FROM evaluation_jobs
     WHERE evaluation_id = $1 AND status = 'completed' ORDER BY role, attempt DESC`,
    [evaluation.id],
  );
  const latencyMs = (role: EvaluationRole, metrics: EvaluationMetrics) => {
    const seconds = durations.find((d) => d.role === role)?.seconds;
    return seconds === null || seconds === undefined || metrics.items <= 0
      ? null
      : (seconds * 1000) / metrics.items;
  };
  await recordEvaluation(m, {
    evaluationId: evaluation.id,
    modelId: evaluation.model_id,
    suiteVersion: evaluation.suite.suite_version ?? null,
    scores: [
      {
        version: evaluation.candidate_version,
        role: 'candidate',
        metrics: candidate,
        latencyMs: latencyMs('candidate', candidate),
      },
      {
        version: evaluation.champion_version,
        role: 'champion',
        metrics: champion,
        latencyMs: latencyMs('champion', champion),
      },
    ],
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
  ) {}

  /** Locks the job's evaluation (the unit both roles meet on), then reads the job. */
  private async lock(
    m: EntityManager,
    jobId: string,
  ): Promise<{ job: JobRow; evaluation: EvaluationRow } | undefined> {
    const [ref] = await m.query(`SELECT evaluation_id FROM evaluation_jobs WHERE job_id = $1`, [jobId]);
    if (!ref) {
      this.log.warn('result for an unknown evaluation job ignored', { job_id: jobId });
      return undefined;
    }
    const [evaluation] = await m.query(`SELECT * FROM evaluations WHERE id = $1 FOR UPDATE`, [
      ref.evaluation_id,
    ]);
    const [job] = await m.query(`SELECT * FROM evaluation_jobs WHERE job_id = $1`, [jobId]);
    return { job, evaluation };
  }

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
      const locked = await this.lock(m, r.job_id);
      if (!locked || locked.job.status !== 'queued') return; // a second result of a job is ignored by design
      const { evaluation } = locked;
      await m.query(
        `UPDATE evaluation_jobs SET status = 'completed', metrics = $2, results = $3, updated_at = now() WHERE job_id = $1`,
        [
          r.job_id,
          JSON.stringify(r.metrics),
          // The duration rides with the results: the metrics history's latency (ADR 0022).
          JSON.stringify(
            r.duration_seconds === undefined
              ? r.results
              : { ...r.results, duration_seconds: r.duration_seconds },
          ),
        ],
      );
      jobOutcomes.inc({ model_id: evaluation.model_id, role: r.role, outcome: 'completed' });
      if (evaluation.status !== 'running') return;
      const [other] = (await m.query(
        `SELECT * FROM evaluation_jobs WHERE evaluation_id = $1 AND role <> $2 AND status = 'completed'
         ORDER BY attempt DESC LIMIT 1`,
        [evaluation.id, r.role],
      )) as JobRow[];
      if (!other) return; // the other model is still being evaluated
      const otherResults = await this.loadResults(other.results!);
      const byRole = {
        [r.role]: { metrics: r.metrics, results: own },
        [other.role]: { metrics: other.metrics!, results: otherResults },
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
      await this.failEvaluation(
        m,
        evaluation,
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
    const gate = decide(
      { candidate: candidate.metrics, champion: champion.metrics, pairs, slices },
      this.config.gate,
    );
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
    await recordScores(m, evaluation, candidate.metrics, champion.metrics);
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
      const locked = await this.lock(m, f.job_id);
      if (!locked || locked.job.status !== 'queued') return;
      const { job, evaluation } = locked;
      await m.query(
        `UPDATE evaluation_jobs SET status = 'failed', failure = $2, updated_at = now() WHERE job_id = $1`,
        [f.job_id, `${f.reason.code}: ${f.reason.message}`],
      );
      jobOutcomes.inc({
        model_id: evaluation.model_id,
        role: job.role,
        outcome: f.retryable ? 'failed_retryable' : 'failed',
      });
      if (evaluation.status !== 'running') return;
      if (f.retryable && job.attempt < this.config.maxAttempts) {
        const version = job.role === 'candidate' ? evaluation.candidate_version : evaluation.champion_version;
        const model = await modelUnderTest(m, version, evaluation.base_model);
        const next = await queueEvaluationJob(
          m,
          this.config,
          evaluation,
          job.role,
          model,
          job.attempt + 1,
          event,
        );
        this.log.warn('evaluation job failed; retrying', {
          evaluation_id: evaluation.id,
          role: job.role,
          attempt: job.attempt + 1,
          job_id: next,
          reason: f.reason.code,
        });
        return;
      }
      const attempts = f.retryable ? ` after ${job.attempt} attempt(s)` : '';
      await this.failEvaluation(m, evaluation, f.reason.code, `${job.role}: ${f.reason.message}${attempts}`);
    });
  }

  private async failEvaluation(m: EntityManager, evaluation: EvaluationRow, code: string, message: string) {
    await m.query(
      `UPDATE evaluations SET status = 'failed', reason = $2, completed_at = now() WHERE id = $1`,
      [evaluation.id, `${code}: ${message}`],
    );
    await transitionCycle(m, evaluation.cycle_id, 'failed', {
      failure: { code, message },
      failedEventSource: 'evaluator',
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
