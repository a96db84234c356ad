import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DEFAULT_MODEL_ID } from '@genesis/contracts';
import { Log, knowModels } from '@genesis/observability';

/** How often a long-running process looks for models other processes brought in. */
export const KNOWN_MODELS_REFRESH_MS = 60_000;

/**
 * Tells the process's per-model metrics (perModelSeries, libs/observability) which models exist:
 * the default model and every registered family at boot, then again every minute, so that a
 * model registered through another service (the gateway's API or config) has its series at 0
 * here long before its first event here (rate() and increase() never see a series' first value).
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
 * Every registered model family (ADR 0022: the registry is the one list of models; the gateway
 * refuses learnings for others unless GENESIS_MODEL_AUTO_REGISTER registers them first). Read
 * here with plain SQL because persistence sits below libs/registry; the table is the registry's.
 */
export async function modelIdsInDatabase(dataSource: DataSource): Promise<string[]> {
  const rows: { id: string }[] = await dataSource.query(`SELECT id FROM model_families ORDER BY id`);
  return rows.map((r) => r.id);
}
