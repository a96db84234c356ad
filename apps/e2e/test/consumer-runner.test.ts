import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AckPolicy } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { randomUUID } from 'node:crypto';
import { STREAMS, SUBJECTS, dlqSubject, makeEnvelope } from '@genesis/contracts';
import { Log } from '@genesis/observability';
import { TestNatsServer, waitFor, sleep } from '@genesis/testing';
import {
  ARTIFACTS_BUCKET,
  ConsumerRunner,
  DLQ_HEADERS,
  EventPublisher,
  NatsClient,
  PermanentError,
  provisionTopology,
  type EventHandler,
} from '@genesis/messaging';

const log = new Log('test', undefined, 'error');

// learning.stored: an event of GENESIS_EVENTS (limits retention), where test durables can come and go
// (learning.captured lives in the GENESIS_CAPTURES work queue, whose one consumer is the learner's).
const stored = (tag: string) =>
  makeEnvelope(
    SUBJECTS.learningStored,
    {
      learning_id: randomUUID(),
      model_id: 'genesis',
      kind: 'correction',
      source: tag,
      content_hash: 'a'.repeat(64),
      redactions: 0,
      stored_at: new Date().toISOString(),
    },
    { source: 'learner', modelId: 'genesis' },
  );

describe('ConsumerRunner against a real JetStream', () => {
  let server: TestNatsServer;
  let nats: NatsClient;
  let publisher: EventPublisher;
  let n = 0;

  before(async () => {
    server = await TestNatsServer.start();
    nats = await NatsClient.connect({ url: server.url, name: 'runner-test', log });
    await provisionTopology(nats, log);
    publisher = new EventPublisher(nats);
  });

  after(async () => {
    await nats?.drain();
    await server?.dispose();
  });

  /** A fresh durable on learning.stored starting after everything already in the stream. */
  async function durableConsumer(config: { max_deliver?: number; ack_wait_ms?: number } = {}) {
    const durable = `runner-test-${++n}`;
    await nats.jsm.consumers.add(STREAMS.events, {
      durable_name: durable,
      filter_subject: SUBJECTS.learningStored,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: 'new' as never,
      max_deliver: config.max_deliver ?? 3,
      ack_wait: nanos(config.ack_wait_ms ?? 30_000),
    });
    return durable;
  }

  /** A runner on a fresh durable. */
  async function runner(handler: EventHandler, config: { max_deliver?: number; ack_wait_ms?: number } = {}) {
    const durable = await durableConsumer(config);
    const r = new ConsumerRunner(nats, publisher, log, {
      stream: STREAMS.events,
      durable,
      handler,
      backoffMs: [50],
    });
    await r.start();
    return { runner: r, durable };
  }

  async function dlqFor(durable: string) {
    return waitFor(`a DLQ entry for ${durable}`, () =>
      nats.jsm.streams.getMessage(STREAMS.dlq, { last_by_subj: dlqSubject(durable) }).catch(() => undefined),
    );
  }

  it('retries a transient failure with backoff and acks when it succeeds', async () => {
    const attempts: number[] = [];
    const { runner: r, durable } = await runner(async (_e, ctx) => {
      attempts.push(ctx.deliveryCount);
      if (ctx.deliveryCount < 2) throw new Error('database briefly down');
    });
    await publisher.publish(SUBJECTS.learningStored, stored('transient'));
    await waitFor('two attempts', () => attempts.length === 2);
    await waitFor(
      'acked',
      async () => (await nats.jsm.consumers.info(STREAMS.events, durable)).num_ack_pending === 0,
    );
    await sleep(200);
    assert.deepEqual(attempts, [1, 2]);
    await r.stop();
  });

  it('dead-letters after max_deliver attempts with the last error as the reason', async () => {
    let calls = 0;
    const { runner: r, durable } = await runner(async () => {
      calls++;
      throw new Error('downstream refuses');
    });
    const event = stored('exhausted');
    await publisher.publish(SUBJECTS.learningStored, event);
    const entry = await dlqFor(durable);
    assert.equal(calls, 3);
    assert.equal(entry.header.get(DLQ_HEADERS.code), 'MAX_DELIVERIES_EXCEEDED');
    assert.match(entry.header.get(DLQ_HEADERS.reason), /downstream refuses/);
    assert.equal(entry.header.get(DLQ_HEADERS.deliveries), '3');
    assert.equal(entry.json<{ id: string }>().id, event.id);
    await r.stop();
  });

  it('dead-letters a message whose every delivery died without an ack (the max-deliveries advisory)', async () => {
    // The "process" that takes the message and dies before it can ack, nak or term: twice.
    const durable = await durableConsumer({ max_deliver: 2, ack_wait_ms: 1000 });
    const event = stored('poison');
    await publisher.publish(SUBJECTS.learningStored, event);
    const consumer = await nats.js.consumers.get(STREAMS.events, durable);
    for (let delivery = 1; delivery <= 2; delivery++) {
      const batch = await consumer.fetch({ max_messages: 1, expires: 3000 });
      let got = 0;
      for await (const m of batch) {
        got = m.info.deliveryCount; // taken, never acknowledged
        break;
      }
      assert.equal(got, delivery);
    }
    // A replica that is up when JetStream gives up (after the second ack_wait).
    let calls = 0;
    const r = new ConsumerRunner(nats, publisher, log, {
      stream: STREAMS.events,
      durable,
      handler: async () => {
        calls++;
      },
    });
    await r.start();
    try {
      const entry = await dlqFor(durable);
      assert.equal(entry.header.get(DLQ_HEADERS.code), 'MAX_DELIVERIES_EXCEEDED');
      assert.match(entry.header.get(DLQ_HEADERS.reason), /never acknowledged/);
      assert.equal(entry.header.get(DLQ_HEADERS.deliveries), '2');
      assert.equal(entry.header.get(DLQ_HEADERS.subject), SUBJECTS.learningStored);
      assert.equal(entry.json<{ id: string }>().id, event.id);
      assert.equal(calls, 0, 'the message is not handled a third time');
    } finally {
      await r.stop();
    }
  });

  it('dead-letters a PermanentError at once', async () => {
    let calls = 0;
    const { runner: r, durable } = await runner(async () => {
      calls++;
      throw new PermanentError('IMPOSSIBLE', 'cannot ever work');
    });
    await publisher.publish(SUBJECTS.learningStored, stored('permanent'));
    const entry = await dlqFor(durable);
    assert.equal(entry.header.get(DLQ_HEADERS.code), 'IMPOSSIBLE');
    assert.equal(calls, 1);
    await r.stop();
  });

  it('keeps a long-running message alive with in-progress acks instead of letting it redeliver', async () => {
    const deliveries: number[] = [];
    const { runner: r } = await runner(
      async (_e, ctx) => {
        deliveries.push(ctx.deliveryCount);
        await sleep(3500); // past the 1 s ack_wait, three times over
      },
      { ack_wait_ms: 1000 },
    );
    await publisher.publish(SUBJECTS.learningStored, stored('slow'));
    await waitFor('handled', () => deliveries.length >= 1);
    await sleep(4500);
    assert.deepEqual(deliveries, [1]);
    await r.stop();
  });

  it('provisioning is idempotent', async () => {
    await provisionTopology(nats, log);
    await provisionTopology(nats, log);
    const names: string[] = [];
    for await (const s of nats.jsm.streams.list()) names.push(s.config.name);
    assert.deepEqual(
      names.sort(),
      [
        STREAMS.dlq,
        STREAMS.captureDlq,
        STREAMS.events,
        STREAMS.captures,
        STREAMS.jobs,
        `OBJ_${ARTIFACTS_BUCKET}`,
      ].sort(),
    );
  });
});
