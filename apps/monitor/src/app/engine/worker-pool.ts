import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import { BROADCASTS, type WorkerHeartbeatV1 } from '@genesis/contracts';
import { WorkerFleet } from '@genesis/jobs';
import { NatsClient } from '@genesis/messaging';
import { counter, gauge } from '@genesis/observability';
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
 * the scheduler hears every worker), read through libs/jobs WorkerFleet (schema-validated, a worker
 * silent for three intervals is gone; ADR 0023). `onChange` lets the scheduler start work as soon
 * as room appears instead of at its next tick.
 */
@Injectable()
export class WorkerPool implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly fleet: WorkerFleet;
  private sub?: Subscription;
  private listeners: (() => void)[] = [];

  constructor(
    @Inject(NatsClient) private readonly nats: NatsClient,
    @Inject(MONITOR_CONFIG) config: MonitorConfig,
  ) {
    this.fleet = new WorkerFleet(config.engine.workerHeartbeatSeconds * 1000);
    heartbeats.inc({ outcome: 'accepted' }, 0);
    heartbeats.inc({ outcome: 'invalid' }, 0);
  }

  onApplicationBootstrap(): void {
    this.sub = this.nats.connection.subscribe(BROADCASTS.workersHeartbeat, {
      callback: (err, msg) => {
        if (err) return;
        if (!this.fleet.receive(msg.data)) {
          heartbeats.inc({ outcome: 'invalid' }); // WorkerFleet logged why
          return;
        }
        heartbeats.inc({ outcome: 'accepted' });
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
  live(): WorkerHeartbeatV1[] {
    return this.fleet.live().map((w) => w.heartbeat);
  }

  private publishGauges(): void {
    const live = this.live();
    liveWorkers.set(live.length);
    maxMemory.set(live.length ? Math.max(...live.map((w) => w.memory_used_fraction)) : 0);
  }
}
