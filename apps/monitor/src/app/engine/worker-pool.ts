import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import { BROADCASTS } from '@genesis/contracts';
import { parseHeartbeat, type WorkerHeartbeat } from '@genesis/engine';
import { NatsClient } from '@genesis/messaging';
import { counter, gauge, Log } from '@genesis/observability';
import { MONITOR_CONFIG, type MonitorConfig } from '../monitor.config';

const heartbeats = counter(
  'genesis_engine_worker_heartbeats_total',
  'Worker heartbeats received, by outcome',
  ['outcome'],
);
const liveWorkers = gauge(
  'genesis_engine_workers_live',
  'Workers heard from within three heartbeat intervals',
);
const maxMemory = gauge(
  'genesis_engine_worker_memory_used_fraction_max',
  'The highest memory use (RAM or GPU, 0..1) any live worker reports',
);

/**
 * The workers as their heartbeats describe them (core NATS `workers.heartbeat`: every replica of
 * the scheduler hears every worker). A worker silent for three intervals is gone. `onChange` lets
 * the scheduler start work as soon as room appears instead of at its next tick.
 */
@Injectable()
export class WorkerPool implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Log('monitor', 'workers');
  private readonly workers = new Map<string, { beat: WorkerHeartbeat; heardAt: number }>();
  private sub?: Subscription;
  private listeners: (() => void)[] = [];

  constructor(
    @Inject(NatsClient) private readonly nats: NatsClient,
    @Inject(MONITOR_CONFIG) private readonly config: MonitorConfig,
  ) {
    heartbeats.inc({ outcome: 'accepted' }, 0);
    heartbeats.inc({ outcome: 'invalid' }, 0);
  }

  onApplicationBootstrap(): void {
    this.sub = this.nats.connection.subscribe(BROADCASTS.workersHeartbeat, {
      callback: (err, msg) => {
        if (err) return;
        let parsed: WorkerHeartbeat | string;
        try {
          parsed = parseHeartbeat(msg.json());
        } catch {
          parsed = 'not JSON';
        }
        if (typeof parsed === 'string') {
          heartbeats.inc({ outcome: 'invalid' });
          this.log.warn('ignored an invalid worker heartbeat', { reason: parsed });
          return;
        }
        heartbeats.inc({ outcome: 'accepted' });
        this.workers.set(parsed.worker_id, { beat: parsed, heardAt: Date.now() });
        this.publishGauges();
        for (const listener of this.listeners) listener();
      },
    });
  }

  onApplicationShutdown(): void {
    this.sub?.unsubscribe();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Workers heard from within three heartbeat intervals. */
  live(): WorkerHeartbeat[] {
    const horizon = Date.now() - 3 * this.config.engine.workerHeartbeatSeconds * 1000;
    const out: WorkerHeartbeat[] = [];
    for (const [id, w] of this.workers) {
      if (w.heardAt < horizon) this.workers.delete(id);
      else out.push(w.beat);
    }
    return out;
  }

  private publishGauges(): void {
    const live = this.live();
    liveWorkers.set(live.length);
    maxMemory.set(live.length ? Math.max(...live.map((w) => w.memory_used_fraction)) : 0);
  }
}
