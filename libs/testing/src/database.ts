import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
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
    await this.dataSource.destroy();
    const admin = new Client({ connectionString: this.adminUrl });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}
