import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { nanos } from '@nats-io/transport-node';
import { DLQ_HEADERS, EventPublisher } from '@genesis/messaging';
import { STREAMS, SUBJECTS, dlqSubject, durableName, makeEnvelope } from '@genesis/contracts';
import { ServiceProcess, TestStack, capturedLearning, request, waitFor } from '@genesis/testing';

const CONSUMER = durableName('learner', SUBJECTS.learningCaptured);
/** Not the 7-day default: the stream must take the operator's GENESIS_CAPTURE_DLQ_MAX_AGE. */
const CAPTURE_DLQ_MAX_AGE_MS = 2 * 3600 * 1000;

describe('learner: messages that can never succeed', () => {
  let stack: TestStack;
  let learner: ServiceProcess;
  let monitor: ServiceProcess;
  let publisher: EventPublisher;

  before(async () => {
    stack = await TestStack.start({ topology: { captureDlqMaxAgeMs: CAPTURE_DLQ_MAX_AGE_MS } });
    learner = await ServiceProcess.start('learner', stack.env());
    monitor = await ServiceProcess.start('monitor', stack.env());
    publisher = new EventPublisher(stack.client);
  });

  after(async () => {
    await monitor?.stop();
    await learner?.stop();
    await stack?.dispose();
  });

  // A capture's dead letters have a stream of their own with a short max_age (ADR 0019).
  const dlqEntry = (seq: number) =>
    waitFor(`DLQ entry #${seq}`, async () =>
      stack.client.jsm.streams.getMessage(STREAMS.captureDlq, { seq }).catch(() => undefined),
    );

  it('sends schema-invalid, unstorable and non-UTF-8 learning.captured to GENESIS_CAPTURE_DLQ with the reason and keeps consuming', async () => {
    const bad = makeEnvelope(
      SUBJECTS.learningCaptured,
      {
        learning_id: randomUUID(),
        kind: 'opinion',
        model_id: 'genesis',
        source: 't',
        received_at: new Date().toISOString(),
      },
      { source: 'test', modelId: 'genesis' },
    );
    const ack = await publisher.publish(SUBJECTS.learningCaptured, bad);
    await publisher.publishRaw(
      SUBJECTS.learningCaptured,
      new TextEncoder().encode('{not json'),
      randomUUID(),
    );

    // The learner handles the two concurrently: their dead letters may land in either order.
    const letters = [await dlqEntry(1), await dlqEntry(2)];
    const withCode = (code: string) => {
      const letter = letters.find((m) => m.header.get(DLQ_HEADERS.code) === code);
      assert.ok(letter, `a dead letter with code ${code}`);
      return letter;
    };
    const first = withCode('SCHEMA_INVALID');
    assert.equal(first.subject, dlqSubject(CONSUMER, STREAMS.captures));
    assert.equal(first.subject, `dlq.capture.${CONSUMER}`);
    assert.equal(first.header.get(DLQ_HEADERS.code), 'SCHEMA_INVALID');
    assert.match(first.header.get(DLQ_HEADERS.reason), /\/data\/kind/);
    assert.match(first.header.get(DLQ_HEADERS.reason), /\/data\/correction/);
    assert.equal(first.header.get(DLQ_HEADERS.sequence), String(ack.seq));
    assert.equal(first.header.get(DLQ_HEADERS.subject), SUBJECTS.learningCaptured);
    assert.deepEqual(first.json(), bad, 'the original message is kept as it was (it held no secret)');
    const second = withCode('MALFORMED_JSON');
    // Bytes that are not JSON cannot be cleaned of secrets: withheld, only their size and hash kept.
    assert.match(second.string(), /"withheld":"payload withheld: not UTF-8 JSON/);
    assert.ok(!second.string().includes('{not json'));

    // Text that cannot be stored, and bytes that are not UTF-8, are refused too, not retried or mangled.
    const nul = capturedLearning({ source: 'bus', correction: 'x = 1\u0000' });
    await publisher.publish(SUBJECTS.learningCaptured, nul);
    const third = await dlqEntry(3);
    assert.equal(third.header.get(DLQ_HEADERS.code), 'SCHEMA_INVALID');
    assert.match(third.header.get(DLQ_HEADERS.reason), /\/data\/correction contains U\+0000/);
    const notUtf8 = new TextEncoder().encode(
      JSON.stringify({ ...nul, id: randomUUID() }).replace('\\u0000', '~'),
    );
    notUtf8[notUtf8.indexOf(0x7e)] = 0xff;
    await publisher.publishRaw(SUBJECTS.learningCaptured, notUtf8, randomUUID());
    const fourth = await dlqEntry(4);
    assert.equal(fourth.header.get(DLQ_HEADERS.code), 'INVALID_UTF8');

    // A refused capture that holds secrets (here in the text and as a metadata key, which a schema
    // issue names in its path) reaches the DLQ cleaned: payload, reason header and log alike.
    const token = ['gh', 'p_', 'Q7dLm2VxR9sKp4TzW8nYb3HcF6jAe1UoG5iZ'].join('');
    const leaky = capturedLearning({
      source: 'bus',
      correction: `token = "${token}"\u0000`,
      metadata: { [token]: { nested: 'objects are refused' } } as never,
    });
    await publisher.publish(SUBJECTS.learningCaptured, leaky);
    const fifth = await dlqEntry(5);
    assert.equal(fifth.header.get(DLQ_HEADERS.code), 'SCHEMA_INVALID');
    assert.ok(!fifth.string().includes(token), 'no secret in the dead letter');
    assert.ok(!fifth.header.get(DLQ_HEADERS.reason).includes(token), 'no secret in its reason');
    assert.match(fifth.string(), /REDACTED/);
    assert.equal((fifth.json() as { id: string }).id, leaky.id, 'still the same event');
    assert.ok(!learner.logs.includes(token), 'no secret in the learner log');

    // The consumer goes on: a valid message behind them is stored.
    const good = capturedLearning({ source: 'bus', correction: 'x = 1' });
    await publisher.publish(SUBJECTS.learningCaptured, good);
    await waitFor('the valid learning stored', async () => {
      const rows = await stack.db.query(`SELECT 1 FROM learnings WHERE id = $1`, [good.data.learning_id]);
      return rows.length === 1;
    });
    // Acked once its events are out too, a moment after the row is visible.
    await waitFor('every message acked: nothing left hanging', async () => {
      const info = await stack.client.jsm.consumers.info(STREAMS.captures, CONSUMER);
      return info.num_ack_pending === 0 && info.num_pending === 0;
    });
    const captureDlq = await stack.client.jsm.streams.info(STREAMS.captureDlq);
    assert.equal(captureDlq.state.messages, 5);
    assert.equal(captureDlq.config.max_age, nanos(CAPTURE_DLQ_MAX_AGE_MS), 'the configured max_age');
    // None of them in the 30-day GENESIS_DLQ.
    assert.equal((await stack.client.jsm.streams.info(STREAMS.dlq)).state.messages, 0);
    // The monitor still counts them, and its metric says where they are.
    const series = await waitFor('the monitor to count the capture dead letters', async () => {
      const text = (await request(monitor.baseUrl, '/metrics')).text;
      const line = text
        .split('\n')
        .find((l) => l.startsWith('genesis_dlq_messages{') && l.includes(`consumer="${CONSUMER}"`));
      return line?.endsWith(' 5') ? line : undefined;
    });
    assert.match(series, new RegExp(`stream="${STREAMS.captureDlq}"`));
    assert.match(series, new RegExp(`subject="dlq\\.capture\\.${CONSUMER}"`));
    // The captures stream is a work queue: acked and dead-lettered captures alike are gone from it.
    assert.equal((await stack.client.jsm.streams.info(STREAMS.captures)).state.messages, 0);
    const stored = await stack.db.query(`SELECT 1 FROM learnings WHERE id = $1`, [nul.data.learning_id]);
    assert.equal(stored.length, 0, 'nothing of the refused messages was stored');
  });
});
