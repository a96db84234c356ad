import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { STREAMS, SUBJECTS, dlqSubject, durableName } from '@genesis/contracts';
import {
  DEAD_LETTER_CONSUMER,
  DLQ_HEADERS,
  EventPublisher,
  NatsClient,
  TOPOLOGY_DEFAULTS,
  provisionTopology,
} from '@genesis/messaging';
import { Log, type LogFields } from '@genesis/observability';
import { TestNatsServer } from '@genesis/testing';

/** Keeps what provisioning reports, to tell letters moved from letters dropped as expired. */
class RecordingLog extends Log {
  readonly infos: { msg: string; fields?: LogFields }[] = [];
  constructor() {
    super('test', undefined, 'error');
  }
  override info(msg: string, fields?: LogFields): void {
    this.infos.push({ msg, fields });
  }
  moves(): LogFields[] {
    return this.infos.filter((i) => i.msg.startsWith('capture dead letters moved')).map((i) => i.fields!);
  }
}

const LEARNER = durableName('learner', SUBJECTS.learningCaptured);
const EVALUATOR = durableName('evaluator', SUBJECTS.modelTrained);
const OLD_SUBJECT = `dlq.${LEARNER}`;

// ADR 0019 gave a capture's dead letters a stream of their own. Provisioning a bus laid out before it
// (GENESIS_DLQ on `dlq.>` holding `dlq.learner-learning-captured`, the monitor's reader filtering
// `dlq.>`) must move those letters, leave every other letter where the monitor reads it, and change
// nothing more when run again.
describe('provisioning moves capture dead letters out of GENESIS_DLQ', () => {
  let server: TestNatsServer;
  let nats: NatsClient;
  let publisher: EventPublisher;
  const quiet = new Log('test', undefined, 'error');

  before(async () => {
    server = await TestNatsServer.start();
    nats = await NatsClient.connect({ url: server.url, name: 'capture-dlq-migration', log: quiet });
    publisher = new EventPublisher(nats);
  });

  after(async () => {
    await nats?.drain();
    await server?.dispose();
  });

  const letter = (subject: string, consumer: string, n: number) =>
    publisher.publishRaw(
      subject,
      new TextEncoder().encode(JSON.stringify({ correction: `[REDACTED:github-pat] #${n}` })),
      `${consumer}:${n}`,
      { [DLQ_HEADERS.code]: 'SCHEMA_INVALID', [DLQ_HEADERS.consumer]: consumer },
    );

  it('re-publishes them as dlq.capture.<consumer> in GENESIS_CAPTURE_DLQ, headers kept, and narrows GENESIS_DLQ', async () => {
    await nats.jsm.streams.add({
      name: STREAMS.dlq,
      subjects: ['dlq.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
    });
    await nats.jsm.consumers.add(STREAMS.dlq, {
      durable_name: DEAD_LETTER_CONSUMER,
      filter_subject: 'dlq.>',
      ack_policy: AckPolicy.Explicit,
    });
    await letter(OLD_SUBJECT, LEARNER, 1);
    await letter(dlqSubject(EVALUATOR), EVALUATOR, 2);
    await letter(OLD_SUBJECT, LEARNER, 3);

    const log = new RecordingLog();
    await provisionTopology(nats, log);
    await provisionTopology(nats, log); // and again: nothing more happens
    assert.deepEqual(
      log.moves().map((f) => [f['moved'], f['dropped_as_expired']]),
      [[2, 0]],
      'moved once, on the first run',
    );

    const dlq = await nats.jsm.streams.info(STREAMS.dlq, { subjects_filter: 'dlq.>' });
    assert.deepEqual(dlq.config.subjects, ['dlq.*']);
    assert.deepEqual(dlq.state.subjects, { [dlqSubject(EVALUATOR)]: 1 }, 'only the cycle path letter stays');
    const reader = await nats.jsm.consumers.info(STREAMS.dlq, DEAD_LETTER_CONSUMER);
    assert.equal(reader.config.filter_subject, 'dlq.*');

    const captureDlq = await nats.jsm.streams.info(STREAMS.captureDlq);
    assert.deepEqual(captureDlq.config.subjects, ['dlq.capture.>']);
    assert.equal(captureDlq.config.max_age, nanos(TOPOLOGY_DEFAULTS.captureDlqMaxAgeMs));
    assert.equal(captureDlq.state.messages, 2);
    for (const [seq, n] of [
      [1, 1],
      [2, 3],
    ] as const) {
      const moved = (await nats.jsm.streams.getMessage(STREAMS.captureDlq, { seq }))!;
      assert.equal(moved.subject, `dlq.capture.${LEARNER}`);
      assert.equal(moved.header.get('Nats-Msg-Id'), `${LEARNER}:${n}`);
      assert.equal(moved.header.get(DLQ_HEADERS.code), 'SCHEMA_INVALID');
      assert.match(moved.string(), new RegExp(`#${n}"`));
    }
  });

  it('drops a left-over letter older than the max_age instead of moving it, and applies a new max_age', async () => {
    // A learner of the old release, during a rolling upgrade, still writes the old subject.
    await letter(OLD_SUBJECT, LEARNER, 4);
    await sleep(1200);
    const log = new RecordingLog();
    await provisionTopology(nats, log, { captureDlqMaxAgeMs: 1000 });
    assert.deepEqual(
      log.moves().map((f) => [f['moved'], f['dropped_as_expired'], f['purged']]),
      [[0, 1, 1]],
    );
    const dlq = await nats.jsm.streams.info(STREAMS.dlq, { subjects_filter: 'dlq.>' });
    assert.equal(dlq.state.subjects?.[OLD_SUBJECT] ?? 0, 0);
    const captureDlq = await nats.jsm.streams.info(STREAMS.captureDlq);
    assert.equal(captureDlq.config.max_age, nanos(1000));
    assert.equal(captureDlq.config.duplicate_window, nanos(1000), 'never longer than max_age');
  });
});
