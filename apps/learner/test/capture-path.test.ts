import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STREAMS, SUBJECTS } from '@genesis/contracts';
import {
  ServiceProcess,
  TEST_ADMIN_KEY,
  TEST_WRITER_KEY,
  TestStack,
  request,
  waitFor,
  type HttpResult,
} from '@genesis/testing';

// A fake AWS key pair built at run time, so the repository holds no secret-looking literal.
const AWS_KEY_ID = ['AKIA', 'Z7QX', 'M3LP', 'W9TR', 'HK2D'].join('');
const AWS_SECRET = ['wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYzQ8mLp2Vn4'].join('/'); // 40 characters, as AWS issues them

type Learning = Record<string, unknown>;

function learning(n: number, extra: Learning = {}): Learning {
  return {
    kind: 'correction',
    source: 'capture-path-test',
    language: 'python',
    context: `def area_${n}(r):`,
    model_output: `    return 3.14 * r`,
    correction: `    return math.pi * r ** 2  # case ${n}`,
    ...extra,
  };
}

describe('capture path: gateway → JetStream → learner → Postgres', () => {
  let stack: TestStack;
  let gateway: ServiceProcess;
  let learner: ServiceProcess;

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    request(gateway.baseUrl, path, { json: body, key: TEST_WRITER_KEY, headers });
  const get = (path: string, key = TEST_ADMIN_KEY) => request(gateway.baseUrl, path, { key });
  // Captures leave their work-queue stream once stored, so count publishes by the last sequence.
  const capturedCount = async () => (await stack.client.jsm.streams.info(STREAMS.captures)).state.last_seq;
  const stored = (id: string) =>
    waitFor(`learning ${id} stored`, async () => {
      const r = await get(`/api/v1/learnings/${id}`);
      return r.status === 200 ? r.body : undefined;
    });

  before(async () => {
    stack = await TestStack.start();
    const env = stack.env({ GENESIS_MAX_BODY_BYTES: String(256 * 1024), GENESIS_BATCH_MAX: '50' });
    [gateway, learner] = await Promise.all([
      ServiceProcess.start('gateway', env),
      ServiceProcess.start('learner', env),
    ]);
  });

  after(async () => {
    await Promise.all([gateway?.stop(), learner?.stop()]);
    await stack?.dispose();
  });

  it('stores a posted learning with its secret redacted and announces learning.stored', async () => {
    const res = await post('/api/v1/learnings', {
      ...learning(1),
      correction: `client = boto3.client("s3", aws_access_key_id="${AWS_KEY_ID}", aws_secret_access_key="${AWS_SECRET}")`,
    });
    assert.equal(res.status, 202, res.text);
    const id = res.body['id'] as string;
    const view = await stored(id);
    assert.equal(view['status'], 'accepted');
    assert.equal(view['model_id'], 'genesis', 'model_id defaults to genesis');
    assert.ok(!String(view['correction']).includes(AWS_KEY_ID), 'the access key id is gone');
    assert.ok(!String(view['correction']).includes(AWS_SECRET), 'the secret key is gone');
    assert.match(String(view['correction']), /REDACTED/);
    assert.ok((view['redaction_count'] as number) >= 1);

    const [row] = await stack.db.query<{ correction: string }>(
      `SELECT correction FROM learnings WHERE id = $1`,
      [id],
    );
    assert.ok(row && !row.correction.includes(AWS_KEY_ID), 'nothing secret reached Postgres');

    const event = await waitFor('learning.stored on GENESIS_EVENTS', async () => {
      const msg = await stack.client.jsm.streams
        .getMessage(STREAMS.events, { last_by_subj: SUBJECTS.learningStored })
        .catch(() => undefined);
      const env = msg?.json<{ data: { learning_id: string } }>();
      return env?.data.learning_id === id ? env : undefined;
    });
    assert.equal(event.data.learning_id, id);
  });

  it('stores the same content once and counts the repeat as a duplicate', async () => {
    const a = await post('/api/v1/learnings', learning(2));
    const b = await post('/api/v1/learnings', {
      ...learning(2),
      correction: `${String(learning(2)['correction'])}   \r\n`, // same after normalisation
    });
    assert.equal(a.status, 202);
    assert.equal(b.status, 202);
    const first = await stored(a.body['id'] as string);
    const second = await stored(b.body['id'] as string);
    const statuses = [first['status'], second['status']].sort();
    assert.deepEqual(statuses, ['accepted', 'duplicate']);
    const dup = first['status'] === 'duplicate' ? first : second;
    const orig = first['status'] === 'accepted' ? first : second;
    assert.equal(dup['duplicate_of'], orig['id']);
    assert.equal(dup['correction'], null, 'a duplicate does not store the content again');
    const [{ n }] = await stack.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM learnings WHERE status = 'accepted' AND content_hash = $1`,
      [orig['content_hash']],
    );
    assert.equal(n, 1);
  });

  it('answers a retry with the same Idempotency-Key with the same response and one learning', async () => {
    const body = learning(3);
    const headers = { 'idempotency-key': 'retry-me-1' };
    const first = await post('/api/v1/learnings', body, headers);
    const second = await post('/api/v1/learnings', body, headers);
    assert.equal(first.status, 202);
    assert.equal(second.status, 202);
    assert.deepEqual(second.body, first.body);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    await stored(first.body['id'] as string);
    const rows = await stack.db.query(`SELECT id FROM learnings WHERE source = $1 AND context = $2`, [
      body['source'],
      body['context'],
    ]);
    assert.equal(rows.length, 1);

    const reused = await post('/api/v1/learnings', learning(4), headers);
    assert.equal(reused.status, 422);
    assert.equal(reused.body['code'], 'IDEMPOTENCY_KEY_REUSED');
  });

  it('accepts a batch and lists learnings newest first with filters and a cursor', async () => {
    const batch = [5, 6, 7].map((n) =>
      learning(n, { source: 'batch-test', kind: n === 6 ? 'pattern' : 'correction' }),
    );
    const res = await post('/api/v1/learnings/batch', { learnings: batch });
    assert.equal(res.status, 202, res.text);
    const ids = res.body['ids'] as string[];
    assert.equal(ids.length, 3);
    await Promise.all(ids.map(stored));

    const page1 = await get('/api/v1/learnings?source=batch-test&limit=2');
    assert.equal(page1.status, 200);
    const items1 = page1.body['items'] as Learning[];
    assert.equal(items1.length, 2);
    assert.ok(page1.body['next_cursor']);
    const page2 = await get(
      `/api/v1/learnings?source=batch-test&limit=2&cursor=${String(page1.body['next_cursor'])}`,
    );
    const items2 = page2.body['items'] as Learning[];
    assert.equal(items2.length, 1);
    assert.equal(page2.body['next_cursor'], null);
    assert.deepEqual(new Set([...items1, ...items2].map((i) => i['id'])), new Set(ids));
    const times = [...items1, ...items2].map((i) => `${String(i['captured_at'])}|${String(i['id'])}`);
    assert.deepEqual(times, [...times].sort().reverse(), 'newest first');

    const patterns = await get('/api/v1/learnings?source=batch-test&kind=pattern');
    assert.deepEqual(
      (patterns.body['items'] as Learning[]).map((i) => i['kind']),
      ['pattern'],
    );
    const badQuery = await get('/api/v1/learnings?limit=9999');
    assert.equal(badQuery.status, 400);
    assert.equal(badQuery.body['code'], 'INVALID_QUERY');
  });

  it('refuses requests without a key (401) or without the scope (403)', async () => {
    const anonymous = await request(gateway.baseUrl, '/api/v1/learnings', { json: learning(8) });
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(anonymous.body['code'], 'UNAUTHORIZED');
    const wrongKey = await request(gateway.baseUrl, '/api/v1/learnings', {
      json: learning(8),
      key: 'x'.repeat(32),
    });
    assert.equal(wrongKey.status, 401);
    const noScope = await get('/api/v1/learnings', TEST_WRITER_KEY);
    assert.equal(noScope.status, 403);
    assert.equal(noScope.body['code'], 'FORBIDDEN');
  });

  it('gives bad input a clear 4xx and publishes nothing', async () => {
    const before = await capturedCount();
    const send = (raw: string | Uint8Array, path = '/api/v1/learnings') =>
      request(gateway.baseUrl, path, { raw, key: TEST_WRITER_KEY });
    const expectProblem = (r: HttpResult, status: number, code: string) => {
      assert.equal(r.status, status, r.text);
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(r.body['code'], code, r.text);
      assert.ok(r.body['detail'] || r.body['title']);
    };

    expectProblem(await send('{"kind": "correction", '), 400, 'MALFORMED_JSON');
    expectProblem(
      await send(
        Buffer.concat([
          Buffer.from('{"kind":"correction","source":"s","correction":"'),
          Buffer.from([0xc3, 0x28]),
          Buffer.from('"}'),
        ]),
      ),
      400,
      'INVALID_UTF8',
    );
    // Text Postgres cannot hold would fail every insert retry (NUL) or turn into U+FFFD unnoticed.
    expectProblem(
      await send('{"kind":"correction","source":"s","correction":"a\\u0000b"}'),
      400,
      'INVALID_TEXT',
    );
    const lone = await post('/api/v1/learnings/batch', {
      learnings: [learning(15), { ...learning(16), metadata: { note: 'half an emoji \ud83d' } }],
    });
    expectProblem(lone, 400, 'INVALID_TEXT');
    assert.match(String(lone.body['detail']), /^\/learnings\/1\/metadata\/note .*surrogate/);
    const wrongType = await post('/api/v1/learnings', { ...learning(9), kind: 5, correction: 42 });
    expectProblem(wrongType, 422, 'VALIDATION_FAILED');
    assert.ok((wrongType.body['errors'] as { path: string }[]).some((e) => e.path === '/kind'));
    assert.ok((wrongType.body['errors'] as { path: string }[]).some((e) => e.path === '/correction'));
    expectProblem(
      await post('/api/v1/learnings', { kind: 'correction', source: 's' }),
      422,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await post('/api/v1/learnings', { ...learning(10), surprise: true }),
      422,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await post('/api/v1/learnings', { ...learning(11), context: 'x'.repeat(300 * 1024) }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    expectProblem(
      await post('/api/v1/learnings', { ...learning(12), correction: 'y'.repeat(40_000) }),
      422,
      'VALIDATION_FAILED',
    );
    const tooMany = Array.from({ length: 51 }, (_, i) => learning(100 + i));
    expectProblem(await post('/api/v1/learnings/batch', { learnings: tooMany }), 413, 'BATCH_TOO_LARGE');
    // One bad item spoils the batch: all or nothing.
    const mixed = await post('/api/v1/learnings/batch', {
      learnings: [learning(13), { ...learning(14), kind: 'nope' }],
    });
    expectProblem(mixed, 422, 'VALIDATION_FAILED');
    assert.ok((mixed.body['errors'] as { path: string }[]).some((e) => e.path === '/learnings/1/kind'));
    expectProblem(await post('/api/v1/learnings/batch', { learnings: [] }), 422, 'VALIDATION_FAILED');
    const text = await request(gateway.baseUrl, '/api/v1/learnings', {
      raw: 'kind=correction',
      key: TEST_WRITER_KEY,
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(text.status, 415, text.text);

    assert.equal(await capturedCount(), before, 'no bad request reached the bus');
    const notFound = await get('/api/v1/learnings/00000000-0000-4000-8000-000000000000');
    expectProblem(notFound, 404, 'LEARNING_NOT_FOUND');
  });

  it('shares one rate limit across gateway replicas through Redis', async () => {
    const env = stack.env({ GENESIS_RATE_LIMIT_PER_SECOND: '5' });
    const replicas = await Promise.all([
      ServiceProcess.start('gateway', env),
      ServiceProcess.start('gateway', env),
    ]);
    try {
      // 12 requests split over two replicas: one shared budget of 5/s lets at most 10 through even
      // if they straddle a second boundary; per-replica budgets would let all 12 through.
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          request(replicas[i % 2]!.baseUrl, '/api/v1/learnings?limit=1', { key: TEST_ADMIN_KEY }),
        ),
      );
      const limited = results.filter((r) => r.status === 429);
      assert.ok(limited.length >= 2, `only ${limited.length} of 12 were limited`);
      assert.equal(limited[0]!.body['code'], 'RATE_LIMITED');
      assert.equal(limited[0]!.headers.get('retry-after'), '1');
      assert.ok(results.every((r) => r.status === 200 || r.status === 429));
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
  });

  it('serves health, metrics and the OpenAPI document', async () => {
    const ready = await request(gateway.baseUrl, '/health/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(Object.keys(ready.body['info'] as object).sort(), ['nats', 'postgres', 'redis']);
    const live = await request(learner.baseUrl, '/health/live');
    assert.equal(live.status, 200);
    const metrics = await request(gateway.baseUrl, '/metrics');
    assert.match(metrics.text, /genesis_learnings_captured_total\{[^}]*model_id="genesis"/);
    assert.match(
      metrics.text,
      /genesis_http_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/learnings"/,
    );
    assert.match(metrics.text, /process_cpu_user_seconds_total/);
    const learnerMetrics = await request(learner.baseUrl, '/metrics');
    assert.match(learnerMetrics.text, /genesis_learnings_stored_total\{[^}]*status="accepted"/);
    const spec = await request(gateway.baseUrl, '/docs/openapi.json');
    assert.equal(spec.status, 200);
    assert.ok((spec.body['paths'] as Record<string, unknown>)['/api/v1/learnings/batch']);
    const page = await request(gateway.baseUrl, '/docs');
    assert.match(page.text, /swagger-ui/);
    const asset = await request(gateway.baseUrl, '/docs/assets/swagger-ui-bundle.js');
    assert.equal(asset.status, 200);
    assert.equal((await request(gateway.baseUrl, '/docs/assets/..%2Fpackage.json')).status, 404);
  });
});
