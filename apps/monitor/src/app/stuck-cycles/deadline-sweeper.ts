import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Outbox } from '@genesis/persistence';
import { activeCycles, transitionCycle, CycleTransitionError } from '@genesis/cycles';
import { counter, Log } from '@genesis/observability';
import { Clock } from '../clock';
import { MONITOR_CONFIG, type DeadlinePhase, type MonitorConfig } from '../monitor.config';

const expired = counter(
  'genesis_cycle_deadlines_exceeded_total',
  'Cycles failed for staying in a phase too long',
  ['model_id', 'phase'],
);

export interface ExpiredCycle {
  cycle_id: string;
  model_id: string;
  phase: string;
  reason: string;
}

/**
 * Fails cycles that stayed in a phase past its deadline (GENESIS_CYCLE_PHASE_DEADLINES), with
 * the phase and the reason, and announces cycle.failed — so a lost worker or a dropped event can
 * never wedge the loop (the one-active-cycle index would otherwise block every future cycle).
 */
@Injectable()
export class DeadlineSweeper {
  private readonly log = new Log('monitor', 'deadlines');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(MONITOR_CONFIG) private readonly config: MonitorConfig,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  async sweep(): Promise<ExpiredCycle[]> {
    const now = this.clock.now();
    const failed: ExpiredCycle[] = [];
    for (const cycle of await activeCycles(this.dataSource)) {
      const phase = cycle.status as DeadlinePhase;
      const deadlineMin = this.config.deadlinesMinutes[phase];
      const stuckMin = (now.getTime() - cycle.phase_entered_at.getTime()) / 60_000;
      if (deadlineMin === undefined || stuckMin <= deadlineMin) continue;
      const message = `stuck in ${phase} for ${Math.floor(stuckMin)} min (deadline ${deadlineMin} min)`;
      try {
        const result = await this.dataSource.transaction((m) =>
          transitionCycle(m, cycle.id, 'failed', {
            now,
            failure: { code: 'PHASE_DEADLINE_EXCEEDED', message },
            failedEventSource: 'monitor',
          }),
        );
        if (result.outcome !== 'applied') continue;
      } catch (err) {
        // The owning service moved it on meanwhile (or finished it): nothing is stuck any more.
        if (err instanceof CycleTransitionError) continue;
        throw err;
      }
      expired.inc({ model_id: cycle.model_id, phase });
      this.log.warn('cycle failed: phase deadline exceeded', {
        cycle_id: cycle.id,
        model_id: cycle.model_id,
        phase,
        reason: message,
      });
      failed.push({
        cycle_id: cycle.id,
        model_id: cycle.model_id,
        phase,
        reason: `PHASE_DEADLINE_EXCEEDED: ${message}`,
      });
    }
    if (failed.length > 0) this.outbox.kick();
    return failed;
  }
}
