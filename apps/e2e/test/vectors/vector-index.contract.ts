import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { VectorIndexError, type VectorIndex } from '@genesis/vectors';

/**
 * The vector index port's contract (libs/vectors/src/vector-index.ts), one suite run against every
 * adapter: the embedded Postgres default and a real Weaviate. HNSW is approximate, so similarities
 * are compared with a tolerance; the order of clearly separated hits is exact.
 */
export function vectorIndexContract(name: string, index: () => VectorIndex): void {
  const DIMS = 16;
  const unit = (i: number, scale = 1) => Array.from({ length: DIMS }, (_, d) => (d === i ? scale : 0));
  const mix = (a: number, b: number, wa: number) =>
    Array.from({ length: DIMS }, (_, d) => (d === a ? wa : d === b ? Math.sqrt(1 - wa * wa) : 0));
  const close = (actual: number, expected: number) =>
    assert.ok(Math.abs(actual - expected) < 1e-3, `similarity ${actual} ≉ ${expected}`);

  it(`${name}: returns the nearest vectors of the model only, best first, with cosine similarity`, async () => {
    const model = `m-${randomUUID().slice(0, 8)}`;
    const other = `o-${randomUUID().slice(0, 8)}`;
    const [a, b, c, foreign] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await index().upsert([
      { id: a, modelId: model, vector: unit(0, 3) }, // not normalised: similarity is still cosine
      { id: b, modelId: model, vector: mix(0, 1, 0.8) },
      { id: c, modelId: model, vector: unit(2) },
      { id: foreign, modelId: other, vector: unit(0) },
    ]);
    const hits = await index().search({ modelId: model, vector: unit(0), k: 2 });
    assert.deepEqual(
      hits.map((h) => h.id),
      [a, b],
    );
    close(hits[0]!.similarity, 1);
    close(hits[1]!.similarity, 0.8);
    const all = await index().search({ modelId: model, vector: unit(0), k: 10 });
    assert.deepEqual(
      all.map((h) => h.id),
      [a, b, c],
    );
    close(all[2]!.similarity, 0);
    assert.equal(await index().count(model), 3);
    assert.equal(await index().count(other), 1);
  });

  it(`${name}: upsert is idempotent by id and replaces the vector; remove is idempotent`, async () => {
    const model = `m-${randomUUID().slice(0, 8)}`;
    const id = randomUUID();
    await index().upsert([{ id, modelId: model, vector: unit(1) }]);
    await index().upsert([{ id, modelId: model, vector: unit(1) }]);
    assert.equal(await index().count(model), 1);
    await index().upsert([{ id, modelId: model, vector: unit(3) }]);
    const [hit] = await index().search({ modelId: model, vector: unit(3), k: 1 });
    assert.equal(hit!.id, id);
    close(hit!.similarity, 1);
    await index().remove([id]);
    await index().remove([id, randomUUID()]);
    assert.equal(await index().count(model), 0);
    assert.deepEqual(await index().search({ modelId: model, vector: unit(3), k: 5 }), []);
  });

  it(`${name}: excludes the asked-for ids and refuses a bad k, a zero vector, another dimension`, async () => {
    const model = `m-${randomUUID().slice(0, 8)}`;
    const [a, b] = [randomUUID(), randomUUID()];
    await index().upsert([
      { id: a, modelId: model, vector: unit(4) },
      { id: b, modelId: model, vector: mix(4, 5, 0.6) },
    ]);
    const hits = await index().search({ modelId: model, vector: unit(4), k: 1, exclude: [a] });
    assert.deepEqual(
      hits.map((h) => h.id),
      [b],
    );
    await assert.rejects(index().search({ modelId: model, vector: unit(4), k: 0 }), isCode('VECTOR_INVALID'));
    await assert.rejects(
      index().upsert([{ id: randomUUID(), modelId: model, vector: unit(0, 0) }]),
      isCode('VECTOR_INVALID'),
    );
    await assert.rejects(
      index().upsert([{ id: randomUUID(), modelId: model, vector: [1, 0, 0] }]),
      isCode('VECTOR_DIMENSION_MISMATCH'),
    );
  });

  it(`${name}: ping answers while the index is up`, async () => {
    await index().ping();
  });

  it(`${name}: clear empties the index, which stays usable`, async () => {
    const model = `m-${randomUUID().slice(0, 8)}`;
    await index().upsert([{ id: randomUUID(), modelId: model, vector: unit(6) }]);
    await index().clear();
    assert.equal(await index().count(), 0);
    const id = randomUUID();
    await index().upsert([{ id, modelId: model, vector: unit(6) }]);
    assert.equal((await index().search({ modelId: model, vector: unit(6), k: 1 }))[0]!.id, id);
  });
}

function isCode(code: string) {
  return (err: unknown) => err instanceof VectorIndexError && err.code === code;
}
