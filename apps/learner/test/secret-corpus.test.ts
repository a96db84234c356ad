import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { Objm } from '@nats-io/obj';
import { STREAMS } from '@genesis/contracts';
import { ARTIFACTS_BUCKET } from '@genesis/messaging';
import { secretCorpus, type CorpusSecret } from '@genesis/secrets';
import {
  ServiceProcess,
  TEST_ADMIN_KEY,
  TEST_WRITER_KEY,
  TestStack,
  request,
  waitFor,
  type HttpResult,
} from '@genesis/testing';

// Issue: no secret reaches Postgres, the bus, a snapshot or a log. Every secret of the generated corpus
// (>= 150 fake, format-correct credentials of >= 80 kinds) is posted through the gateway once in every
// field a learning has, metadata keys and values included. Afterwards no raw value may be found in any
// table, in the API's answers, in any stream (captures gone, events, jobs, DLQ), in a dataset snapshot in
// the object store, in Redis, or in what the services logged (at debug level).

type Field =
  | 'context'
  | 'model_output'
  | 'correction'
  | 'metadata value'
  | 'metadata key'
  | 'source'
  | 'language'
  | 'produced_by';
const FIELDS: readonly Field[] = [
  'context',
  'model_output',
  'correction',
  'metadata value',
  'metadata key',
  'source',
  'language',
  'produced_by',
];
/** The API's length limits per field (libs/contracts/schemas/api/learning-input.schema.json). */
const LIMIT: Record<Field, number> = {
  context: 32768,
  model_output: 32768,
  correction: 32768,
  'metadata value': 1024,
  'metadata key': 200,
  source: 200,
  language: 50,
  produced_by: 200,
};

interface Placement {
  field: Field;
  item: CorpusSecret;
  learning: Record<string, unknown>;
}

/** The secret in `field` of an otherwise ordinary learning: its line if it fits the field, else the bare value. */
function place(field: Field, item: CorpusSecret, n: number): Placement | undefined {
  const value =
    item.text.length <= LIMIT[field]
      ? item.text
      : item.secret.length <= LIMIT[field]
        ? item.secret
        : undefined;
  if (value === undefined) return undefined;
  const learning: Record<string, unknown> = {
    kind: 'correction',
    source: 'secret-corpus-test',
    language: 'python',
    context: `def handler_${n}(event):`,
    model_output: '    return None',
    correction: `    return process(event)  # case ${n}`,
    produced_by: 'genesis-20260101-000000',
    metadata: { case: n },
  };
  if (field === 'metadata value') learning['metadata'] = { case: n, note: value };
  else if (field === 'metadata key') learning['metadata'] = { case: n, [value]: 'x' };
  else learning[field] = value;
  return { field, item, learning };
}

describe('secret corpus: no raw secret survives the capture path anywhere', () => {
  const corpus = secretCorpus();
  const placements = FIELDS.flatMap((field) =>
    corpus.flatMap((item, i) => place(field, item, FIELDS.indexOf(field) * 10_000 + i) ?? []),
  );
  let stack: TestStack;
  let services: ServiceProcess[];
  let gateway: ServiceProcess;
  const responses: string[] = [];

  before(async () => {
    stack = await TestStack.start();
    const env = stack.env({
      GENESIS_LOG_LEVEL: 'debug',
      GENESIS_BATCH_MAX: '500',
      GENESIS_MAX_BODY_BYTES: String(8 * 1024 * 1024),
      // Only the manual trigger below opens a cycle.
      GENESIS_LEARNING_THRESHOLD: '1000000',
      GENESIS_PERFORMANCE_THRESHOLD: '0',
    });
    services = await Promise.all(
      ['gateway', 'learner', 'monitor', 'trainer-bridge'].map((app) =>
        ServiceProcess.start(app, env, { keepAllLogs: true }),
      ),
    );
    gateway = services[0]!;
  });

  after(async () => {
    await Promise.all((services ?? []).map((s) => s.stop()));
    await stack?.dispose();
  });

  const keep = (r: HttpResult) => {
    responses.push(r.text);
    return r;
  };

  it(`stores ${placements.length} learnings holding secrets of ${new Set(corpus.map((c) => c.kind)).size} kinds, cleaned or quarantined`, async () => {
    assert.ok(corpus.length >= 150 && new Set(corpus.map((c) => c.kind)).size >= 80);
    const ids: string[] = [];
    for (let i = 0; i < placements.length; i += 400) {
      const batch = placements.slice(i, i + 400).map((p) => p.learning);
      const res = keep(
        await request(gateway.baseUrl, '/api/v1/learnings/batch', {
          json: { learnings: batch },
          key: TEST_WRITER_KEY,
        }),
      );
      assert.equal(res.status, 202, res.text.slice(0, 500));
      ids.push(...(res.body['ids'] as string[]));
    }
    assert.equal(ids.length, placements.length);
    await waitFor(
      'every learning stored and every capture gone from the bus',
      async () => {
        const [{ n }] = await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM learnings`);
        const captures = (await stack.client.jsm.streams.info(STREAMS.captures)).state.messages;
        return n === placements.length && captures === 0;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );

    // Recall per kind: a placement counts when its stored row holds no trace of the raw value.
    const rows = await stack.db.query<{ id: string; row: string; status: string; secret_rule_set: string }>(
      `SELECT id, l::text AS row, status, secret_rule_set FROM learnings l`,
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const perKind = new Map<string, { clean: number; total: number }>();
    const quarantinedByField = new Map<Field, number>();
    placements.forEach((p, i) => {
      const row = byId.get(ids[i]!)!;
      const entry = perKind.get(p.item.kind) ?? { clean: 0, total: 0 };
      entry.total++;
      if (!row.row.toLowerCase().includes(p.item.secret.toLowerCase())) entry.clean++;
      perKind.set(p.item.kind, entry);
      if (row.status === 'quarantined')
        quarantinedByField.set(p.field, (quarantinedByField.get(p.field) ?? 0) + 1);
      assert.match(row.secret_rule_set, /gitleaks@v8/);
    });
    const clean = [...perKind.values()].reduce((a, e) => a + e.clean, 0);
    console.log(
      `secret corpus through the gateway: ${corpus.length} secrets, ${perKind.size} kinds, ` +
        `${placements.length} placements in ${FIELDS.length} fields; stored clean ${clean}/${placements.length}`,
    );
    console.log(`recall per kind: ${[...perKind].map(([k, e]) => `${k} ${e.clean}/${e.total}`).join(', ')}`);
    console.log(`quarantined by field: ${JSON.stringify(Object.fromEntries(quarantinedByField))}`);
    assert.equal(clean, placements.length);
  });

  it('has no raw secret in any Postgres table', async () => {
    const tables = await stack.db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    const dump: string[] = [];
    for (const { table_name } of tables) {
      const rows = await stack.db.query<{ t: string }>(`SELECT t::text AS t FROM "${table_name}" t`);
      dump.push(...rows.map((r) => r.t));
    }
    assertNoSecret(dump.join('\n'), 'Postgres');
  });

  it('has no raw secret in the API answers (POST responses, every page of GET /learnings, each learning)', async () => {
    let cursor: string | undefined;
    const seen: string[] = [];
    do {
      const res = keep(
        await request(
          gateway.baseUrl,
          `/api/v1/learnings?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          { key: TEST_ADMIN_KEY },
        ),
      );
      assert.equal(res.status, 200, res.text.slice(0, 300));
      seen.push(...(res.body['items'] as Array<{ id: string }>).map((l) => l.id));
      cursor = res.body['next_cursor'] as string | undefined;
    } while (cursor);
    assert.equal(seen.length, placements.length);
    for (const id of seen.slice(0, 50)) {
      keep(await request(gateway.baseUrl, `/api/v1/learnings/${id}`, { key: TEST_ADMIN_KEY }));
    }
    // Raw captures are not served at all, not even to an admin key: learning.stored is their record.
    const events = keep(
      await request(gateway.baseUrl, '/api/v1/events?subject=learning.captured', { key: TEST_ADMIN_KEY }),
    );
    assert.equal(events.status, 400, events.text);
    assertNoSecret(responses.join('\n'), 'API responses');
  });

  it('puts no raw secret into a dataset snapshot in the object store', async () => {
    const trigger = await request(gateway.baseUrl, '/api/v1/genesis/improvement/trigger', {
      json: { reason: 'secret corpus snapshot' },
      key: TEST_ADMIN_KEY,
    });
    assert.equal(trigger.status, 202, trigger.text);
    await waitFor(
      'a dataset snapshot',
      async () => (await stack.db.query(`SELECT 1 FROM dataset_snapshots`)).length > 0,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const store = await new Objm(stack.client.js).open(ARTIFACTS_BUCKET);
    const texts: string[] = [];
    for (const info of await store.list()) {
      const bytes = await store.getBlob(info.name);
      if (bytes) texts.push(new TextDecoder().decode(bytes));
    }
    assert.ok(texts.length > 0, 'the snapshot is in the object store');
    assert.ok(texts.join('').length > 10_000, 'the snapshot holds the learnings');
    assertNoSecret(texts.join('\n'), 'object store');
  });

  it('has no raw secret in any stream after the learner (captures gone, events, jobs, both DLQs)', async () => {
    const names = [STREAMS.captures, STREAMS.events, STREAMS.jobs, STREAMS.dlq, STREAMS.captureDlq];
    assert.equal((await stack.client.jsm.streams.info(STREAMS.captures)).state.messages, 0);
    const payloads: string[] = [];
    for (const name of names) {
      const { state } = await stack.client.jsm.streams.info(name);
      for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
        const msg = await stack.client.jsm.streams.getMessage(name, { seq }).catch(() => null);
        if (!msg) continue;
        payloads.push(msg.string());
        for (const [key, values] of msg.header ?? []) payloads.push(`${key}: ${values.join(',')}`);
      }
    }
    assert.ok(payloads.length >= placements.length, `${payloads.length} messages read`);
    assertNoSecret(payloads.join('\n'), 'the streams');
  });

  it('has no raw secret in Redis nor in any service log', async () => {
    const redis = new Redis(stack.redisUrl);
    try {
      const values: string[] = [];
      for (const key of await redis.keys('*')) {
        const type = await redis.type(key);
        values.push(
          key,
          type === 'string' ? ((await redis.get(key)) ?? '') : JSON.stringify(await redis.dump(key)),
        );
      }
      assertNoSecret(values.join('\n'), 'Redis');
    } finally {
      await redis.quit();
    }
    for (const service of services) {
      const logs = service.allLogs;
      assert.ok(logs.length > 0, `${service.app} logged something`);
      assertNoSecret(logs, `${service.app} logs`);
    }
  });

  /** Case-insensitive: the learner lower-cases `language`, and a lower-cased secret is still a leak. */
  function assertNoSecret(haystack: string, where: string): void {
    const lower = haystack.toLowerCase();
    const found = corpus.filter((c) => lower.includes(c.secret.toLowerCase())).map((c) => c.kind);
    assert.deepStrictEqual(found, [], `raw secrets in ${where}`);
  }
});
