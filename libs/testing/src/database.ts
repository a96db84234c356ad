import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { sleep } from './wait';
import { createDataSource, runMigrations } from '@genesis/persistence';

/** A fresh, migrated database per test file, on the Postgres at DATABASE_URL (started by npm test). */
export class TestDatabase {
  private constructor(
    readonly url: string,
    readonly name: string,
    readonly dataSource: DataSource,
    private readonly adminUrl: string,
  ) {}

  static async create(baseUrl = process.env['DATABASE_URL']): Promise<TestDatabase> {
    if (!baseUrl) throw new Error('DATABASE_URL is not set (run the tests through `npm test`)');
    const name = `genesis_test_${randomBytes(5).toString('hex')}`;
    const admin = new Client({ connectionString: baseUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const url = new URL(baseUrl);
    url.pathname = `/${name}`;
    const dataSource = await createDataSource(url.toString(), 'genesis-test', 4).initialize();
    await runMigrations(dataSource);
    return new TestDatabase(url.toString(), name, dataSource, baseUrl);
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.dataSource.query(sql, params);
  }

  async dispose(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    const admin = new Client({ connectionString: this.adminUrl });
    await admin.connect();
    try {
      await dropDatabase(admin, this.name);
    } finally {
      await admin.end();
    }
  }
}

/** SQLSTATEs of a DROP DATABASE that a moment later may succeed. */
const DROP_RETRYABLE = new Set([
  '42501', // an autovacuum worker is in it, which only a superuser may terminate (before PG 18)
  '55006', // a session is still connecting or going away
]);

/**
 * DROP DATABASE … WITH (FORCE), waiting out an autovacuum worker in the database: a role that is
 * not superuser cannot terminate one, and the worker ends by itself within moments on a test
 * database. Fails after `timeoutMs`.
 */
export async function dropDatabase(
  admin: Pick<Client, 'query'>,
  name: string,
  { timeoutMs = 60_000, retryMs = 200 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      return;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (!DROP_RETRYABLE.has(code) || Date.now() > deadline) throw err;
      await sleep(retryMs);
    }
  }
}
