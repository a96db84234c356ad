import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import type { EventEnvelope } from '@genesis/contracts';
import {
  computeStatus,
  decide,
  evaluateTriggers,
  knownModels,
  loadModelFacts,
  openCycle,
  thresholdsOf,
  writeStatusCache,
  type CheckDecision,
  type ImprovementStatus,
  type TriggerCounts,
  type TriggerKind,
} from '@genesis/cycles';
import { counter, histogram, Log } from '@genesis/observability';
import { REDIS, Outbox } from '@genesis/persistence';
import { Clock } from '../clock';
import { MONITOR_CONFIG, type CrashPoint, type MonitorConfig } from '../monitor.config';

const checks = counter('genesis_monitor_checks_total', 'Trigger checks by model and decision', [
  'model_id',
  'decision',
]);
export const thresholdLatency = histogram(
  'genesis_threshold_reached_latency_seconds',
  'Time from a threshold being crossed (or a manual request) to its threshold.reached being committed',
  ['trigger'],
  [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600, 86400],
);

export interface CheckOutcome {
  model_id: string;
  decision: Exclude<CheckDecision, 'open'> | 'opened';
  reason: string;
  trigger: TriggerKind | null;
  cycle_id: string | null;
  counts: TriggerCounts;
  status: ImprovementStatus;
}

/**
 * One trigger check of one model: read the facts, decide, and when a threshold is met and no
 * cycle runs, open the cycle and write threshold.reached in one transaction. Checks of the same
 * model never overlap in this process: a burst of events collapses into at most one extra check,
 * and every caller's promise settles only after a check that started after its call.
 */
@Injectable()
export class ThresholdChecker {
  private readonly log = new Log('monitor', 'check');
  private readonly running = new Map<string, Promise<CheckOutcome>>();
  private readonly queued = new Map<string, Promise<CheckOutcome>>();

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(MONITOR_CONFIG) private readonly config: MonitorConfig,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  checkModel(modelId: string, cause?: EventEnvelope<unknown>): Promise<CheckOutcome> {
    const queued = this.queued.get(modelId);
    if (queued) return queued;
    const running = this.running.get(modelId);
    if (!running) return this.start(modelId, cause);
    const next = running
      .catch(() => undefined)
      .then(() => {
        this.queued.delete(modelId);
        return this.start(modelId, cause);
      });
    this.queued.set(modelId, next);
    return next;
  }

  async checkAll(): Promise<CheckOutcome[]> {
    const models = await knownModels(this.dataSource, this.config.models);
    const outcomes: CheckOutcome[] = [];
    for (const model of models) outcomes.push(await this.checkModel(model));
    return outcomes;
  }

  /** Recomputes the status document and refreshes the cache (after a cycle changed elsewhere). */
  async refreshStatus(modelId: string): Promise<ImprovementStatus> {
    const status = await computeStatus(this.dataSource, this.config.policy, modelId, this.clock.now());
    await writeStatusCache(this.redis, modelId, status, this.config.statusTtlSeconds);
    return status;
  }

  private start(modelId: string, cause?: EventEnvelope<unknown>): Promise<CheckOutcome> {
    const p = this.run(modelId, cause).finally(() => {
      if (this.running.get(modelId) === p) this.running.delete(modelId);
    });
    this.running.set(modelId, p);
    return p;
  }

  private async run(modelId: string, cause?: EventEnvelope<unknown>): Promise<CheckOutcome> {
    const now = this.clock.now();
    const t = await thresholdsOf(this.dataSource, this.config.policy, modelId);
    const facts = await loadModelFacts(this.dataSource, modelId, t);
    const evaluation = evaluateTriggers(facts, t, now, this.config.policy.rejectionBackoff);
    const verdict = decide(facts, evaluation, this.config.policy, now);
    let decision: CheckOutcome['decision'] = verdict.decision === 'open' ? 'opened' : verdict.decision;
    let reason = verdict.reason;
    let cycleId: string | null = facts.activeCycle?.id ?? null;

    if (verdict.decision === 'open' && evaluation.trigger) {
      const trigger = evaluation.trigger;
      const result = await this.dataSource.transaction(async (m) => {
        const opened = await openCycle(m, {
          modelId,
          trigger,
          reason: evaluation.reason,
          counts: evaluation.counts,
          now,
          announce: { source: 'monitor', cause },
        });
        if (opened.opened) await this.testHook('before-commit');
        return opened;
      });
      if (result.opened) {
        await this.testHook('after-commit');
        this.outbox.kick();
        cycleId = result.cycle.id;
        reason = `${evaluation.reason}; opened cycle ${cycleId}`;
        const crossedAt =
          evaluation.crossedAt ??
          (trigger === 'learnings' ? await this.crossedAt(modelId, t.learningThreshold) : null);
        if (crossedAt)
          thresholdLatency.observe({ trigger }, Math.max(0, (Date.now() - crossedAt.getTime()) / 1000));
        this.log.info('improvement cycle opened', {
          model_id: modelId,
          cycle_id: cycleId,
          trigger,
          reason: evaluation.reason,
          correlation_id: cause?.correlation_id,
        });
      } else {
        // Another monitor (or a manual trigger) won the race: exactly one cycle, and it is theirs.
        decision = 'cycle_running';
        cycleId = result.active.id;
        reason = `${evaluation.reason}; cycle ${cycleId} is ${result.active.status} (opened concurrently elsewhere)`;
      }
    }

    await this.dataSource.query(
      `INSERT INTO monitor_checks (model_id, checked_at, decision, reason) VALUES ($1, $2, $3, $4)
       ON CONFLICT (model_id) DO UPDATE SET checked_at = EXCLUDED.checked_at, decision = EXCLUDED.decision,
         reason = EXCLUDED.reason
       WHERE monitor_checks.checked_at <= EXCLUDED.checked_at`,
      [modelId, now, decision, reason],
    );
    const status = await this.refreshStatus(modelId);
    checks.inc({ model_id: modelId, decision });
    return {
      model_id: modelId,
      decision,
      reason,
      trigger: evaluation.trigger,
      cycle_id: cycleId,
      counts: evaluation.counts,
      status,
    };
  }

  /** When the learning that reached the threshold was stored. */
  private async crossedAt(modelId: string, threshold: number): Promise<Date | null> {
    const [row] = await this.dataSource.query(
      `SELECT stored_at FROM learnings WHERE model_id = $1 AND status = 'accepted' AND snapshot_id IS NULL
       ORDER BY stored_at, id OFFSET $2 LIMIT 1`,
      [modelId, threshold - 1],
    );
    return (row?.stored_at as Date | undefined) ?? null;
  }

  /** Test hooks (ADR 0004): prove that a crash between counting and publishing loses and doubles nothing. */
  private async testHook(point: CrashPoint): Promise<void> {
    if (point === 'before-commit' && this.config.testHoldBeforeCommitMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.config.testHoldBeforeCommitMs));
    }
    if (this.config.testCrashAt === point) {
      process.stderr.write(`[genesis:monitor] GENESIS_TEST_CRASH_AT=${point}: SIGKILLing myself\n`);
      process.kill(process.pid, 'SIGKILL');
      await new Promise(() => undefined); // never continue past the crash point
    }
  }
}
