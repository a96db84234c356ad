import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DEFAULT_MODEL_ID } from '@genesis/contracts';
import { Gauge } from 'prom-client';
import { knowModels, Log, metricsRegistry } from '@genesis/observability';
import { ensureFamily, listFamilies, registerConfiguredFamilies } from '@genesis/registry';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { ProblemError } from '../problem/problem';
import { refuseSecrets } from '../http/refuse-secrets';

/** How long a registered id is trusted without asking Postgres again (families are never deleted). */
const KNOWN_TTL_MS = 60_000;

/**
 * The gate in front of every write that names a model (learnings, feedback, manual triggers): the
 * model must be a registered family (ADR 0022), else 422 MODEL_NOT_REGISTERED — or, with
 * GENESIS_MODEL_AUTO_REGISTER (dev and tests), it is registered with the defaults on first use.
 * Registered ids are cached for a minute, so the capture path costs no query per request.
 */
@Injectable()
export class RegisteredModels implements OnApplicationBootstrap {
  private readonly log = new Log('gateway', 'registered-models');
  private readonly known = new Map<string, number>();

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    const db = dataSource;
    // The model pickers (Grafana's model_id variable) list registered families, not every id
    // some series happens to carry: one series per family, read from the registry at scrape time.
    if (!metricsRegistry.getSingleMetric('genesis_model_family_info'))
      new Gauge({
        name: 'genesis_model_family_info',
        help: 'One series (value 1) per registered model family, with the artifact kind it accepts',
        labelNames: ['model_id', 'artifact_kind'],
        registers: [metricsRegistry],
        async collect() {
          // Postgres away: the last list stays, rather than failing the whole /metrics scrape.
          const families = await listFamilies(db).catch(() => undefined);
          if (!families) return;
          this.reset();
          for (const f of families) this.set({ model_id: f.id, artifact_kind: f.artifact_kind }, 1);
        },
      });
  }

  /** The default model always, then the GENESIS_MODEL_FAMILIES file (it defines what it names). */
  async onApplicationBootstrap(): Promise<void> {
    // The file's families are shown to every reader like the API's: the same refusal, at boot.
    for (const family of this.config.registry.families) {
      try {
        await refuseSecrets(family, `GENESIS_MODEL_FAMILIES: family ${family.id}`);
      } catch (err) {
        throw new Error((err as Error).message);
      }
    }
    await registerConfiguredFamilies(this.dataSource, DEFAULT_MODEL_ID, this.config.registry.families);
    const families = await listFamilies(this.dataSource);
    this.remember(families.map((f) => f.id));
    this.log.info('model families registered', { families: families.map((f) => f.id) });
  }

  remember(ids: string[]): void {
    const until = Date.now() + KNOWN_TTL_MS;
    for (const id of ids) this.known.set(id, until);
    knowModels(ids);
  }

  /** Resolves when every id is registered; throws the problem naming the first that is not. */
  async require(ids: Iterable<string>): Promise<void> {
    const now = Date.now();
    const unknown = [...new Set(ids)].filter((id) => (this.known.get(id) ?? 0) < now);
    if (unknown.length === 0) return;
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM model_families WHERE id = ANY($1::text[])`,
      [unknown],
    );
    this.remember(rows.map((r) => r.id));
    const missing = unknown.filter((id) => !rows.some((r) => r.id === id));
    if (missing.length === 0) return;
    if (this.config.registry.autoRegister) {
      for (const id of missing) await ensureFamily(this.dataSource, id, 'auto');
      this.log.info('model families registered on first use (GENESIS_MODEL_AUTO_REGISTER)', {
        families: missing,
      });
      this.remember(missing);
      return;
    }
    throw new ProblemError(
      422,
      'MODEL_NOT_REGISTERED',
      'Model not registered',
      `no registered model family ${missing.join(', ')}: register it first (POST /api/v1/models/families, or GENESIS_MODEL_FAMILIES)`,
      { model_ids: missing },
    );
  }
}
