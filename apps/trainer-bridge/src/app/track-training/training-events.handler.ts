import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  type EventEnvelope,
  type TrainingCompletedV1,
  type TrainingFailedV1,
  type TrainingProgressV1,
} from '@genesis/contracts';
import type { CycleKind } from '@genesis/cycles';
import { JobLifecycle } from '@genesis/jobs';
import { gauge, Log } from '@genesis/observability';
import { recordStudyResult } from '../record-study';
import { registerTrainedCandidate } from './trained-candidate';

const lossGauge = gauge('genesis_training_loss', 'Latest training loss reported by the worker', ['model_id']);
const tpsGauge = gauge('genesis_training_tokens_per_second', 'Latest training throughput', ['model_id']);

interface CycleOfJob {
  cycle_id: string;
  model_id: string;
  cycle_status: string;
  cycle_kind: CycleKind;
}

/**
 * The worker's training.progress / completed / failed → the cycle: progress is recorded on the
 * job (visible in the cycle view), completion registers a candidate version and announces
 * model.trained; failure and expiry go through the one job lifecycle (ADR 0023), which retries a
 * bounded number of times or fails the cycle with the reason. Each step locks the job row, so
 * redeliveries and races apply at most once.
 */
@Injectable()
export class TrainingEventsHandler {
  private readonly log = new Log('trainer-bridge', 'training-events');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(JobLifecycle) private readonly jobs: JobLifecycle,
  ) {}

  async progress(event: EventEnvelope<TrainingProgressV1>): Promise<void> {
    const p = event.data;
    const job = await this.jobs.progress(
      this.dataSource,
      p.job_id,
      { ...p, reported_at: event.time },
      p.step,
    );
    if (job && p.loss !== null) lossGauge.set({ model_id: event.model_id }, p.loss);
    if (job) tpsGauge.set({ model_id: event.model_id }, p.tokens_per_second);
  }

  async completed(event: EventEnvelope<TrainingCompletedV1>): Promise<void> {
    const r = event.data;
    await this.dataSource.transaction(async (m) => {
      const done = await this.jobs.complete(m, r.job_id, r);
      if (!done) return; // unknown, or a second completion of a job: ignored by design
      const [job] = (await m.query(
        `SELECT id AS cycle_id, model_id, status AS cycle_status, kind AS cycle_kind FROM improvement_cycles WHERE id = $1`,
        [done.cycle_id],
      )) as CycleOfJob[];
      if (!job) return;
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
      await registerTrainedCandidate(m, event, job.cycle_id, job.model_id, r);
    });
  }

  async failed(event: EventEnvelope<TrainingFailedV1>): Promise<void> {
    const f = event.data;
    await this.dataSource.transaction(async (m) => {
      const outcome = await this.jobs.fail(
        m,
        f.job_id,
        { code: f.reason.code, message: f.reason.message, retryable: f.retryable, phase: f.phase },
        event,
      );
      if (outcome.outcome === 'retried')
        this.log.warn('training failed; retrying', {
          cycle_id: outcome.job.cycle_id,
          attempt: outcome.job.attempt + 1,
          job_id: outcome.next,
          reason: f.reason.code,
        });
    });
  }
}
