import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  SUBJECTS,
  followUp,
  type EventEnvelope,
  type ModelTrainedV1,
  type TrainingCompletedV1,
  type TrainingFailedV1,
  type TrainingProgressV1,
} from '@genesis/contracts';
import { transitionCycle, type CycleKind } from '@genesis/cycles';
import { counter, gauge, Log, perModelSeries } from '@genesis/observability';
import { registerCandidate } from '@genesis/registry';
import { BRIDGE_CONFIG, type BridgeConfig } from '../trainer-bridge.config';
import { type SnapshotRef } from '../training-jobs';
import { queueCycleJob } from '../architecture-jobs';
import { recordStudyFailure, recordStudyResult } from '../record-study';

const lossGauge = gauge('genesis_training_loss', 'Latest training loss reported by the worker', ['model_id']);
const tpsGauge = gauge('genesis_training_tokens_per_second', 'Latest training throughput', ['model_id']);
const outcomes = perModelSeries(
  counter('genesis_training_jobs_total', 'Training jobs by outcome', ['model_id', 'outcome']),
  { outcome: ['completed', 'failed', 'failed_retryable', 'expired'] },
);

interface JobRow {
  job_id: string;
  cycle_id: string;
  attempt: number;
  status: string;
  model_id: string;
  cycle_status: string;
  cycle_kind: CycleKind;
}

/**
 * The worker's training.progress / completed / failed → the cycle: progress is recorded on the
 * job (visible in the cycle view), completion registers a candidate version and announces
 * model.trained, failure retries a bounded number of times or fails the cycle with the reason.
 * Each step locks the job row, so redeliveries and races apply at most once.
 */
@Injectable()
export class TrainingEventsHandler {
  private readonly log = new Log('trainer-bridge', 'training-events');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
  ) {}

  private async lockJob(m: EntityManager, jobId: string): Promise<JobRow | undefined> {
    const [job] = await m.query(
      `SELECT j.job_id, j.cycle_id, j.attempt, j.status, c.model_id, c.status AS cycle_status, c.kind AS cycle_kind
       FROM training_jobs j JOIN improvement_cycles c ON c.id = j.cycle_id WHERE j.job_id = $1 FOR UPDATE OF j`,
      [jobId],
    );
    if (!job) this.log.warn('event for an unknown training job ignored', { job_id: jobId });
    return job as JobRow | undefined;
  }

  async progress(event: EventEnvelope<TrainingProgressV1>): Promise<void> {
    const p = event.data;
    const [row] = await this.dataSource.query(
      `UPDATE training_jobs SET status = 'running', progress = $2, updated_at = now()
       WHERE job_id = $1 AND status IN ('queued', 'running')
         AND (progress IS NULL OR (progress->>'step')::int <= $3)
       RETURNING cycle_id`,
      [p.job_id, JSON.stringify({ ...p, reported_at: event.time }), p.step],
    );
    if (row && p.loss !== null) lossGauge.set({ model_id: event.model_id }, p.loss);
    if (row) tpsGauge.set({ model_id: event.model_id }, p.tokens_per_second);
  }

  async completed(event: EventEnvelope<TrainingCompletedV1>): Promise<void> {
    const r = event.data;
    await this.dataSource.transaction(async (m) => {
      const job = await this.lockJob(m, r.job_id);
      if (!job || job.status === 'completed') return; // a second completion of a job is ignored by design
      await m.query(
        `UPDATE training_jobs SET status = 'completed', result = $2, updated_at = now() WHERE job_id = $1`,
        [r.job_id, JSON.stringify(r)],
      );
      // An architecture study's result is kept whatever happens to the cycle: it is the study's record.
      if (r.study) await recordStudyResult(m, job.cycle_id, r.study);
      if (job.cycle_status !== 'training') {
        this.log.warn('training finished after its cycle moved on; result kept, not promoted', {
          job_id: r.job_id,
          cycle_id: job.cycle_id,
          cycle_status: job.cycle_status,
        });
        return;
      }
      const [snapshot] = await m.query(
        `SELECT s.id, s.sha256, s.train_records, s.eval_records FROM dataset_snapshots s WHERE s.cycle_id = $1`,
        [job.cycle_id],
      );
      const version = await registerCandidate(m, {
        modelId: job.model_id,
        cycleId: job.cycle_id,
        baseModel: r.base_model,
        snapshotId: snapshot.id,
        jobId: r.job_id,
        artifact: r.artifact,
        artifactKind: 'lora-adapter',
        metrics: r.metrics,
        hyperparameters: {
          ...r.hyperparameters,
          seed: r.seed,
          package_versions: r.package_versions,
          // an architecture study's candidate names its study (ADR 0025)
          ...(r.study ? { study: { name: r.study.name, best_trial: r.study.best_trial } } : {}),
        },
        ...(r.device ? { device: r.device } : {}),
        at: new Date(event.time),
      });
      const data: ModelTrainedV1 = {
        cycle_id: job.cycle_id,
        model_version: version,
        base_model: r.base_model,
        job_id: r.job_id,
        snapshot: {
          id: snapshot.id,
          sha256: snapshot.sha256,
          train_records: snapshot.train_records,
          eval_records: snapshot.eval_records,
        },
        artifact: r.artifact,
        metrics: r.metrics,
        hyperparameters: { ...r.hyperparameters },
        seed: r.seed,
        ...(r.study ? { study: { name: r.study.name, best_trial: r.study.best_trial } } : {}),
      };
      await transitionCycle(m, job.cycle_id, 'trained', {
        patch: { model_version: version },
        reason: r.study
          ? `candidate ${version} from study ${r.study.name}, trial ${r.study.best_trial} (validation loss ${r.study.best_value.toFixed(4)}, ${r.metrics.steps} steps)`
          : `candidate ${version} trained (final loss ${r.metrics.final_loss.toFixed(4)}, ${r.metrics.steps} steps)`,
        event: {
          subject: SUBJECTS.modelTrained,
          envelope: followUp(event, SUBJECTS.modelTrained, data, {
            source: 'trainer-bridge',
            cycleId: job.cycle_id,
          }),
        },
      });
      outcomes.inc({ model_id: job.model_id, outcome: 'completed' });
    });
  }

  async failed(event: EventEnvelope<TrainingFailedV1>): Promise<void> {
    const f = event.data;
    await this.dataSource.transaction(async (m) => {
      const job = await this.lockJob(m, f.job_id);
      if (!job || job.status === 'completed' || job.status === 'failed' || job.status === 'expired') return;
      await m.query(
        `UPDATE training_jobs SET status = 'failed', failure = $2, updated_at = now() WHERE job_id = $1`,
        [f.job_id, `${f.reason.code}: ${f.reason.message}`],
      );
      outcomes.inc({ model_id: job.model_id, outcome: f.retryable ? 'failed_retryable' : 'failed' });
      await this.retryOrFail(m, job, f.retryable, f.reason, event);
    });
  }

  /** A job past its deadline counts as a retryable failure. */
  async expire(jobId: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const job = await this.lockJob(m, jobId);
      if (!job || (job.status !== 'queued' && job.status !== 'running')) return;
      await m.query(
        `UPDATE training_jobs SET status = 'expired', failure = 'DEADLINE_EXCEEDED', updated_at = now() WHERE job_id = $1`,
        [jobId],
      );
      outcomes.inc({ model_id: job.model_id, outcome: 'expired' });
      const reason = {
        code: 'TRAINING_DEADLINE_EXCEEDED',
        message: `job ${jobId} passed its ${this.config.deadlineMinutes} min deadline`,
      };
      await this.retryOrFail(m, job, true, reason);
    });
  }

  private async retryOrFail(
    m: EntityManager,
    job: JobRow,
    retryable: boolean,
    reason: { code: string; message: string },
    cause?: EventEnvelope<unknown>,
  ): Promise<void> {
    if (job.cycle_status !== 'training') return;
    if (retryable && job.attempt < this.config.maxAttempts) {
      const [snapshot] = (await m.query(
        `SELECT id, bucket, key, sha256, train_records, eval_key, eval_sha256 FROM dataset_snapshots WHERE cycle_id = $1`,
        [job.cycle_id],
      )) as Array<SnapshotRef & { eval_key: string; eval_sha256: string }>;
      const origin = cause ?? { id: job.job_id, correlation_id: job.cycle_id };
      const next = await queueCycleJob(
        m,
        this.config,
        { id: job.cycle_id, model_id: job.model_id, kind: job.cycle_kind },
        snapshot!,
        job.attempt + 1,
        origin as EventEnvelope<unknown>,
      );
      this.log.warn('training failed; retrying', {
        cycle_id: job.cycle_id,
        attempt: job.attempt + 1,
        job_id: next,
        reason: reason.code,
      });
      return;
    }
    const attempts = retryable ? ` after ${job.attempt} attempt(s)` : '';
    if (job.cycle_kind === 'architecture')
      await recordStudyFailure(m, job.cycle_id, `${reason.code}: ${reason.message}`);
    await transitionCycle(m, job.cycle_id, 'failed', {
      failure: { code: reason.code, message: `${reason.message}${attempts}` },
      failedEventSource: 'trainer-bridge',
    });
  }
}
