import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { readLoop, registeredModels, TASK_KINDS, TASK_OUTCOMES } from '@genesis/engine';
import { MONITOR_CONFIG, type MonitorConfig } from '../monitor.config';
import { register } from '../metrics/cycle-metrics';

interface Snapshot {
  models: string[];
  loopRunning: boolean;
  /** Per model, kind and status: count, summed execution seconds and gain of the ended ones. */
  rows: { model_id: string; kind: string; status: string; n: number; seconds: number; gain: number }[];
  /** The queued-or-running task's priority per model and kind. */
  priorities: { model_id: string; kind: string; priority: number }[];
}

/**
 * The engine's metrics (ADR 0024), read from improvement_tasks at scrape time (memoised for a
 * second) so they agree across replicas and survive restarts. Every registered model × kind
 * series exists from 0: a series born with its first task would hide that task from increase().
 * The concurrency limit in force and the task duration histogram live in scheduler.ts.
 */
@Injectable()
export class EngineMetrics {
  private cached?: { at: number; value: Promise<Snapshot> };

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(MONITOR_CONFIG) private readonly config: MonitorConfig,
  ) {
    const snapshot = () => this.snapshot();
    const perModelKind = (s: Snapshot, each: (model: string, kind: string) => void) => {
      for (const model of s.models) for (const kind of TASK_KINDS) each(model, kind);
    };
    for (const [name, help, status] of [
      [
        'genesis_engine_tasks_queued',
        'Improvement tasks waiting in the queue (queue depth), by model and kind',
        'queued',
      ],
      ['genesis_engine_tasks_running', 'Improvement tasks running now, by model and kind', 'running'],
    ] as const) {
      register(
        new Gauge({
          name,
          help,
          labelNames: ['model_id', 'kind'],
          registers: [],
          async collect() {
            const s = await snapshot();
            this.reset();
            perModelKind(s, (model_id, kind) => this.set({ model_id, kind }, 0));
            for (const r of s.rows)
              if (r.status === status) this.set({ model_id: r.model_id, kind: r.kind }, r.n);
          },
        }),
      );
    }
    register(
      new Counter({
        name: 'genesis_engine_tasks_completed_total',
        help: 'Improvement tasks that ended, by model, kind and outcome (deployed, rejected, inconclusive, failed)',
        labelNames: ['model_id', 'kind', 'outcome'],
        registers: [],
        async collect() {
          const s = await snapshot();
          this.reset();
          perModelKind(s, (model_id, kind) => {
            for (const outcome of TASK_OUTCOMES) this.inc({ model_id, kind, outcome }, 0);
          });
          for (const r of s.rows)
            if ((TASK_OUTCOMES as readonly string[]).includes(r.status))
              this.inc({ model_id: r.model_id, kind: r.kind, outcome: r.status }, r.n);
        },
      }),
    );
    for (const [name, help, pick] of [
      [
        'genesis_engine_task_execution_seconds_total',
        'Seconds ended tasks ran, by model and kind (÷ tasks completed = average duration)',
        (r: Snapshot['rows'][number]) => r.seconds,
      ],
      [
        'genesis_engine_task_gain_total',
        'Performance gain that went live through ended tasks, by model and kind',
        (r: Snapshot['rows'][number]) => r.gain,
      ],
    ] as const) {
      register(
        new Counter({
          name,
          help,
          labelNames: ['model_id', 'kind'],
          registers: [],
          async collect() {
            const s = await snapshot();
            this.reset();
            perModelKind(s, (model_id, kind) => this.inc({ model_id, kind }, 0));
            for (const r of s.rows)
              if ((TASK_OUTCOMES as readonly string[]).includes(r.status))
                this.inc({ model_id: r.model_id, kind: r.kind }, Math.max(0, pick(r)));
          },
        }),
      );
    }
    register(
      new Gauge({
        name: 'genesis_engine_task_priority',
        help: 'Priority of the queued or running task of each model and kind (0: none)',
        labelNames: ['model_id', 'kind'],
        registers: [],
        async collect() {
          const s = await snapshot();
          this.reset();
          perModelKind(s, (model_id, kind) => this.set({ model_id, kind }, 0));
          for (const p of s.priorities) this.set({ model_id: p.model_id, kind: p.kind }, p.priority);
        },
      }),
    );
    register(
      new Gauge({
        name: 'genesis_engine_loop_running',
        help: '1 while the improvement loop plans automatically, 0 when stopped',
        registers: [],
        async collect() {
          this.set((await snapshot()).loopRunning ? 1 : 0);
        },
      }),
    );
  }

  private snapshot(): Promise<Snapshot> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > 1000) {
      this.cached = { at: now, value: this.read() };
      this.cached.value.catch(() => (this.cached = undefined));
    }
    return this.cached.value;
  }

  private async read(): Promise<Snapshot> {
    const [models, loop, rows, priorities] = await Promise.all([
      registeredModels(this.dataSource, this.config.models),
      readLoop(this.dataSource),
      this.dataSource.query(
        `SELECT model_id, kind, status, count(*)::int AS n,
           coalesce(sum((result ->> 'execution_seconds')::float8), 0) AS seconds,
           coalesce(sum((result ->> 'performance_gain')::float8), 0) AS gain
         FROM improvement_tasks GROUP BY model_id, kind, status`,
      ),
      this.dataSource.query(
        `SELECT model_id, kind, priority FROM improvement_tasks WHERE status IN ('queued', 'running')`,
      ),
    ]);
    return { models, loopRunning: loop.running, rows, priorities };
  }
}
