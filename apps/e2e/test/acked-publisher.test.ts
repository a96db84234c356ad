import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { Log } from '@genesis/observability';
import { TestNatsServer } from '@genesis/testing';
import { AckedPublisher, NatsClient, PublishError } from '@genesis/messaging';

const log = new Log('test', undefined, 'error');
const encoder = new TextEncoder();

describe('AckedPublisher against a real JetStream', () => {
  let server: TestNatsServer;
  let nats: NatsClient;

  before(async () => {
    server = await TestNatsServer.start();
    nats = await NatsClient.connect({ url: server.url, name: 'acked-publisher-test', log });
    await nats.jsm.streams.add({
      name: 'ACKED_TEST',
      subjects: ['acked.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: 60_000_000_000,
    });
  });

  after(async () => {
    await nats?.drain();
    await server?.dispose();
  });

  it('resolves every publish of a burst with its own stream sequence, in order, and stores each once', async () => {
    const acks = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        nats.publisher.publish('acked.burst', encoder.encode(`m${i}`), { 'Nats-Msg-Id': `burst-${i}` }),
      ),
    );
    const seqs = acks.map((a) => a.seq);
    assert.equal(new Set(seqs).size, 500);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'acks arrive in publish order',
    );
    assert.ok(acks.every((a) => a.stream === 'ACKED_TEST' && !a.duplicate));
    const last = await nats.jsm.streams.getMessage('ACKED_TEST', { last_by_subj: 'acked.burst' });
    assert.equal(new TextDecoder().decode(last!.data), 'm499');
  });

  it('honours Nats-Msg-Id: a republished id is acked as a duplicate and stored once', async () => {
    const first = await nats.publisher.publish('acked.dup', encoder.encode('once'), {
      'Nats-Msg-Id': 'dup-1',
    });
    const again = await nats.publisher.publish('acked.dup', encoder.encode('once'), {
      'Nats-Msg-Id': 'dup-1',
    });
    assert.equal(first.duplicate, false);
    assert.equal(again.duplicate, true);
    assert.equal(again.seq, first.seq);
    const info = await nats.jsm.streams.info('ACKED_TEST', { subjects_filter: 'acked.dup' });
    assert.equal(info.state.subjects?.['acked.dup'], 1);
  });

  it('carries the headers it is given', async () => {
    const ack = await nats.publisher.publish('acked.headers', encoder.encode('h'), {
      'Nats-Msg-Id': 'headers-1',
      'Genesis-Correlation-Id': 'corr-42',
    });
    const stored = await nats.jsm.streams.getMessage('ACKED_TEST', { seq: ack.seq });
    assert.equal(stored!.header.get('Genesis-Correlation-Id'), 'corr-42');
  });

  it('rejects a subject no stream stores, with a clear error, without waiting for the timeout', async () => {
    const started = Date.now();
    await assert.rejects(
      nats.publisher.publish('nowhere.at.all', encoder.encode('x'), { 'Nats-Msg-Id': 'n-1' }),
      (err: unknown) =>
        err instanceof PublishError && err.code === 'NO_STREAM' && /nowhere\.at\.all/.test(err.message),
    );
    assert.ok(Date.now() - started < 2000);
  });

  it('rejects with TIMEOUT when something answers the subject but never acks, and keeps working after', async () => {
    const silent = nats.connection.subscribe('silent.subject', { callback: () => undefined });
    const publisher = new AckedPublisher(nats.connection, '_INBOX', 300);
    try {
      await assert.rejects(
        publisher.publish('silent.subject', encoder.encode('x'), { 'Nats-Msg-Id': 's-1' }),
        (err: unknown) => err instanceof PublishError && err.code === 'TIMEOUT',
      );
      const ack = await publisher.publish('acked.after', encoder.encode('y'), { 'Nats-Msg-Id': 'after-1' });
      assert.equal(ack.stream, 'ACKED_TEST');
    } finally {
      silent.unsubscribe();
      publisher.close();
    }
  });

  it('rejects what is in flight when closed, and refuses new publishes', async () => {
    const publisher = new AckedPublisher(nats.connection, '_INBOX', 5000);
    const silent = nats.connection.subscribe('silent.close', { callback: () => undefined });
    const inflight = publisher.publish('silent.close', encoder.encode('x'), { 'Nats-Msg-Id': 'c-1' });
    await new Promise((r) => setTimeout(r, 50));
    publisher.close();
    silent.unsubscribe();
    await assert.rejects(inflight, (err: unknown) => err instanceof PublishError && err.code === 'CLOSED');
    await assert.rejects(
      publisher.publish('acked.closed', encoder.encode('x'), { 'Nats-Msg-Id': 'c-2' }),
      (err: unknown) => err instanceof PublishError && err.code === 'CLOSED',
    );
  });
});
