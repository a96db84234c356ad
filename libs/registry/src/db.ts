import type { DataSource, EntityManager } from 'typeorm';

/**
 * What every registry function runs on: a transaction's EntityManager (so callers keep their
 * transactions: an alias move commits with the cycle's transition and its outbox event) or the
 * DataSource for a read outside one.
 */
export type Db = Pick<EntityManager, 'query'> | Pick<DataSource, 'query'>;

export const iso = (d: Date | string | null | undefined): string | null =>
  d ? new Date(d).toISOString() : null;
