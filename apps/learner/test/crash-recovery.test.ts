import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STREAMS } from '@genesis/contracts';
import { ServiceProcess, TEST_WRITER_KEY, TestStack, request, sleep, waitFor } from '@genesis/testing';

const TOTAL = Number(process.env['GENESIS_CHAOS_LEARNINGS'] ?? 20_000);
const BATCH = 1000;

/**
 * Nothing is lost and nothing is doubled when the learner is SIGKILLed twice and NATS restarts
 * once while learnings stream in. The client behaves as a real one should: it retries a failed
 * batch with the same Idempotency-Key until it gets a 202.
 */
describe(`crash recovery: ${TOTAL} learnings through learner kills and a NATS restart`, () => {
  let stack: TestStack;
  let gateway: ServiceProcess;
  let learner: ServiceProcess;

  before(async () => {
    stack = await TestStack.start();
    const env = stack.env({ GENESIS_RATE_LIMIT_PER_SECOND: '0' });
    [gateway, learner] = await Promise.all([
      ServiceProcess.start('gateway', env),
      ServiceProcess.start('learner', env),
    ]);
  });

  after(async () => {
    await Promise.all([gateway?.stop(), learner?.stop()]);
    await stack?.dispose();
  });

  async function postBatch(b: number): Promise<string[]> {
    const learnings = Array.from({ length: BATCH }, (_, i) => ({
      kind: 'correction',
      source: 'chaos',
      language: 'typescript',
      context: `function f${b}_${i}(x: number) {`,
      model_output: `  return x`,
      correction: `  return x * ${b * BATCH + i};`,
    }));
    for (let attempt = 1; ; attempt++) {
      const res = await request(gateway.baseUrl, '/api/v1/learnings/batch', {
        json: { learnings },
        key: TEST_WRITER_KEY,
        headers: { 'idempotency-key': `chaos-batch-${b}` },
      }).catch((err: Error) => ({ status: 0, body: { error: err.message } }) as const);
      if (res.status === 202) return (res.body as { ids: string[] }).ids;
      assert.ok(
        res.status === 0 || res.status >= 500 || res.status === 409,
        `batch ${b}: ${JSON.stringify(res.body)}`,
      );
      assert.ok(attempt < 200, `batch ${b} never accepted`);
      await sleep(250);
    }
  }

  it('stores exactly every learning once and dead-letters nothing', async () => {
    const batches = TOTAL / BATCH;
    const chaos = async (b: number) => {
      if (b === Math.floor(batches * 0.25) || b === Math.floor(batches * 0.75)) {
        await learner.restart(); // SIGKILL, then start again
      } else if (b === Math.floor(batches * 0.5)) {
        await stack.nats.restart();
      }
    };

    const ids = new Set<string>();
    for (let b = 0; b < batches; b++) {
      await chaos(b);
      for (const id of await postBatch(b)) ids.add(id);
    }
    assert.equal(ids.size, TOTAL, 'the gateway handed out one id per learning');

    const count = async () =>
      (
        await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM learnings WHERE source = 'chaos'`)
      )[0]!.n;
    await waitFor(`${TOTAL} learnings stored`, async () => (await count()) >= TOTAL, {
      timeoutMs: 240_000,
      intervalMs: 1000,
    });
    await sleep(2000); // anything redelivered late would show up now
    const [stats] = await stack.db.query<{ rows: number; ids: number; hashes: number; accepted: number }>(
      `SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids, count(DISTINCT content_hash)::int AS hashes,
              count(*) FILTER (WHERE status = 'accepted')::int AS accepted
       FROM learnings WHERE source = 'chaos'`,
    );
    assert.deepEqual(stats, { rows: TOTAL, ids: TOTAL, hashes: TOTAL, accepted: TOTAL });
    const stored = await stack.db.query<{ id: string }>(`SELECT id FROM learnings WHERE source = 'chaos'`);
    assert.ok(
      stored.every((r) => ids.has(r.id)),
      'every stored learning is one the gateway acknowledged',
    );
    await waitFor('outbox drained', async () => {
      const [{ n }] = await stack.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`,
      );
      return n === 0;
    });
    assert.equal((await stack.client.jsm.streams.info(STREAMS.dlq)).state.messages, 0, 'nothing in the DLQ');
    assert.equal(
      (await stack.client.jsm.streams.info(STREAMS.captureDlq)).state.messages,
      0,
      'nor in the capture DLQ',
    );
  });
});
