import { join } from 'node:path';
import { DataSource } from 'typeorm';

/**
 * Entities and migrations are found by file name, so a new table is a new file in entities/ or
 * migrations/ and nothing else to register (several slices add tables independently).
 */
export const ENTITIES = [join(__dirname, 'entities', '*.entity.js')];
export const MIGRATIONS = [join(__dirname, 'migrations', '*.js')];

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
  const e = err as {
    code?: string;
    constraint?: string;
    driverError?: { code?: string; constraint?: string };
  };
  const code = e.code ?? e.driverError?.code;
  const name = e.constraint ?? e.driverError?.constraint;
  return code === '23505' && (constraint === undefined || name === constraint);
}

/** Readiness check for the health endpoint. */
export function postgresReadiness(dataSource: DataSource) {
  return { name: 'postgres', check: async () => void (await dataSource.query('SELECT 1')) };
}
