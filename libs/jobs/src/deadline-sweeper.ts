import type { DataSource } from 'typeorm';
import { Log } from '@genesis/observability';
import type { JobLifecycle, JobOutcome } from './job-lifecycle';

/**
 * Expires the open jobs of a service's kinds whose deadline has passed, every `intervalMs`: no
 * job waits forever on a worker that died or a message that was lost. Each expiry is its own
 * transaction, so one bad row does not hold up the rest; a failed sweep is retried next tick.
 */
export class JobDeadlineSweeper {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly lifecycle: JobLifecycle,
    private readonly intervalMs: number,
    private readonly log: Log,
    private readonly onExpired: (outcome: JobOutcome) => void = () => undefined,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Expires every overdue job now; returns what each expiry led to. */
  async sweep(now = new Date()): Promise<JobOutcome[]> {
    if (this.running) return []; // a slow sweep is not overlapped by the next tick
    this.running = true;
    const outcomes: JobOutcome[] = [];
    try {
      for (const id of await this.lifecycle.overdue(this.dataSource, now)) {
        // Each expiry on its own: one that fails (and is retried next tick) holds up no other.
        try {
          const outcome = await this.dataSource.transaction((m) => this.lifecycle.expire(m, id, now));
          if (outcome.outcome !== 'ignored') {
            this.log.warn('job expired', {
              job_id: id,
              kind: outcome.job.kind,
              cycle_id: outcome.job.cycle_id,
              outcome: outcome.outcome,
              reason: outcome.decision.reason,
            });
            this.onExpired(outcome);
          }
          outcomes.push(outcome);
        } catch (err) {
          this.log.warn('expiring a job failed; will retry', { job_id: id, error: (err as Error).message });
        }
      }
    } catch (err) {
      this.log.warn('deadline sweep failed; will retry', { error: (err as Error).message });
    } finally {
      this.running = false;
    }
    return outcomes;
  }
}
