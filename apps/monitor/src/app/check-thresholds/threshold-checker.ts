import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import type { EventEnvelope } from '@genesis/contracts';
import {
  computeStatus,
  decide,
  evaluateTriggers,
  findCycle,
  loadModelFacts,
  thresholdsOf,
  writeStatusCache,
  type CheckDecision,
  type ImprovementStatus,
  type ModelFacts,
  type TriggerCounts,
  type TriggerEvaluation,
  type TriggerKind,
  type TriggerThresholds,
} from '@genesis/cycles';
import {
  architectureRule,
  computePriority,
  optimisationRule,
  endTasksOfEndedCycles,
  enqueueTask,
  readLoop,
  registeredModels,
  type ConcurrencyLimit,
  type EnqueueTaskResult,
  type ModelSignals,
  type PriorityExplanation,
  type RuleVerdict,
  type TaskRow,
} from '@genesis/engine';
import { counter, histogram, Log } from '@genesis/observability';
import { REDIS, Outbox } from '@genesis/persistence';
import { Clock } from '../clock';
import { MONITOR_CONFIG, type CrashPoint, type MonitorConfig } from '../monitor.config';
import { loadSignals } from '../engine/signals';
import { TaskScheduler } from '../engine/scheduler';

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
  /** `queued`: a training task waits for a free slot; `loop_stopped`: a threshold is met, the loop is off. */
  decision: Exclude<CheckDecision, 'open'> | 'opened' | 'queued' | 'loop_stopped';
  reason: string;
  trigger: TriggerKind | null;
  cycle_id: string | null;
  task_id: string | null;
  counts: TriggerCounts;
  status: ImprovementStatus;
  /** The measured signals, the training priority they give, and the architecture rule's verdict. */
  signals: ModelSignals;
  priority: { priority: number; explanation: PriorityExplanation };
  architecture: RuleVerdict;
  /** The optimisation need (latency over the family's target): recorded, not queued (ADR 0027). */
  optimisation: RuleVerdict;
}

interface ModelPlan {
  modelId: string;
  t: TriggerThresholds;
  facts: ModelFacts;
  evaluation: TriggerEvaluation;
  verdict: { decision: CheckDecision; reason: string };
  signals: ModelSignals;
  training: { priority: number; explanation: PriorityExplanation };
  architecture: RuleVerdict;
  architecturePriority: { priority: number; explanation: PriorityExplanation };
}

/**
 * The training kind's planner rule (ADR 0014's triggers, evidence minimum and back-off; ADR 0024):
 * read the facts, decide, and when a threshold is met and no cycle runs, enqueue a training task
 * with its priority — started at once, with its cycle and threshold.reached in the same
 * transaction, when the concurrency limit allows. Checks of the same
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
    @Inject(TaskScheduler) private readonly scheduler: TaskScheduler,
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

  /**
   * Every registered model in one batch (a planning iteration): all are planned before any starts,
   * so the scheduler picks among them by priority, not by the order they were checked in.
   */
  async checkAll(): Promise<CheckOutcome[]> {
    const models = await registeredModels(this.dataSource, this.config.models);
    return this.runBatch(models);
  }

  /** Recomputes the status document and refreshes the cache (after a cycle changed elsewhere). */
  async refreshStatus(modelId: string): Promise<ImprovementStatus> {
    const status = await computeStatus(this.dataSource, this.config.policy, modelId, this.clock.now());
    await writeStatusCache(this.redis, modelId, status, this.config.statusTtlSeconds);
    return status;
  }

  private start(modelId: string, cause?: EventEnvelope<unknown>): Promise<CheckOutcome> {
    const p = this.runBatch([modelId], cause)
      .then((outcomes) => outcomes[0]!)
      .finally(() => {
        if (this.running.get(modelId) === p) this.running.delete(modelId);
      });
    this.running.set(modelId, p);
    return p;
  }

  /**
   * Checks a batch of models: every model's facts, trigger decision and signals are read first;
   * then one transaction enqueues the training tasks whose thresholds are met (re-planning a
   * queued one) and starts what the concurrency limit allows by priority — so a newly queued
   * task competes with older ones at once, and a task's start commits with its cycle and
   * threshold.reached or not at all. A stopped loop enqueues nothing.
   */
  private async runBatch(models: string[], cause?: EventEnvelope<unknown>): Promise<CheckOutcome[]> {
    const now = this.clock.now();
    const loop = await readLoop(this.dataSource);
    const plans: ModelPlan[] = [];
    for (const modelId of models) {
      // A registered family's own thresholds win over the configured ones (ADR 0022).
      const t = await thresholdsOf(this.dataSource, this.config.policy, modelId);
      const facts = await loadModelFacts(this.dataSource, modelId, t);
      const evaluation = evaluateTriggers(facts, t, now, this.config.policy.rejectionBackoff);
      const verdict = decide(facts, evaluation, this.config.policy, now);
      const signals = await loadSignals(this.dataSource, facts, t, evaluation);
      const training = computePriority(signals, this.config.engine.weights.training);
      const architecture = architectureRule(signals, this.config.engine.architecture);
      const architecturePriority = computePriority(signals, this.config.engine.weights.architecture);
      plans.push({
        modelId,
        t,
        facts,
        evaluation,
        verdict,
        signals,
        training,
        architecture,
        architecturePriority,
      });
    }

    const wanted = plans.filter((p) => loop.running && p.verdict.decision === 'open' && p.evaluation.trigger);
    const tx =
      wanted.length === 0
        ? {
            tasks: new Map<string, EnqueueTaskResult>(),
            started: [] as TaskRow[],
            limit: this.scheduler.currentLimit(),
          }
        : await this.dataSource.transaction(async (m) => {
            // A task whose cycle has just ended still reads `running` until ended: end it first, so
            // it neither blocks its model's next task nor holds a slot.
            await endTasksOfEndedCycles(m, { now, source: 'monitor' });
            const tasks = new Map<string, EnqueueTaskResult>();
            for (const p of wanted) {
              tasks.set(
                p.modelId,
                // New evidence opens a task; when retraining the same way has stopped helping (the
                // architecture rule), that task searches the LoRA configuration instead (ADR 0025).
                p.architecture.needed
                  ? await enqueueTask(m, {
                      modelId: p.modelId,
                      kind: 'architecture',
                      priority: p.architecturePriority.priority,
                      explanation: p.architecturePriority.explanation,
                      requestedBy: 'policy:architecture',
                      automatic: true,
                      reason: `${p.evaluation.reason}; ${p.architecture.reason}`,
                      plan: { trigger: p.evaluation.trigger!, counts: { ...p.evaluation.counts } },
                      now,
                      source: 'monitor',
                      cause,
                    })
                  : await enqueueTask(m, {
                      modelId: p.modelId,
                      kind: 'training',
                      priority: p.training.priority,
                      explanation: p.training.explanation,
                      requestedBy: 'policy:training',
                      automatic: true,
                      reason: p.evaluation.reason,
                      plan: { trigger: p.evaluation.trigger!, counts: { ...p.evaluation.counts } },
                      now,
                      source: 'monitor',
                      cause,
                    }),
              );
            }
            const { started, limit } = await this.scheduler.startQueued(m, now, cause);
            if (started.length) await this.testHook('before-commit');
            return { tasks, started, limit };
          });
    if (tx.started.length) {
      await this.testHook('after-commit');
      this.outbox.kick();
    }

    const outcomes: CheckOutcome[] = [];
    for (const p of plans) outcomes.push(await this.outcome(p, loop.running, tx, cause, now));
    return outcomes;
  }

  private async outcome(
    p: ModelPlan,
    loopRunning: boolean,
    tx: { tasks: Map<string, EnqueueTaskResult>; started: TaskRow[]; limit: ConcurrencyLimit },
    cause: EventEnvelope<unknown> | undefined,
    now: Date,
  ): Promise<CheckOutcome> {
    const { modelId, evaluation, verdict, facts } = p;
    let decision: CheckOutcome['decision'] = verdict.decision === 'open' ? 'opened' : verdict.decision;
    let reason = verdict.reason;
    let cycleId: string | null = facts.activeCycle?.id ?? null;
    let taskId: string | null = null;
    const enq = tx.tasks.get(modelId);
    if (verdict.decision === 'open' && !loopRunning) {
      decision = 'loop_stopped';
      reason = `${evaluation.reason}; the improvement loop is stopped (no automatic task)`;
    } else if (enq) {
      const task = enq.created ? enq.task : enq.existing;
      taskId = task.id;
      const started = tx.started.find((s) => s.id === task.id);
      if (started) {
        cycleId = started.cycle_id;
        reason = `${evaluation.reason}; opened cycle ${cycleId}`;
        const trigger = evaluation.trigger!;
        const crossedAt =
          evaluation.crossedAt ??
          (trigger === 'learnings' ? await this.crossedAt(modelId, p.t.learningThreshold) : null);
        if (crossedAt)
          thresholdLatency.observe({ trigger }, Math.max(0, (Date.now() - crossedAt.getTime()) / 1000));
        this.log.info('improvement cycle opened', {
          model_id: modelId,
          cycle_id: cycleId,
          task_id: task.id,
          trigger,
          reason: evaluation.reason,
          priority: task.priority,
          correlation_id: cause?.correlation_id,
        });
      } else if (task.status === 'running' && task.cycle_id) {
        // Another planner (or a manual trigger) won the race: exactly one task and cycle, and they are theirs.
        decision = 'cycle_running';
        cycleId = task.cycle_id;
        const cycle = await findCycle(this.dataSource, task.cycle_id);
        reason = `${evaluation.reason}; cycle ${cycleId} is ${cycle?.status ?? 'running'} (opened concurrently elsewhere)`;
      } else {
        decision = 'queued';
        reason =
          `${evaluation.reason}; task ${task.id} queued at priority ${task.priority.toFixed(2)} ` +
          `(${task.priority_explanation.summary}); ${tx.limit.limit} may run at once: ${tx.limit.reason}`;
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
      task_id: taskId,
      counts: evaluation.counts,
      status,
      signals: p.signals,
      priority: p.training,
      architecture: p.architecture,
      optimisation: optimisationRule(p.signals),
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
