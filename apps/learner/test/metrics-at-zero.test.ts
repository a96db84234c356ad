import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SUBJECTS } from '@genesis/contracts';
import { EventPublisher } from '@genesis/messaging';
import { ServiceProcess, TestStack, capturedLearning, request, waitFor } from '@genesis/testing';

/** The value of one series in a /metrics text, undefined when the series does not exist. */
function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const STATUSES = ['accepted', 'duplicate', 'quarantined', 'already-stored'];

/**
 * A counter series born with its first event hides that event from rate()/increase(). The
 * learner's per-model counters exist at 0 for the default model and every registered model
 * from boot, and for a new model from its first learning on (its other outcomes at 0).
 */
describe('learner: per-model counters exist at 0 before their first event', () => {
  let stack: TestStack;
  let learner: ServiceProcess;
  const scrape = async () => (await request(learner.baseUrl, '/metrics')).text;

  before(async () => {
    stack = await TestStack.start();
    // A model the registry knows (a registered family, ADR 0022) before the learner starts.
    await stack.db.query(`INSERT INTO model_families (id, registered_by) VALUES ('seeded-model', 'test')`);
    learner = await ServiceProcess.start('learner', stack.env());
  });

  after(async () => {
    await learner?.stop();
    await stack?.dispose();
  });

  it('exports every outcome of the default model and of the registered models at 0 at boot', async () => {
    const text = await scrape();
    for (const model of ['genesis', 'seeded-model']) {
      for (const status of STATUSES)
        assert.equal(
          value(text, 'genesis_learnings_stored_total', { model_id: model, status }),
          0,
          `${model} ${status}`,
        );
      assert.equal(value(text, 'genesis_learnings_redactions_total', { model_id: model }), 0, model);
    }
  });

  it("gives a new model's other outcomes their series at 0 with its first learning", async () => {
    const publisher = new EventPublisher(stack.client);
    assert.equal(
      value(await scrape(), 'genesis_learnings_stored_total', { model_id: 'fresh-model' }),
      undefined,
    );
    await publisher.publish(
      SUBJECTS.learningCaptured,
      capturedLearning({ model_id: 'fresh-model', correction: 'y = 2' }),
    );
    const text = await waitFor('the first learning of fresh-model counted', async () => {
      const t = await scrape();
      return value(t, 'genesis_learnings_stored_total', { model_id: 'fresh-model', status: 'accepted' }) === 1
        ? t
        : undefined;
    });
    for (const status of ['duplicate', 'quarantined', 'already-stored'])
      assert.equal(
        value(text, 'genesis_learnings_stored_total', { model_id: 'fresh-model', status }),
        0,
        status,
      );
  });
});
