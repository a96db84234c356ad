import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AckPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { STREAMS, SUBJECTS, durableName } from '@genesis/contracts';
import { EventPublisher, NatsClient, provisionTopology } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { TestNatsServer, capturedLearning } from '@genesis/testing';

const log = new Log('test', undefined, 'error');
const LEARNER = durableName('learner', SUBJECTS.learningCaptured);

// ADR 0012 moved learning.captured out of GENESIS_EVENTS. Provisioning an existing bus (the layout
// before it: captures in GENESIS_EVENTS under `learning.>`, the learner's durable there) must keep the
// captures the learner has not stored yet and drop the raw ones it has.
describe('provisioning moves raw captures out of GENESIS_EVENTS', () => {
  let server: TestNatsServer;
  let nats: NatsClient;

  before(async () => {
    server = await TestNatsServer.start();
    nats = await NatsClient.connect({ url: server.url, name: 'migration-test', log });
  });

  after(async () => {
    await nats?.drain();
    await server?.dispose();
  });

  it('re-publishes the unacked captures to GENESIS_CAPTURES and purges every capture from GENESIS_EVENTS', async () => {
    await nats.jsm.streams.add({
      name: STREAMS.events,
      subjects: ['learning.>', 'model.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
    });
    await nats.jsm.consumers.add(STREAMS.events, {
      durable_name: LEARNER,
      filter_subject: SUBJECTS.learningCaptured,
      ack_policy: AckPolicy.Explicit,
    });
    const publisher = new EventPublisher(nats);
    const sent = [1, 2, 3].map((n) => capturedLearning({ correction: `x = ${n}` }));
    for (const event of sent) await publisher.publish(SUBJECTS.learningCaptured, event);
    // The old learner stored the first one.
    const old = await nats.js.consumers.get(STREAMS.events, LEARNER);
    const first = await old.next({ expires: 2000 });
    assert.ok(first);
    assert.equal(await first.ackAck(), true);

    await provisionTopology(nats, log);
    await provisionTopology(nats, log); // and again: nothing more happens

    const events = await nats.jsm.streams.info(STREAMS.events, {
      subjects_filter: SUBJECTS.learningCaptured,
    });
    assert.deepEqual(events.config.subjects.includes('learning.>'), false);
    assert.equal(events.state.subjects?.[SUBJECTS.learningCaptured] ?? 0, 0, 'no raw capture left in events');
    const captures = await nats.jsm.streams.info(STREAMS.captures);
    assert.equal(captures.config.retention, RetentionPolicy.Workqueue);
    assert.equal(captures.state.messages, 2, 'the two captures the learner had not acked');
    const moved = [1, 2].map(async (seq) =>
      (await nats.jsm.streams.getMessage(STREAMS.captures, { seq }))!.json(),
    );
    assert.deepEqual(await Promise.all(moved), sent.slice(1));
    assert.ok(await nats.jsm.consumers.info(STREAMS.captures, LEARNER));
  });
});
