import { after, before, describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import {
  EmbedderProcess,
  ServiceProcess,
  TEST_ADMIN_KEY,
  TestStack,
  request,
  waitFor,
} from '@genesis/testing';

interface Hit {
  similarity: number;
  learning: { id: string; correction: string; status: string };
}

const LEARNINGS = {
  circle: { context: 'def area(r):\n    # area of a circle', correction: '    return math.pi * r ** 2' },
  config: {
    context: 'def read_config(path):',
    correction: '    with open(path) as f:\n        return json.load(f)',
  },
  sql: {
    context: 'SELECT name FROM users WHERE',
    correction: 'id = $1 -- parameterised, never string concatenation',
  },
  loop: {
    context: 'for (let i = 0; i <= arr.length; i++) {',
    correction: 'for (let i = 0; i < arr.length; i++) {',
  },
  fetch: {
    context: 'async function fetchUser(id) {',
    correction:
      '  const res = await fetch(`/api/users/${id}`);\n  if (!res.ok) throw new Error(res.statusText);\n  return res.json();\n}',
  },
};

/**
 * Similar-learning search through the API (ADR 0018): real gateway, learner, Python embedder and the
 * embedded Postgres index. Each query must find the learning it is about first.
 */
describe(
  'semantic search: GET /learnings/{id}/similar and POST /learnings/search',
  { timeout: 600_000 },
  () => {
    let stack: TestStack;
    let gateway: ServiceProcess;
    let learner: ServiceProcess;
    let embedder: EmbedderProcess;
    const ids: Record<string, string> = {};

    before(async () => {
      stack = await TestStack.start();
      embedder = await new EmbedderProcess({ NATS_URL: stack.nats.url }).start();
      learner = await ServiceProcess.start('learner', stack.env());
      gateway = await ServiceProcess.start('gateway', stack.env());
      for (const [name, l] of Object.entries(LEARNINGS)) {
        const res = await request<{ id: string }>(gateway.baseUrl, '/api/v1/learnings', {
          key: TEST_ADMIN_KEY,
          json: { kind: 'correction', source: 'semantic-test', language: 'python', ...l },
        });
        assert.equal(res.status, 202, res.text);
        ids[name] = res.body.id;
      }
      await waitFor(
        'every learning indexed',
        async () => {
          const [{ n }] = await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM vector_index`);
          return n === Object.keys(LEARNINGS).length;
        },
        { timeoutMs: 240_000, intervalMs: 250 },
      );
    });

    after(async () => {
      await gateway?.stop();
      await learner?.stop();
      await embedder?.stop();
      await stack?.dispose();
    });

    it('returns the expected learning first for each query', async () => {
      const queries: [string, keyof typeof LEARNINGS][] = [
        ['how do I compute the area of a circle', 'circle'],
        ['load a JSON configuration file', 'config'],
        ['avoid SQL injection with bind parameters', 'sql'],
        ['off by one error in a for loop over an array', 'loop'],
        ['fetch a user from the REST API and fail on HTTP errors', 'fetch'],
      ];
      for (const [query, expected] of queries) {
        const res = await request<{ items: Hit[]; embedding_model: string }>(
          gateway.baseUrl,
          '/api/v1/learnings/search',
          {
            key: TEST_ADMIN_KEY,
            json: { query, model_id: 'genesis', k: 3 },
          },
        );
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.embedding_model, 'all-MiniLM-L6-v2');
        assert.equal(
          res.body.items[0]!.learning.id,
          ids[expected],
          `"${query}" → ${JSON.stringify(res.body.items[0])}`,
        );
        assert.ok(res.body.items.length <= 3);
        const sims = res.body.items.map((h) => h.similarity);
        assert.deepEqual(
          sims,
          [...sims].sort((a, b) => b - a),
        );
      }
    });

    it('lists the learnings similar to one, never itself', async () => {
      const res = await request<{ items: Hit[] }>(
        gateway.baseUrl,
        `/api/v1/learnings/${ids['circle']}/similar?k=10`,
        {
          key: TEST_ADMIN_KEY,
        },
      );
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.items.length, Object.keys(LEARNINGS).length - 1);
      assert.ok(!res.body.items.some((h) => h.learning.id === ids['circle']));
    });

    it('is on the command line: genesis learnings search / similar', async () => {
      const cli = (...args: string[]) =>
        promisify(execFile)(
          process.execPath,
          [join(__dirname, '..', '..', '..', '..', 'bin', 'genesis.js'), ...args],
          {
            env: {
              PATH: process.env['PATH'] ?? '',
              GENESIS_URL: gateway.baseUrl,
              GENESIS_API_KEY: TEST_ADMIN_KEY,
            },
          },
        );
      const search = await cli('learnings', 'search', 'load a JSON configuration file', '--k', '2');
      assert.match(search.stdout.split('\n')[0]!, new RegExp(`^0\\.\\d{3}  ${ids['config']}  with open`));
      const similar = await cli('learnings', 'similar', ids['circle']!, '--json');
      const body = JSON.parse(similar.stdout) as { items: Hit[] };
      assert.equal(body.items.length, Object.keys(LEARNINGS).length - 1);
    });

    it('rebuilds a lost index from Postgres: genesis vectors rebuild', async () => {
      await stack.db.query(`DELETE FROM vector_index`);
      const cli = promisify(execFile);
      const out = await cli(
        process.execPath,
        [join(__dirname, '..', '..', '..', '..', 'bin', 'genesis.js'), 'vectors', 'rebuild', '--json'],
        {
          env: {
            PATH: process.env['PATH'] ?? '',
            GENESIS_URL: gateway.baseUrl,
            GENESIS_API_KEY: TEST_ADMIN_KEY,
          },
        },
      );
      const report = JSON.parse(out.stdout) as { indexed: number; missing_vectors: number; store: string };
      assert.deepEqual(
        [report.store, report.indexed, report.missing_vectors],
        ['postgres', Object.keys(LEARNINGS).length, 0],
      );
      const [{ n }] = await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM vector_index`);
      assert.equal(n, Object.keys(LEARNINGS).length);
    });

    it('answers bad input with problem+json', async () => {
      const bad = await request(gateway.baseUrl, '/api/v1/learnings/search', {
        key: TEST_ADMIN_KEY,
        json: { query: '', k: 0 },
      });
      assert.equal(bad.status, 422);
      assert.equal(bad.body['code'], 'VALIDATION_FAILED');
      const k = await request(gateway.baseUrl, `/api/v1/learnings/${ids['circle']}/similar?k=abc`, {
        key: TEST_ADMIN_KEY,
      });
      assert.equal(k.status, 400);
      const missing = await request(
        gateway.baseUrl,
        '/api/v1/learnings/00000000-0000-4000-8000-000000000000/similar',
        {
          key: TEST_ADMIN_KEY,
        },
      );
      assert.equal(missing.status, 404);
      assert.equal(missing.body['code'], 'LEARNING_NOT_FOUND');
    });
  },
);
