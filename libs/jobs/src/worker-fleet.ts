import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { EnvReader } from '@genesis/config';
import {
  BROADCASTS,
  formatIssues,
  validateWorkerHeartbeat,
  type WorkerHeartbeatV1,
} from '@genesis/contracts';
import { Log } from '@genesis/observability';

/** A worker as its latest heartbeat describes it. */
export interface WorkerState {
  heartbeat: WorkerHeartbeatV1;
  /** When this process received it (its own clock: the worker's may be off). */
  receivedAt: Date;
  slotsFree: number;
}

/** A worker is gone after this many heartbeat intervals without one (the agreed contract). */
export const SILENT_INTERVALS = 3;

/** GENESIS_WORKER_HEARTBEAT_S, the workers' interval (the same variable and bounds as theirs), in ms. */
export function readWorkerHeartbeatMs(env: EnvReader): number {
  return env.float('GENESIS_WORKER_HEARTBEAT_S', 5, { min: 0.1, max: 3600 }) * 1000;
}

/**
 * The fleet of Python workers, as their workers.heartbeat messages describe it (ADR 0023): the
 * latest heartbeat per worker, and a worker silent for three intervals counts as gone. The job
 * scheduler asks it where there is room before it queues work. Heartbeats are core NATS (not
 * stored), so a fleet that starts knows every worker within one interval. An invalid heartbeat is
 * logged and ignored: it must not take a worker's previous state away, nor crash the reader.
 */
export class WorkerFleet {
  private readonly latest = new Map<string, WorkerState>();
  private subscription?: Subscription;
  private readonly log = new Log('jobs', 'worker-fleet');

  /** intervalMs: GENESIS_WORKER_HEARTBEAT_S of the workers, in ms. */
  constructor(
    private readonly intervalMs: number,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  start(connection: NatsConnection): this {
    this.subscription = connection.subscribe(BROADCASTS.workersHeartbeat, {
      callback: (err, msg) => {
        if (err) {
          this.log.warn('heartbeat subscription error', { error: err.message });
          return;
        }
        this.receive(msg.data);
      },
    });
    return this;
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** One heartbeat's bytes; returns the worker it updated, or undefined when it was refused. */
  receive(data: Uint8Array): WorkerState | undefined {
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder().decode(data));
    } catch {
      this.log.warn('heartbeat is not JSON; ignored');
      return undefined;
    }
    const check = validateWorkerHeartbeat(value);
    if (!check.ok) {
      this.log.warn('invalid heartbeat ignored', { issues: formatIssues(check.issues) });
      return undefined;
    }
    const heartbeat = check.value;
    const previous = this.latest.get(heartbeat.worker_id);
    // Core NATS keeps one publisher's order; this guards a restarted worker reusing its id.
    if (previous && Date.parse(previous.heartbeat.sent_at) > Date.parse(heartbeat.sent_at)) return previous;
    const state: WorkerState = {
      heartbeat,
      receivedAt: this.clock(),
      slotsFree: Math.max(0, heartbeat.slots_total - heartbeat.slots_busy),
    };
    this.latest.set(heartbeat.worker_id, state);
    return state;
  }

  /** The workers heard from within the last three intervals; the silent ones are forgotten. */
  live(now = this.clock()): WorkerState[] {
    const cutoff = now.getTime() - SILENT_INTERVALS * this.intervalMs;
    for (const [id, state] of this.latest)
      if (state.receivedAt.getTime() < cutoff) {
        this.latest.delete(id);
        this.log.info('worker gone (silent for three heartbeat intervals)', { worker_id: id });
      }
    return [...this.latest.values()].sort((a, b) =>
      a.heartbeat.worker_id.localeCompare(b.heartbeat.worker_id),
    );
  }

  /** Free slots for a job kind across the live workers that pull it. */
  freeSlots(kind: string, now = this.clock()): number {
    return this.live(now)
      .filter((w) => w.heartbeat.kinds.includes(kind))
      .reduce((sum, w) => sum + w.slotsFree, 0);
  }
}
