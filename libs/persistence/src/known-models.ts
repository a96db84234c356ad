import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DEFAULT_MODEL_ID } from '@genesis/contracts';
import { Log, knowModels } from '@genesis/observability';

/** How often a long-running process looks for models other processes brought in. */
export const KNOWN_MODELS_REFRESH_MS = 60_000;

/**
 * Tells the process's per-model metrics (perModelSeries, libs/observability) which models exist:
 * the default model and every model in the database at boot, then again every minute, so that a
 * model first seen by another service (the learner stores its first learning; the deployer counts
 * its first rollback weeks later) has its series at 0 here long before its first event here.
 * Metrics only: a failed read is logged and retried on the next round, never fatal.
 */
@Injectable()
export class KnownModels implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Log('persistence', 'known-models');
  private timer?: NodeJS.Timeout;

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationBootstrap(): Promise<void> {
    knowModels([DEFAULT_MODEL_ID]);
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), KNOWN_MODELS_REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    try {
      knowModels(await modelIdsInDatabase(this.dataSource));
    } catch (err) {
      this.log.warn('could not read the known models; per-model metrics wait for the next round', {
        error: (err as Error).message,
      });
    }
  }
}

/**
 * Every model id the tables mention. learnings can be large: a loose index scan (one index probe
 * per distinct model, on learnings_model_status_stored_ix) instead of a DISTINCT over every row.
 */
export async function modelIdsInDatabase(dataSource: DataSource): Promise<string[]> {
  const rows: { model_id: string }[] = await dataSource.query(
    `WITH RECURSIVE l AS (
       (SELECT model_id FROM learnings ORDER BY model_id LIMIT 1)
       UNION ALL
       SELECT (SELECT model_id FROM learnings WHERE model_id > l.model_id ORDER BY model_id LIMIT 1)
       FROM l WHERE l.model_id IS NOT NULL)
     SELECT model_id FROM l WHERE model_id IS NOT NULL
     UNION SELECT model_id FROM improvement_cycles
     UNION SELECT model_id FROM model_versions
     UNION SELECT model_id FROM monitor_checks`,
  );
  return rows.map((r) => r.model_id);
}
