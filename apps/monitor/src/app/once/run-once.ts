import { Outbox } from '@genesis/persistence';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Log } from '@genesis/observability';
import { OnceModule } from '../app.module';
import type { MonitorConfig } from '../monitor.config';
import { type CheckOutcome } from '../check-thresholds/threshold-checker';
import { PlanningIterations } from '../engine/iterations';
import { DeadlineSweeper, type ExpiredCycle } from '../stuck-cycles/deadline-sweeper';

/**
 * The spec's manual mode (`node dist/apps/monitor/main.js --once`): one check cycle — fail stuck
 * cycles, check every model, open a cycle where a threshold is met — publish what it wrote,
 * print the decision and reason per model, exit 0. `--json` prints one JSON document instead.
 */
export async function runOnce(config: MonitorConfig, argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  try {
    const app = await NestFactory.createApplicationContext(OnceModule.forRoot(config), {
      logger: ['error', 'warn'],
    });
    let expired: ExpiredCycle[];
    let outcomes: CheckOutcome[];
    try {
      expired = await app.get(DeadlineSweeper).sweep();
      // One iteration: end tasks whose cycles ended, plan every model, start what fits, record it.
      outcomes = (await app.get(PlanningIterations).iterate('forced'))!.outcomes;
      await app.get(Outbox).flush();
    } finally {
      await app.close();
    }
    if (json) {
      process.stdout.write(`${JSON.stringify({ expired, outcomes }, null, 2)}\n`);
    } else {
      for (const e of expired)
        process.stdout.write(`${e.model_id}: FAILED stuck cycle ${e.cycle_id} (${e.reason})\n`);
      for (const o of outcomes) {
        const label =
          o.decision === 'opened'
            ? `OPENED cycle ${o.cycle_id} (trigger: ${o.trigger})`
            : o.decision.toUpperCase();
        process.stdout.write(`${o.model_id}: ${label}: ${o.reason}\n`);
      }
    }
    process.exit(0);
  } catch (err) {
    new Log('monitor').error('one-shot check failed', { error: err as Error });
    process.stderr.write(`[genesis:monitor] --once failed: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
