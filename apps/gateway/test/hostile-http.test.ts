import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  ServiceProcess,
  TEST_ADMIN_KEY,
  TEST_WRITER_KEY,
  TestStack,
  request,
  waitFor,
  type HttpResult,
} from '@genesis/testing';

/** A second reader, so that one key's event streams can be told apart from another's. */
const READER_KEY = 'test-reader-key-0123456789abcdef';

const learning = (extra: Record<string, unknown> = {}) => ({
  kind: 'correction',
  source: 'hostile-http-test',
  correction: 'return a + b',
  ...extra,
});

function assertProblem(res: HttpResult, status: number, code: string, what: string): void {
  assert.equal(res.status, status, `${what}: ${res.text.slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, what);
  assert.equal(res.body['code'], code, what);
  assert.equal(res.body['status'], status, what);
}

/** 5,000 nested arrays around a string with one `\u` escape: what overflowed the stack of the body check. */
const DEEP_BODY = `${'['.repeat(5000)}"\\u0041"${']'.repeat(5000)}`;

/** A process's CPU time (user + system) in ms, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Sends a POST announcing `length` bytes of JSON but only `sent` of them, and resolves with the
 * answer's status line and the rest of what arrived (headers and body) once the answer is complete,
 * the server closed the connection, or `timeoutMs` passed (then `line` is undefined).
 */
function earlyAnswer(
  port: number,
  { path = '/api/v1/learnings', key, length, sent, timeoutMs }: EarlyRequest,
): Promise<{ line?: string; text: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const line = received.includes('\r\n') ? received.split('\r\n')[0] : undefined;
      resolve({ line, text: received, ms: performance.now() - t0 });
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      const declared = /\r\ncontent-length: *(\d+)/i.exec(received);
      if (end >= 0 && declared && received.length - end - 4 >= Number(declared[1])) done();
    });
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `${key ? `Authorization: Bearer ${key}\r\n` : ''}Content-Length: ${length}\r\n\r\n`,
    );
    socket.write(Buffer.alloc(sent, 0x20));
  });
}

interface EarlyRequest {
  path?: string;
  key?: string;
  length: number;
  sent: number;
  timeoutMs: number;
}

/** Waits out the anonymous rate-limit window, so that a test's anonymous requests are not 429s. */
const nextWindow = () => new Promise((r) => setTimeout(r, 1100));

describe('hostile HTTP: every answer a 2xx/4xx problem+json, anonymous traffic cheap', () => {
  let stack: TestStack;
  let gateway: ServiceProcess;
  const aborts: AbortController[] = [];

  before(async () => {
    stack = await TestStack.start();
    gateway = await ServiceProcess.start(
      'gateway',
      stack.env({
        GENESIS_API_KEYS: JSON.stringify([
          { key: TEST_ADMIN_KEY, scopes: ['admin'] },
          { key: TEST_WRITER_KEY, scopes: ['learnings:write'] },
          { key: READER_KEY, scopes: ['status:read'] },
        ]),
        GENESIS_EVENTS_MAX_STREAMS: '4',
        GENESIS_EVENTS_MAX_STREAMS_PER_KEY: '2',
      }),
    );
  });

  after(async () => {
    for (const a of aborts) a.abort();
    await gateway?.stop();
    await stack?.dispose();
  });

  it('refuses deeply nested JSON with a 400, before authentication a 401, never a 500', async () => {
    const anonymous = await request(gateway.baseUrl, '/api/v1/learnings', { raw: DEEP_BODY });
    assertProblem(anonymous, 401, 'UNAUTHORIZED', 'anonymous deep body');
    for (const headers of [{}, { 'idempotency-key': 'deep-1' }] as Record<string, string>[]) {
      const res = await request(gateway.baseUrl, '/api/v1/learnings', {
        key: TEST_ADMIN_KEY,
        raw: DEEP_BODY,
        headers,
      });
      assertProblem(res, 400, 'JSON_TOO_DEEP', `authenticated deep body ${JSON.stringify(headers)}`);
    }
    for (const path of [
      '/api/v1/feedback',
      '/api/v1/models/rollback',
      '/api/v1/genesis/improvement/trigger',
    ]) {
      const res = await request(gateway.baseUrl, path, { key: TEST_ADMIN_KEY, raw: DEEP_BODY });
      assertProblem(res, 400, 'JSON_TOO_DEEP', path);
    }
  });

  it('answers an anonymous 14 MB body with a 401 before reading it; an oversized one with a 413', async () => {
    await nextWindow();
    const size = 14 * 1024 * 1024;
    // Headers and the first 64 KiB only: a gateway that reads the body first never answers this.
    const early = await earlyAnswer(gateway.port, { length: size, sent: 64 * 1024, timeoutMs: 10_000 });
    console.log(
      `[hostile-http] anonymous 14 MB body, headers + 64 KiB sent: ${early.line ?? 'no answer'} ` +
        `after ${early.ms.toFixed(0)} ms`,
    );
    assert.match(early.line ?? 'no answer within 10 s', /^HTTP\/1\.1 401/);

    // Whole bodies, sent in full: what they cost the gateway in CPU (read from /proc).
    const big = Buffer.alloc(size, 0x20);
    big.write('{"correction":"', 0);
    big.write('"}', big.length - 2);
    const cpuBefore = cpuMs(gateway.pid!);
    const t0 = performance.now();
    const rounds = 5;
    const statuses: (number | 'closed early')[] = [];
    for (let i = 0; i < rounds; i++) {
      // The server may also close the connection before the upload ends (EPIPE here): also cheap.
      const res = await request(gateway.baseUrl, '/api/v1/learnings', { raw: big }).catch(() => undefined);
      statuses.push(res?.status ?? 'closed early');
    }
    const perRequestMs = (performance.now() - t0) / rounds;
    const cpuPerRequestMs = (cpuMs(gateway.pid!) - cpuBefore) / rounds;
    assert.ok(
      statuses.includes(401) && statuses.every((st) => st === 401 || st === 'closed early'),
      `${statuses}`,
    );

    // Authenticated but over GENESIS_MAX_BODY_BYTES (16 MiB): a 413 problem+json from the announced
    // length, again before the body is read (a whole upload would race the server's close: EPIPE).
    const oversized = await earlyAnswer(gateway.port, {
      path: '/api/v1/learnings/batch',
      key: TEST_ADMIN_KEY,
      length: 17 * 1024 * 1024,
      sent: 64 * 1024,
      timeoutMs: 10_000,
    });
    assert.match(oversized.line ?? 'no answer', /^HTTP\/1\.1 413/);
    assert.match(oversized.text, /content-type: application\/problem\+json/i);
    assert.match(oversized.text, /"code":"PAYLOAD_TOO_LARGE"/);
    console.log(
      `[hostile-http] anonymous 14 MB body sent whole: ${perRequestMs.toFixed(0)} ms per request, ` +
        `gateway CPU ${cpuPerRequestMs.toFixed(0)} ms per request; authenticated 17 MB → ${oversized.line}`,
    );
  });

  it('rate-limits anonymous requests per client address (429 with Retry-After)', async () => {
    await nextWindow();
    const total = 2500;
    const statuses = new Map<number, number>();
    let retryAfter: string | null = null;
    let sample: HttpResult | undefined;
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < total) {
          next++;
          const res = await request(gateway.baseUrl, '/api/v1/learnings', { json: learning() });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 429) {
            retryAfter ??= res.headers.get('retry-after');
            sample ??= res;
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const limited = statuses.get(429) ?? 0;
    console.log(
      `[hostile-http] ${total} anonymous requests in ${seconds.toFixed(2)} s: ` +
        [...statuses].map(([s, n]) => `${n}× ${s}`).join(', '),
    );
    assert.deepEqual([...statuses.keys()].sort(), [401, 429]);
    // The default budget is 50 per second per address: everything past it is refused.
    assert.ok(limited >= total - 50 * (Math.ceil(seconds) + 1), `${limited} of ${total} limited`);
    assert.ok(Number(retryAfter) >= 1, `Retry-After: ${retryAfter}`);
    assertProblem(sample!, 429, 'RATE_LIMITED', 'anonymous 429');
    // A valid key is not held back by its address's anonymous budget.
    const authed = await request(gateway.baseUrl, '/api/v1/learnings?limit=1', { key: TEST_ADMIN_KEY });
    assert.equal(authed.status, 200);
  });

  it('accepts only application/json on write routes (415), form bodies included', async () => {
    await nextWindow();
    const writes = [
      '/api/v1/learnings',
      '/api/v1/learnings/batch',
      '/api/v1/feedback',
      '/api/v1/models/rollback',
      '/api/v1/genesis/improvement/trigger',
    ];
    for (const path of writes) {
      for (const [type, raw] of [
        ['application/x-www-form-urlencoded', 'kind=correction&source=x&correction=a%00b'],
        ['text/plain', '{"kind":"correction"}'],
        ['multipart/form-data; boundary=x', '--x\r\n\r\n--x--'],
        ['application/json-seq', '{}'],
      ] as const) {
        const res = await request(gateway.baseUrl, path, {
          key: TEST_ADMIN_KEY,
          raw,
          headers: { 'content-type': type },
        });
        assertProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE', `${path} as ${type}`);
      }
    }
    const charset = await request(gateway.baseUrl, '/api/v1/learnings', {
      key: TEST_ADMIN_KEY,
      raw: JSON.stringify(learning()),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    assert.equal(charset.status, 202, charset.text);
  });

  it('refuses an over-long metadata key with a permanent 400, not a retryable 503', async () => {
    for (const size of [300, 1024 * 1024 + 1]) {
      const res = await request(gateway.baseUrl, '/api/v1/learnings', {
        key: TEST_ADMIN_KEY,
        json: learning({ metadata: { ['k'.repeat(size)]: 'v' } }),
      });
      assertProblem(res, 400, 'KEY_TOO_LONG', `metadata key of ${size}`);
      assert.equal(res.headers.get('retry-after'), null);
    }
    // Large but within every field's bound: still accepted.
    const full = await request(gateway.baseUrl, '/api/v1/learnings', {
      key: TEST_ADMIN_KEY,
      json: learning({
        context: '\u0001'.repeat(32768),
        model_output: '\u0001'.repeat(32768),
        correction: '\u0001'.repeat(32768),
        metadata: Object.fromEntries(
          Array.from({ length: 50 }, (_, i) => [`${i}`.padEnd(256, 'k'), '\u0001'.repeat(1024)]),
        ),
      }),
    });
    assert.equal(full.status, 202, full.text);
  });

  it('answers every malformed query parameter with a 400', async () => {
    const badCursors = [
      Buffer.from(JSON.stringify(['2026-01-01T00:00:00Z', '-'.repeat(36)])).toString('base64url'),
      Buffer.from(
        JSON.stringify(['-271821-04-20T00:00:00Z', '00000000-0000-0000-0000-000000000000']),
      ).toString('base64url'),
      Buffer.from(
        JSON.stringify(['+275760-09-13T00:00:00Z', '00000000-0000-0000-0000-000000000000']),
      ).toString('base64url'),
      Buffer.from(JSON.stringify([1, 2])).toString('base64url'),
      '%00',
    ];
    const cases = [
      '/api/v1/learnings?model_id=%00',
      '/api/v1/learnings?model_id=a&model_id=b',
      '/api/v1/learnings?source=%00',
      `/api/v1/learnings?source=${'s'.repeat(5000)}`,
      '/api/v1/learnings?since=-271821-04-20',
      '/api/v1/learnings?since=275760-09-13',
      '/api/v1/learnings?since=0',
      '/api/v1/learnings?kind=correction&kind=pattern',
      '/api/v1/learnings?limit=1&limit=2',
      ...badCursors.map((c) => `/api/v1/learnings?cursor=${c}`),
      '/api/v1/cycles?model_id=%00',
      '/api/v1/cycles?status=opened&status=failed',
      '/api/v1/models?model_id=a&model_id=b',
      '/api/v1/genesis/improvement/status?model_id=a&model_id=b',
      '/api/v1/events?subject=model.%3E&subject=cycle.%3E',
    ];
    for (const path of cases) {
      const res = await request(gateway.baseUrl, path, { key: TEST_ADMIN_KEY });
      assert.equal(res.status, 400, `${path}: ${res.text.slice(0, 300)}`);
      assert.match(String(res.body['code']), /^INVALID_(QUERY|CURSOR)$/, path);
    }
  });

  it('bounds event streams per key, so one key cannot take every slot', async () => {
    const open = async (key: string) => {
      const controller = new AbortController();
      aborts.push(controller);
      const res = await fetch(`${gateway.baseUrl}/api/v1/events`, {
        headers: { authorization: `Bearer ${key}` },
        signal: controller.signal,
      });
      return { res, close: () => controller.abort() };
    };
    const first = await open(TEST_ADMIN_KEY);
    const second = await open(TEST_ADMIN_KEY);
    assert.equal(first.res.status, 200);
    assert.equal(second.res.status, 200);
    const third = await request(gateway.baseUrl, '/api/v1/events', { key: TEST_ADMIN_KEY });
    assertProblem(third, 429, 'TOO_MANY_EVENT_STREAMS_FOR_KEY', 'a third stream for one key');
    assert.ok(Number(third.headers.get('retry-after')) >= 1);
    const other = await open(READER_KEY);
    assert.equal(other.res.status, 200, 'another key still gets a stream');
    first.close();
    await waitFor('the key has a slot again', async () => {
      const again = await open(TEST_ADMIN_KEY);
      if (again.res.status !== 200) again.close();
      return again.res.status === 200;
    });
  });
});
