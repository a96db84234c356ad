import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { makeEnvelope } from '@genesis/contracts';
import { EventPublisher } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { OutboxRelay, enqueueEvents, type CommittedEvent } from '@genesis/persistence';
import { TestStack, sleep, waitFor } from '@genesis/testing';

const GRACE_MS = 1500;
const log = new Log('test', undefined, 'error');

/** Publish-after-commit with the outbox relay as the fallback (the learner's path). */
describe('outbox: events published right after the commit, the relay as fallback', () => {
  let stack: TestStack;
  let relay: OutboxRelay;

  before(async () => {
    stack = await TestStack.start();
    await stack.client.jsm.streams.add({
      name: 'OUTBOX_TEST',
      subjects: ['outbox.test.ok'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
    });
    relay = new OutboxRelay(stack.db.dataSource, new EventPublisher(stack.client), log, 'outbox-test', {
      graceMs: GRACE_MS,
      pollIntervalMs: 100,
    });
    relay.start();
  });

  after(async () => {
    await relay?.stop();
    await stack?.dispose();
  });

  const write = (subject: string, n: number): Promise<CommittedEvent[]> =>
    stack.db.dataSource.transaction((m) =>
      enqueueEvents(
        m,
        Array.from({ length: n }, (_, i) => ({
          subject,
          envelope: makeEnvelope(
            subject,
            { i, tag: randomUUID() },
            { source: 'outbox-test', modelId: 'genesis' },
          ),
        })),
      ),
    );
  const publishedAt = async (rows: CommittedEvent[]) =>
    (
      await stack.db.query<{ published_at: Date | null; created_at: Date }>(
        `SELECT published_at, created_at FROM outbox WHERE id = ANY($1::bigint[]) ORDER BY id`,
        [rows.map((r) => r.id)],
      )
    ).map((r) => ({ published: r.published_at, created: r.created_at }));
  const streamCount = async (subject: string) =>
    (await stack.client.jsm.streams.info('OUTBOX_TEST', { subjects_filter: subject })).state.subjects?.[
      subject
    ] ?? 0;

  it('publishes committed rows at once, marks them, and a second publish is deduplicated', async () => {
    const rows = await write('outbox.test.ok', 3);
    assert.equal(rows.length, 3);
    assert.deepEqual(
      rows.map((r) => JSON.parse(r.payload).data.i),
      [0, 1, 2],
      'each row carries the payload that was stored',
    );
    await relay.publishCommitted(rows);
    assert.ok(
      (await publishedAt(rows)).every((r) => r.published !== null),
      'marked published',
    );
    assert.equal(await streamCount('outbox.test.ok'), 3);

    await relay.publishCommitted(rows); // e.g. the relay raced the writer: same Nats-Msg-Id
    assert.equal(await streamCount('outbox.test.ok'), 3, 'stored once');
  });

  it('leaves what it could not publish to the relay, which publishes it once the grace has passed', async () => {
    const subject = 'outbox.test.late';
    const rows = await write(subject, 2);
    await relay.publishCommitted(rows); // no stream takes the subject yet: NO_STREAM
    assert.ok(
      (await publishedAt(rows)).every((r) => r.published === null),
      'still pending',
    );

    await stack.client.jsm.streams.update('OUTBOX_TEST', { subjects: ['outbox.test.ok', subject] });
    await sleep(GRACE_MS / 3);
    assert.ok(
      (await publishedAt(rows)).every((r) => r.published === null),
      'the relay leaves fresh rows to their writer',
    );
    await waitFor('the relay publishes the rows', async () =>
      (await publishedAt(rows)).every((r) => r.published !== null),
    );
    for (const { published, created } of await publishedAt(rows)) {
      assert.ok(published!.getTime() - created.getTime() >= GRACE_MS - 50, 'not before the grace');
    }
    assert.equal(await streamCount(subject), 2);
  });
});
