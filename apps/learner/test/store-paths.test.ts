import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventPublisher } from '@genesis/messaging';
import { SUBJECTS, type LearningRejectedV1, type LearningStoredV1 } from '@genesis/contracts';
import { ServiceProcess, TestStack, capturedLearning, waitFor } from '@genesis/testing';

// A GitHub token alone: redacted, nothing is left of the correction → quarantined.
const TOKEN = ['ghp_', 'A1b2C3d4E5f6G7h8I9j0', 'K1l2M3n4O5p6Q7r8'].join('');

const captured = (correction: string, learningId?: string) =>
  capturedLearning({ source: 'paths', correction, ...(learningId ? { learning_id: learningId } : {}) });

/**
 * The learner stores a batch in one statement when every learning in it is new, and sorts out the
 * rest (ids already stored, content already accepted) in a transaction. One burst that lands in
 * one micro-batch exercises both, and each learning must end the same as if it had come alone.
 */
describe('learner: one batch with new, repeated, duplicate and quarantined learnings', () => {
  let stack: TestStack;
  let learner: ServiceProcess;
  let publisher: EventPublisher;

  before(async () => {
    stack = await TestStack.start();
    // A long batch wait, so the burst below is one micro-batch.
    learner = await ServiceProcess.start('learner', stack.env({ GENESIS_LEARNER_BATCH_WAIT_MS: '500' }));
    publisher = new EventPublisher(stack.client);
  });

  after(async () => {
    await learner?.stop();
    await stack?.dispose();
  });

  const row = (id: string) =>
    stack.db
      .query<{
        status: string;
        duplicate_of: string | null;
        correction: string | null;
        quarantine_reason: string | null;
      }>(`SELECT status, duplicate_of, correction, quarantine_reason FROM learnings WHERE id = $1`, [id])
      .then((rows) => rows[0]);

  it('stores each as it would alone, with exactly one event each, published', async () => {
    const earlier = captured('use pathlib.Path.read_text() instead of open().read()');
    await publisher.publish(SUBJECTS.learningCaptured, earlier);
    await waitFor(
      'the earlier learning stored',
      async () => (await row(earlier.data.learning_id)) !== undefined,
    );

    const fresh = captured('prefer f-strings over str.format()');
    const sameContent = captured('prefer f-strings over str.format()');
    const redelivered = captured('prefer f-strings over str.format()', fresh.data.learning_id);
    const quarantined = captured(TOKEN);
    const knownContent = captured('use pathlib.Path.read_text() instead of open().read()');
    const burst = [fresh, sameContent, redelivered, quarantined, knownContent];
    await Promise.all(burst.map((e) => publisher.publish(SUBJECTS.learningCaptured, e)));

    const ids = [fresh, sameContent, quarantined, knownContent].map((e) => e.data.learning_id);
    await waitFor('every learning of the burst stored', async () => {
      const [{ n }] = await stack.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM learnings WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      return n === ids.length;
    });
    assert.deepEqual(await row(fresh.data.learning_id), {
      status: 'accepted',
      duplicate_of: null,
      correction: 'prefer f-strings over str.format()',
      quarantine_reason: null,
    });
    assert.deepEqual(await row(sameContent.data.learning_id), {
      status: 'duplicate',
      duplicate_of: fresh.data.learning_id,
      correction: null,
      quarantine_reason: null,
    });
    const q = await row(quarantined.data.learning_id);
    assert.equal(q?.status, 'quarantined');
    assert.equal(q?.correction, null, 'nothing of the uncleanable text is kept');
    assert.match(q?.quarantine_reason ?? '', /^UNCLEANABLE_SECRET/);
    assert.deepEqual(await row(knownContent.data.learning_id), {
      status: 'duplicate',
      duplicate_of: earlier.data.learning_id,
      correction: null,
      quarantine_reason: null,
    });

    await stack.outboxDrained();
    const storedEvents = await stack.events<LearningStoredV1>(SUBJECTS.learningStored);
    const rejected = await stack.events<LearningRejectedV1>(SUBJECTS.learningRejected);
    const eventsFor = (id: string) =>
      [...storedEvents, ...rejected].filter((e) => e.data.learning_id === id).map((e) => e.type);
    assert.deepEqual(eventsFor(fresh.data.learning_id), [SUBJECTS.learningStored], 'one event, not two');
    assert.deepEqual(eventsFor(sameContent.data.learning_id), [SUBJECTS.learningRejected]);
    assert.deepEqual(eventsFor(quarantined.data.learning_id), [SUBJECTS.learningRejected]);
    assert.deepEqual(eventsFor(knownContent.data.learning_id), [SUBJECTS.learningRejected]);
    const reasons = new Map(rejected.map((e) => [e.data.learning_id, e.data]));
    assert.equal(reasons.get(sameContent.data.learning_id)?.status, 'duplicate');
    assert.equal(reasons.get(sameContent.data.learning_id)?.duplicate_of, fresh.data.learning_id);
    assert.equal(reasons.get(quarantined.data.learning_id)?.status, 'quarantined');
    assert.equal(reasons.get(knownContent.data.learning_id)?.duplicate_of, earlier.data.learning_id);
    const [{ n }] = await stack.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE (payload::jsonb -> 'data' ->> 'learning_id') = ANY($1::text[])`,
      [ids],
    );
    assert.equal(n, ids.length, 'one outbox row per learning');
  });

  it("keeps the tests a learning carries (an error_fix's failing test), redacted like every field", async () => {
    const tests = `assert parse("1") == 1\n# token ${TOKEN}`;
    const fix = capturedLearning({
      source: 'paths',
      kind: 'error_fix',
      correction: 'def parse(s):\n    return int(s)',
      tests,
    });
    await publisher.publish(SUBJECTS.learningCaptured, fix);
    const stored = await waitFor('the error_fix stored', async () => {
      const [r] = await stack.db.query<{ status: string; tests: string | null }>(
        `SELECT status, tests FROM learnings WHERE id = $1`,
        [fix.data.learning_id],
      );
      return r;
    });
    assert.equal(stored.status, 'accepted');
    assert.match(stored.tests!, /^assert parse\("1"\) == 1\n# token /);
    assert.ok(!stored.tests!.includes(TOKEN), 'the secret in the tests was redacted');
  });
});
