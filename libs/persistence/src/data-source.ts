import { DataSource } from 'typeorm';
import { LearningEntity } from './entities/learning.entity';
import { OutboxEntity } from './entities/outbox.entity';
import { LearningsAndOutbox1763700000000 } from './migrations/1763700000000-learnings-and-outbox';

export const ENTITIES = [LearningEntity, OutboxEntity];
export const MIGRATIONS = [LearningsAndOutbox1763700000000];

/** The one way services reach Postgres. Schema changes only through migrations (synchronize off). */
export function createDataSource(url: string, applicationName: string, poolSize = 10): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    applicationName,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: ['error'],
    extra: { max: poolSize, connectionTimeoutMillis: 5000 },
  });
}

/** Runs pending migrations under an advisory lock, so two runners at once apply each one once. */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SELECT pg_advisory_lock(hashtext('genesis-migrations'))`);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query(`SELECT pg_advisory_unlock(hashtext('genesis-migrations'))`).catch(() => undefined);
    await runner.release();
  }
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e.code ?? e.driverError?.code;
  const name = e.constraint ?? e.driverError?.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}

/** Readiness check for the health endpoint. */
export function postgresReadiness(dataSource: DataSource) {
  return { name: 'postgres', check: async () => void (await dataSource.query('SELECT 1')) };
}
