import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type {
  EventEnvelope,
  JobsArchitectureV1,
  StudySummary,
  StudyTrialFinishedV1,
  TrainingCompletedV1,
} from '@genesis/contracts';
import { transitionCycle } from '@genesis/cycles';
import { JobLifecycle } from '@genesis/jobs';
import { Log } from '@genesis/observability';
import { ARCHITECTURE, parallelismOf, trialRole } from './architecture-jobs';
import { recordStudyFailure, recordStudyResult } from './record-study';
import { bestValue, trialsRunning, trialsTotal, type StudyProgress } from './study-metrics';
import { decideNextTrials } from './trial-budget';
import { BRIDGE_CONFIG, type BridgeConfig } from './trainer-bridge.config';
import { registerTrainedCandidate } from './track-training/trained-candidate';

interface StudyOfCycle {
  id: string;
  cycle_id: string;
  model_id: string;
  study_name: string;
  budget: { trials: number; worker_seconds: number; parallelism?: number };
  cycle_status: string;
}

interface Tally {
  finished: number;
  complete: number;
  pruned: number;
  failed: number;
  running: number;
  seconds: number;
}

/**
 * study.trial.finished (the worker's answer to one trial job) → the trial job completes, the study
 * row's progress and summary move on (so the API shows the study live), the next trials are queued
 * while the budget allows, and once it is spent and nothing is in flight the best complete trial's
 * adapter becomes the cycle's candidate through the same path as a training job's (model.trained
 * with the study's lineage → evaluator → the gate). Locks: the cycle (the kind's lockOwner), the job,
 * then the study row, as the give-up path does; so two trials finishing at once decide one after
 * the other. Metrics move once the transaction has committed (a rolled-back answer is redelivered).
 */
@Injectable()
export class StudyTrialsHandler {
  private readonly log = new Log('trainer-bridge', 'study-trials');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(JobLifecycle) private readonly jobs: JobLifecycle,
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
  ) {}

  async finished(event: EventEnvelope<StudyTrialFinishedV1>): Promise<void> {
    const r = event.data;
    const seen = await this.dataSource.transaction(async (m) => {
      const done = await this.jobs.complete(m, r.job_id, r);
      if (!done || done.kind !== ARCHITECTURE || !done.cycle_id) return undefined; // a second answer
      const [study] = (await m.query(
        `SELECT s.id, s.cycle_id, s.model_id, s.study_name, s.budget, c.status AS cycle_status
         FROM architecture_studies s JOIN improvement_cycles c ON c.id = s.cycle_id
         WHERE s.cycle_id = $1 FOR UPDATE OF s`,
        [done.cycle_id],
      )) as StudyOfCycle[];
      if (!study) return undefined;
      // the budget in force (ensureStudy wrote it; a row from before it did gets the defaults)
      const d = this.config.study;
      const stored: Partial<StudyOfCycle['budget']> = study.budget;
      study.budget = { trials: d.trials, worker_seconds: d.workerSeconds, ...stored };
      // The latest view of the study's storage: the one that has seen the most finished trials.
      await m.query(
        `UPDATE architecture_studies SET summary = $2::jsonb, updated_at = now()
         WHERE id = $1 AND (summary IS NULL
           OR coalesce((summary->'budget'->>'spent_trials')::int, 0) <= $3)`,
        [study.id, JSON.stringify(r.summary), r.budget.spent_trials],
      );
      const parallelism = parallelismOf(study, this.config);
      let tally = await this.tally(m, study.cycle_id);
      const waiting = study.cycle_status === 'training';
      const decision = waiting
        ? decideNextTrials(tally, study.budget, parallelism)
        : { queue: 0, finish: false, stoppedBy: null };
      if (decision.queue > 0) {
        await this.queueTrials(m, study, decision.queue, event);
        tally = { ...tally, running: tally.running + decision.queue };
      }
      const best = await this.bestTrial(m, study.cycle_id);
      await this.saveProgress(m, study, tally, parallelism, best, decision.stoppedBy);
      this.log.info('study trial finished', {
        cycle_id: study.cycle_id,
        study: study.study_name,
        trial: r.trial.number,
        state: r.trial.state,
        value: r.trial.value,
        worker_id: r.worker_id,
        finished: tally.finished,
        running: tally.running,
        queued: decision.queue,
      });
      if (decision.finish) await this.finish(m, study, best, event);
      return { modelId: study.model_id, running: tally.running, best: best?.value };
    });
    if (!seen) return;
    trialsTotal.inc({ model_id: seen.modelId, state: r.trial.state });
    trialsRunning.set({ model_id: seen.modelId }, seen.running);
    if (seen.best !== undefined) bestValue.set({ model_id: seen.modelId }, seen.best);
  }

  private async tally(m: EntityManager, cycleId: string): Promise<Tally> {
    const [t] = await m.query(
      `SELECT count(*) FILTER (WHERE status = 'completed')::int AS finished,
              count(*) FILTER (WHERE status = 'completed' AND result->'trial'->>'state' = 'complete')::int AS complete,
              count(*) FILTER (WHERE status = 'completed' AND result->'trial'->>'state' = 'pruned')::int AS pruned,
              count(*) FILTER (WHERE status IN ('failed', 'expired'))::int AS failed,
              count(*) FILTER (WHERE status IN ('queued', 'running'))::int AS running,
              coalesce(sum((result->'trial'->>'duration_seconds')::float8)
                FILTER (WHERE status = 'completed'), 0)::float8 AS seconds
       FROM jobs WHERE cycle_id = $1 AND kind = $2`,
      [cycleId, ARCHITECTURE],
    );
    return t as Tally;
  }

  /** The best complete trial whose adapter was stored (the study's best always has one). */
  private async bestTrial(
    m: EntityManager,
    cycleId: string,
  ): Promise<{ jobId: string; number: number; value: number; result: StudyTrialFinishedV1 } | undefined> {
    const [row] = await m.query(
      `SELECT id, result FROM jobs
       WHERE cycle_id = $1 AND kind = $2 AND status = 'completed'
         AND result->'trial'->>'state' = 'complete' AND result ? 'artifact' AND result ? 'trained'
       ORDER BY (result->'trial'->>'value')::float8, (result->'trial'->>'number')::int LIMIT 1`,
      [cycleId, ARCHITECTURE],
    );
    if (!row) return undefined;
    const result = row.result as StudyTrialFinishedV1;
    return { jobId: row.id, number: result.trial.number, value: result.trial.value!, result };
  }

  /** New trials: the study's first request again, under new job ids (attempt 1: a new trial). */
  private async queueTrials(
    m: EntityManager,
    study: StudyOfCycle,
    count: number,
    cause: EventEnvelope<unknown>,
  ): Promise<void> {
    const [first] = await m.query(
      `SELECT request FROM jobs WHERE cycle_id = $1 AND kind = $2 AND request IS NOT NULL
       ORDER BY created_at LIMIT 1`,
      [study.cycle_id, ARCHITECTURE],
    );
    const template = first.request as JobsArchitectureV1;
    // the cycle row is locked (the kind's lockOwner): no other trial counts the roles meanwhile
    const [{ queued }] = await m.query(
      `SELECT count(DISTINCT role)::int AS queued FROM jobs WHERE cycle_id = $1 AND kind = $2`,
      [study.cycle_id, ARCHITECTURE],
    );
    for (let i = 1; i <= count; i++)
      await this.jobs.queue<JobsArchitectureV1>(m, ARCHITECTURE, {
        modelId: study.model_id,
        cycleId: study.cycle_id,
        role: trialRole(queued + i),
        cause,
        request: ({ jobId, attempt, deadline }) => ({ ...template, job_id: jobId, attempt, deadline }),
      });
  }

  private async saveProgress(
    m: EntityManager,
    study: StudyOfCycle,
    t: Tally,
    parallelism: number,
    best: { number: number; value: number } | undefined,
    stoppedBy: StudyProgress['stopped_by'],
  ): Promise<void> {
    const progress: StudyProgress = {
      parallelism,
      trials_finished: t.finished,
      trials_complete: t.complete,
      trials_pruned: t.pruned,
      trials_failed: t.failed,
      trials_running: t.running,
      worker_seconds_spent: Math.round(t.seconds * 1000) / 1000,
      best_trial: best?.number ?? null,
      best_value: best?.value ?? null,
      stopped_by: stoppedBy,
    };
    await m.query(
      `UPDATE architecture_studies SET progress = $2, best_trial = $3, best_value = $4, updated_at = now()
       WHERE id = $1`,
      [study.id, JSON.stringify(progress), progress.best_trial, progress.best_value],
    );
  }

  /** Budget spent, nothing in flight: the best trial's adapter is the candidate, or the cycle fails. */
  private async finish(
    m: EntityManager,
    study: StudyOfCycle,
    best: Awaited<ReturnType<StudyTrialsHandler['bestTrial']>>,
    cause: EventEnvelope<StudyTrialFinishedV1>,
  ): Promise<void> {
    const [row] = await m.query(`SELECT summary FROM architecture_studies WHERE id = $1`, [study.id]);
    const summary = (row?.summary ?? {}) as StudySummary;
    if (!best) {
      const reason = {
        code: 'NO_COMPLETE_TRIAL',
        message: `study ${study.study_name} spent its budget without a complete trial (${JSON.stringify(summary.counts ?? {})}); every trial was pruned or failed`,
      };
      await recordStudyFailure(m, study.cycle_id, `${reason.code}: ${reason.message}`);
      await transitionCycle(m, study.cycle_id, 'failed', {
        failure: reason,
        failedEventSource: 'trainer-bridge',
      });
      return;
    }
    const r = best.result;
    // the trial the candidate comes from is the study's best, whatever a late summary said
    summary.best = {
      number: best.number,
      value: best.value,
      params: r.trial.params,
      ...(r.trial.hyperparameters ? { hyperparameters: r.trial.hyperparameters } : {}),
    };
    const completed: TrainingCompletedV1 = {
      job_id: best.jobId,
      base_model: r.base_model,
      artifact: r.artifact!,
      metrics: r.trained!.metrics,
      hyperparameters: r.trained!.hyperparameters,
      seed: r.seed,
      dataset_sha256: r.dataset_sha256,
      ...(r.trained!.device ? { device: r.trained!.device } : {}),
      package_versions: r.package_versions,
      study: { name: study.study_name, best_trial: best.number, best_value: best.value, summary },
    };
    await recordStudyResult(m, study.cycle_id, completed.study!);
    await registerTrainedCandidate(m, cause, study.cycle_id, study.model_id, completed);
  }
}
