import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCHEMA_DIR } from './validation';

// The embedder's request/reply schemas (ADR 0026) against the shapes both sides exchange: what
// libs/vectors' EmbeddingClient sends and what trainer_worker.embedding answers (its docstring's).
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validator = (name: string) =>
  ajv.compile(JSON.parse(readFileSync(join(SCHEMA_DIR, 'requests', `${name}.v1.schema.json`), 'utf8')));

describe('the embedder request/reply schemas', () => {
  it('embeddings.compute: texts, learnings or a suite page, exactly one', () => {
    const request = validator('embeddings.compute.request');
    assert.ok(request({ texts: ['cursor.execute with params'] }), JSON.stringify(request.errors));
    assert.ok(request({ learnings: [{ context: 'def f():', correction: 'return 1' }] }));
    assert.ok(request({ suite: { name: 'humaneval', version: '1.0.3', offset: 0, limit: 64 } }));
    assert.ok(!request({}), 'nothing to embed');
    assert.ok(!request({ texts: ['a'], learnings: [] }), 'two forms at once');
    assert.ok(!request({ texts: [] }), 'an empty list');
    assert.ok(!request({ suite: { name: 'humaneval', version: '1.0.3', limit: 65 } }), 'a page over 64');
  });

  it('embeddings.compute reply: vectors (a suite page with ids and total) or an error', () => {
    const reply = validator('embeddings.compute.reply');
    const ok = { model: 'all-MiniLM-L6-v2', version: 'abc', dimensions: 2, vectors: [[0.1, 0.2]] };
    assert.ok(reply(ok), JSON.stringify(reply.errors));
    assert.ok(reply({ ...ok, ids: ['HumanEval/0'], total: 164 }));
    assert.ok(reply({ error: { code: 'EMBEDDING_BAD_REQUEST', message: 'item 0 has no text to embed' } }));
    assert.ok(!reply({ model: 'm', version: 'v', dimensions: 2 }), 'no vectors');
    assert.ok(!reply({ error: { code: 'bad code', message: 'x' } }), 'an error code is UPPER_SNAKE');
  });

  it('embeddings.cluster: items with base64 vectors; the reply its slices or an error', () => {
    const request = validator('embeddings.cluster.request');
    const item = { id: 'l1', vector: 'AACAPw==', text: 'sql cursor' };
    assert.ok(
      request({ items: [item], population: 1200, max_k: 8, min_size: 20, min_silhouette: 0.05, seed: 0 }),
    );
    assert.ok(!request({ items: [] }), 'no items');
    assert.ok(!request({ items: [{ id: 'l1', vector: [1, 2] }] }), 'a vector is base64 text');
    const reply = validator('embeddings.cluster.reply');
    const sliced = {
      method: 'kmeans-silhouette.v1',
      k: 2,
      silhouette: 0.12,
      scores: { '2': 0.12 },
      slices: [{ slice_id: 's1', label: 'cursor, sql', members: ['l1'] }],
      centroids: ['AACAPw=='],
    };
    assert.ok(reply(sliced), JSON.stringify(reply.errors));
    assert.ok(reply({ error: { code: 'SLICING_BAD_REQUEST', message: 'mixed dimensions' } }));
    assert.ok(!reply({ ...sliced, centroids: undefined }), 'centroids are required');
  });
});
