import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import {
  activeBackoff,
  activeCycles,
  evaluateTriggers,
  knownModels,
  loadModelFacts,
  newEvidence,
  statusDocument,
  thresholdsOf,
  TRIGGER_KINDS,
  type ImprovementStatus,
  type TriggerThresholds,
} from '@genesis/cycles';
import { metricsRegistry } from '@genesis/observability';
import { Clock } from '../clock';
import { MONITOR_CONFIG, type MonitorConfig } from '../monitor.config';

/** What holds automatic triggers back (ADR 0014), per model. */
interface TriggerView {
  /** A met threshold held back, and by what (null: nothing is held back). */
  waiting: 'evidence' | 'backoff' | null;
  backoffSeconds: number;
  consecutiveRejections: number;
  newEvidence: number;
  minNewEvidence: number;
}

const WAIT_REASONS = ['evidence', 'backoff'] as const;

interface ModelStatus {
  model_id: string;
  status: ImprovementStatus;
  thresholds: TriggerThresholds;
  trigger: TriggerView;
}

interface Snapshot {
  cycles: { model_id: string; trigger: string; status: string; n: number }[];
  statuses: ModelStatus[];
  /** Running cycles and how long each has been in its current phase. */
  active: { model_id: string; status: string; phase_seconds: number }[];
}

/**
 * The spec's metrics, read from the database at scrape time (memoised for a second), so they are
 * right after a restart and agree across replicas: counters that never went through process
 * memory. Served on the monitor's /metrics (port 9127 by default, as in the spec).
 */
@Injectable()
export class CycleMetrics {
  private cached?: { at: number; value: Promise<Snapshot> };

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(MONITOR_CONFIG) private readonly config: MonitorConfig,
    @Inject(Clock) private readonly clock: Clock,
  ) {
    const snapshot = () => this.snapshot();
    const sum = (s: Snapshot, pick: (c: Snapshot['cycles'][number]) => boolean) => {
      const out = new Map<string, number>();
      for (const c of s.cycles) if (pick(c)) out.set(c.model_id, (out.get(c.model_id) ?? 0) + c.n);
      return out;
    };
    register(
      new Counter({
        name: 'genesis_improvement_cycles_total',
        help: 'Improvement cycles opened, by model and trigger',
        labelNames: ['model_id', 'trigger'],
        registers: [],
        async collect() {
          const s = await snapshot();
          this.reset();
          const byTrigger = new Map<string, number>();
          for (const c of s.cycles)
            byTrigger.set(
              `${c.model_id}\u0000${c.trigger}`,
              (byTrigger.get(`${c.model_id}\u0000${c.trigger}`) ?? 0) + c.n,
            );
          // Every known model and trigger from 0: a series born with its first cycle would hide
          // that cycle from increase() ("cycles opened: 0" while two opened).
          for (const { model_id } of s.statuses)
            for (const trigger of TRIGGER_KINDS) this.inc({ model_id, trigger }, 0);
          for (const [key, n] of byTrigger) {
            const [model_id, trigger] = key.split('\u0000') as [string, string];
            this.inc({ model_id, trigger }, n);
          }
        },
      }),
    );
    for (const [name, help, status] of [
      ['genesis_improvements_deployed_total', 'Improvement cycles that deployed a new model', 'deployed'],
      [
        'genesis_improvements_rejected_total',
        'Improvement cycles whose candidate was rejected (no real improvement)',
        'rejected',
      ],
      [
        'genesis_improvements_inconclusive_total',
        'Improvement cycles the gate could not decide (suite too small, or neither model scored): champion kept',
        'inconclusive',
      ],
      ['genesis_improvement_cycles_failed_total', 'Improvement cycles that failed (any phase)', 'failed'],
    ] as const) {
      register(
        new Counter({
          name,
          help,
          labelNames: ['model_id'],
          registers: [],
          async collect() {
            const s = await snapshot();
            this.reset();
            // Every known model from 0, so the first failure is an increase an alert can see.
            for (const { model_id } of s.statuses) this.inc({ model_id }, 0);
            for (const [model_id, n] of sum(s, (c) => c.status === status)) this.inc({ model_id }, n);
          },
        }),
      );
    }
    register(
      new Gauge({
        name: 'genesis_current_model_accuracy',
        help: "The champion's accuracy: online (feedback window) when it has enough samples, else its offline score",
        labelNames: ['model_id'],
        registers: [],
        async collect() {
          const s = await snapshot();
          this.reset();
          for (const { model_id, status } of s.statuses) {
            if (status.improvement_score !== null) this.set({ model_id }, status.improvement_score);
          }
        },
      }),
    );
    register(
      new Gauge({
        name: 'genesis_learnings_since_training',
        help: 'Accepted learnings not yet taken by a training snapshot',
        labelNames: ['model_id'],
        registers: [],
        async collect() {
          const s = await snapshot();
          this.reset();
          for (const { model_id, status } of s.statuses)
            this.set({ model_id }, status.learnings_since_training);
        },
      }),
    );
    // One gauge per model from each model's status: the thresholds beside the values they gate (so
    // dashboards and alerts follow GENESIS_TRIGGER_OVERRIDES), and what holds automatic triggers back.
    const perModelGauge = (name: string, help: string, pick: (s: ModelStatus) => number) =>
      register(
        new Gauge({
          name,
          help,
          labelNames: ['model_id'],
          registers: [],
          async collect() {
            const s = await snapshot();
            this.reset();
            for (const status of s.statuses) this.set({ model_id: status.model_id }, pick(status));
          },
        }),
      );
    perModelGauge(
      'genesis_learning_threshold',
      'New accepted learnings that open an improvement cycle',
      (s) => s.thresholds.learningThreshold,
    );
    perModelGauge(
      'genesis_performance_threshold',
      'Champion accuracy below which an improvement cycle opens',
      (s) => s.thresholds.performanceThreshold,
    );
    register(
      new Gauge({
        name: 'genesis_trigger_waiting',
        help: 'A met trigger threshold held back (1) by the reason: too little new evidence, or back-off after rejections',
        labelNames: ['model_id', 'reason'],
        registers: [],
        async collect() {
          const s = await snapshot();
          this.reset();
          for (const { model_id, trigger } of s.statuses)
            for (const reason of WAIT_REASONS)
              this.set({ model_id, reason }, trigger.waiting === reason ? 1 : 0);
        },
      }),
    );
    perModelGauge(
      'genesis_trigger_backoff_seconds',
      'Seconds left before an automatic cycle may open again after consecutive rejections (0: none)',
      (s) => s.trigger.backoffSeconds,
    );
    perModelGauge(
      'genesis_consecutive_rejections',
      'Rejected improvement cycles since the last deployment (the back-off doubles with each)',
      (s) => s.trigger.consecutiveRejections,
    );
    perModelGauge(
      'genesis_new_evidence',
      'Accepted learnings plus feedback outcomes since the last cycle ended',
      (s) => s.trigger.newEvidence,
    );
    perModelGauge(
      'genesis_min_new_evidence',
      'New evidence an automatic cycle needs (GENESIS_MIN_NEW_EVIDENCE, capped at the learning threshold)',
      (s) => s.trigger.minNewEvidence,
    );
    register(
      new Gauge({
        name: 'genesis_active_cycle_age_seconds',
        help: 'Seconds the running improvement cycle has spent in its current phase (status)',
        labelNames: ['model_id', 'status'],
        registers: [],
        async collect() {
          const s = await snapshot();
          this.reset();
          for (const c of s.active) this.set({ model_id: c.model_id, status: c.status }, c.phase_seconds);
        },
      }),
    );
    const deadlines = this.config.deadlinesMinutes;
    register(
      new Gauge({
        name: 'genesis_cycle_phase_deadline_seconds',
        help: 'Time a cycle may stay in a phase (status) before the monitor fails it (GENESIS_CYCLE_PHASE_DEADLINES)',
        labelNames: ['status'],
        registers: [],
        collect() {
          this.reset();
          for (const [status, minutes] of Object.entries(deadlines)) this.set({ status }, minutes * 60);
        },
      }),
    );
  }

  private snapshot(): Promise<Snapshot> {
    if (this.cached && Date.now() - this.cached.at < 1000) return this.cached.value;
    const value = this.read();
    this.cached = { at: Date.now(), value };
    value.catch(() => (this.cached = undefined));
    return value;
  }

  private async read(): Promise<Snapshot> {
    const cycles: Snapshot['cycles'] = await this.dataSource.query(
      `SELECT model_id, trigger, status, count(*)::int AS n FROM improvement_cycles GROUP BY model_id, trigger, status`,
    );
    const now = this.clock.now();
    const statuses = [];
    const policy = this.config.policy;
    for (const model_id of await knownModels(this.dataSource, this.config.models)) {
      const thresholds = await thresholdsOf(this.dataSource, policy, model_id);
      const facts = await loadModelFacts(this.dataSource, model_id, thresholds);
      const evaluation = evaluateTriggers(facts, thresholds, now, policy.rejectionBackoff);
      const evidence = newEvidence(facts, thresholds);
      statuses.push({
        model_id,
        status: statusDocument(facts, thresholds, now, policy.rejectionBackoff),
        thresholds,
        trigger: {
          waiting: evaluation.met && !facts.activeCycle ? (evaluation.waiting?.kind ?? null) : null,
          backoffSeconds: activeBackoff(facts, policy.rejectionBackoff, now)?.seconds ?? 0,
          consecutiveRejections: evaluation.counts.consecutive_rejections,
          newEvidence: evidence.have,
          minNewEvidence: evidence.need,
        },
      });
    }
    // The same clock and column as the deadline sweeper, so the age reaches the deadline exactly
    // when the sweeper fails the cycle.
    const active = (await activeCycles(this.dataSource)).map((c) => ({
      model_id: c.model_id,
      status: c.status,
      phase_seconds: Math.max(0, (now.getTime() - c.phase_entered_at.getTime()) / 1000),
    }));
    return { cycles, statuses, active };
  }
}

/** Registers once per process (a second app instance in the same process reuses the first). */
export function register(metric: Counter | Gauge): void {
  const name = (metric as unknown as { name: string }).name;
  if (!metricsRegistry.getSingleMetric(name)) metricsRegistry.registerMetric(metric);
}
