/**
 * Applies pending database migrations (npm run migrate; the migrations Job in k8s). Idempotent and
 * safe to run concurrently (an advisory lock serialises runners).
 */
import { loadConfigOrExit, readInfraConfig } from '@genesis/config';
import { Log } from '@genesis/observability';
import { createDataSource, runMigrations } from '@genesis/persistence';

async function main(): Promise<void> {
  const log = new Log('migrate');
  const { databaseUrl } = loadConfigOrExit('migrate', (env) => readInfraConfig(env, 'ops'));
  const dataSource = await createDataSource(databaseUrl, 'genesis-migrate', 2).initialize();
  try {
    const applied = await runMigrations(dataSource);
    log.info(applied.length ? 'migrations applied' : 'schema up to date', { applied });
  } finally {
    await dataSource.destroy();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`[genesis:migrate] failed: ${err.message}\n`);
  process.exit(1);
});
