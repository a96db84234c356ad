import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DLQ_HEADERS, EventPublisher } from '@genesis/messaging';
import { STREAMS, SUBJECTS, durableName, makeEnvelope } from '@genesis/contracts';
import {
  EmbedderProcess,
  ServiceProcess,
  TEST_ADMIN_KEY,
  TestStack,
  capturedLearning,
  request,
  waitFor,
} from '@genesis/testing';

/** The value of one series in a /metrics text, undefined when the series does not exist. */
function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const STORED_CONSUMER = durableName('learner', SUBJECTS.learningStored);

/**
 * A learning the embedder can never take (ADR 0018, "Never-embeddable learnings"), against real
 * NATS, Postgres, the real Python embedder, the learner and the gateway. Its text is blank to the
 * embedder (Python strips the separators U+001C–U+001F) but not to the learner (JavaScript's trim
 * keeps them), so the embedder refuses it every time. Before, its learning.stored was dead-lettered
 * and the learning counted as vector index lag forever — and so did every learning embedded in the
 * same request. Now it is recorded with the embedder's reason, leaves the lag, is counted on its
 * own, shows in the learning's view, and its batch-mates are embedded.
 */
describe('learner: a learning the embedder refuses leaves the index lag', { timeout: 600_000 }, () => {
  let stack: TestStack;
  let learner: ServiceProcess;
  let gateway: ServiceProcess;
  let embedder: EmbedderProcess;
  let publisher: EventPublisher;
  const scrape = async () => (await request(learner.baseUrl, '/metrics')).text;
  /** The refused learning's dead-lettered learning.stored (data), for the second test to send again. */
  let deadLettered: { learning_id: string } | undefined;

  before(async () => {
    stack = await TestStack.start();
    embedder = await new EmbedderProcess({ NATS_URL: stack.nats.url }).start();
    const env = stack.env({ GENESIS_EMBEDDING_TIMEOUT_MS: '60000', GENESIS_INDEX_LAG_INTERVAL_MS: '200' });
    [learner, gateway] = await Promise.all([
      ServiceProcess.start('learner', env),
      ServiceProcess.start('gateway', env),
    ]);
    publisher = new EventPublisher(stack.client);
  });

  after(async () => {
    await Promise.all([learner?.stop(), gateway?.stop()]);
    await embedder?.stop();
    await stack?.dispose();
  });

  const vectors = async (ids: string[]) =>
    (
      await stack.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM learning_vectors WHERE learning_id = ANY($1::uuid[])`,
        [ids],
      )
    )[0]!.n;
  const failure = async (id: string) =>
    (
      await stack.db.query<{ code: string; reason: string }>(
        `SELECT code, reason FROM learning_embedding_failures WHERE learning_id = $1`,
        [id],
      )
    )[0];
  const deadLetters = async () => {
    const info = await stack.client.jsm.streams.info(STREAMS.dlq).catch(() => undefined);
    const letters = [];
    for (let seq = 1; seq <= (info?.state.last_seq ?? 0); seq++) {
      const m = await stack.client.jsm.streams.getMessage(STREAMS.dlq, { seq });
      if (m && m.header.get(DLQ_HEADERS.consumer) === STORED_CONSUMER) letters.push(m);
    }
    return letters;
  };

  it('records the refused learning with the reason, embeds its batch-mates, and the lag drains to 0', async () => {
    const good = Array.from({ length: 4 }, (_, i) =>
      capturedLearning({ context: `def f${i}(x):`, correction: `    return x * ${i + 2}` }),
    );
    const bad = capturedLearning({ context: '\u001f', correction: '\u001c\u001d' });
    // Published together, so that the learner embeds them in one batch (one request).
    await Promise.all([...good, bad].map((e) => publisher.publish(SUBJECTS.learningCaptured, e)));
    const goodIds = good.map((e) => e.data.learning_id);
    const badId = bad.data.learning_id;

    await waitFor('the good learnings embedded', async () => (await vectors(goodIds)) === goodIds.length, {
      timeoutMs: 240_000,
      intervalMs: 200,
    });
    const recorded = await waitFor('the refusal recorded', () => failure(badId), { timeoutMs: 60_000 });
    assert.equal(recorded.code, 'EMBEDDING_BAD_REQUEST');
    assert.match(recorded.reason, /no text to embed/);
    assert.equal(await vectors([badId]), 0);
    const [{ status }] = await stack.db.query<{ status: string }>(
      `SELECT status FROM learnings WHERE id = $1`,
      [badId],
    );
    assert.equal(status, 'accepted', 'the learning itself stays accepted (and trainable)');

    // One dead letter, for the refused learning only, with the embedder's reason.
    const letters = await waitFor('its dead letter', async () => {
      const l = await deadLetters();
      return l.length > 0 ? l : undefined;
    });
    assert.equal(letters.length, 1, letters.map((l) => l.string()).join('\n'));
    assert.equal(letters[0]!.header.get(DLQ_HEADERS.code), 'EMBEDDING_BAD_REQUEST');
    assert.match(
      letters[0]!.header.get(DLQ_HEADERS.reason),
      new RegExp(`learning ${badId} cannot be embedded`),
    );
    deadLettered = (letters[0]!.json() as { data: { learning_id: string } }).data;
    assert.equal(deadLettered.learning_id, badId);

    // Out of the lag (it would never drain), counted on its own series.
    await waitFor(
      'the index lag at 0 and the refused learning counted',
      async () => {
        const text = await scrape();
        return (
          value(text, 'genesis_vector_index_lag', { model_id: 'genesis' }) === 0 &&
          value(text, 'genesis_learnings_embedding_failed', { model_id: 'genesis' }) === 1
        );
      },
      { timeoutMs: 30_000 },
    );
    const text = await scrape();
    assert.equal(value(text, 'genesis_learnings_indexed_total', { outcome: 'embedding_failed' }), 1);
    assert.equal(value(text, 'genesis_vector_index_oldest_unindexed_seconds', { model_id: 'genesis' }), 0);
    const ready = await request<{ status: string; details: Record<string, Record<string, unknown>> }>(
      learner.baseUrl,
      '/health/ready',
    );
    assert.equal(ready.status, 200);
    assert.equal(ready.body.details['vector_index']?.['status'], 'up', JSON.stringify(ready.body));
    assert.equal(ready.body.details['vector_index']?.['lag'], 0, JSON.stringify(ready.body));
    assert.equal(ready.body.details['vector_index']?.['embedding_failed'], 1, JSON.stringify(ready.body));

    // The learning's view says why it is not in the index; a good one says nothing.
    const view = await request<{
      embedding_failure: { code: string; reason: string; failed_at: string } | null;
    }>(gateway.baseUrl, `/api/v1/learnings/${badId}`, { key: TEST_ADMIN_KEY });
    assert.equal(view.status, 200);
    assert.equal(view.body.embedding_failure?.code, 'EMBEDDING_BAD_REQUEST');
    assert.match(view.body.embedding_failure?.reason ?? '', /no text to embed/);
    const goodView = await request<{ embedding_failure: unknown }>(
      gateway.baseUrl,
      `/api/v1/learnings/${goodIds[0]}`,
      {
        key: TEST_ADMIN_KEY,
      },
    );
    assert.equal(goodView.body.embedding_failure, null);
  });

  it('a later delivery that can embed it (its text changed, as a rescan does) clears the failure', async () => {
    assert.ok(deadLettered, 'the dead letter of the first test');
    const row = { id: deadLettered.learning_id };
    await stack.db.query(
      `UPDATE learnings SET context = 'def g(x):', correction = '    return -x' WHERE id = $1`,
      [row.id],
    );
    // Sending its dead letter's learning.stored again (a new envelope: the stream deduplicates ids).
    await publisher.publish(
      SUBJECTS.learningStored,
      makeEnvelope(SUBJECTS.learningStored, deadLettered as never, { source: 'test', modelId: 'genesis' }),
    );
    await waitFor('embedded at last', async () => (await vectors([row.id])) === 1, { timeoutMs: 60_000 });
    await waitFor('the failure cleared', async () => (await failure(row.id)) === undefined);
    await waitFor(
      'nothing counted as refused any more',
      async () => value(await scrape(), 'genesis_learnings_embedding_failed', { model_id: 'genesis' }) === 0,
      { timeoutMs: 30_000 },
    );
  });
});
