import { after, before, describe } from 'node:test';
import { TestDatabase } from '@genesis/testing';
import { PostgresVectorIndex } from '@genesis/vectors';
import { vectorIndexContract } from './vector-index.contract';

describe('PostgresVectorIndex (the embedded default) against a real Postgres', () => {
  let db: TestDatabase;
  let index: PostgresVectorIndex;

  before(async () => {
    db = await TestDatabase.create();
    index = new PostgresVectorIndex(db.dataSource);
    await index.ensure();
  });

  after(async () => {
    await db?.dispose();
  });

  vectorIndexContract('postgres', () => index);
});
