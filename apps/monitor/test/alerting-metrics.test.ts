import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dlqSubject } from '@genesis/contracts';
import { openCycle, transitionCycle } from '@genesis/cycles';
import { CONSUMER_CONFIGS } from '@genesis/messaging';
import { ServiceProcess, TestStack, request, waitFor } from '@genesis/testing';
import { metricValue } from './helpers';

const MODEL = 'alerting-model';
const OTHER = 'override-model';

/**
 * The monitor's gauges that the alert rules compare (deploy/prometheus/rules): thresholds per
 * model, phase deadlines, the running cycle's time in its phase, and the DLQ depth per consumer,
 * all read at scrape time from Postgres and JetStream.
 */
describe('monitor: the metrics behind the alerts', () => {
  let stack: TestStack;
  let monitor: ServiceProcess;
  const scrape = async () => (await request(monitor.baseUrl, '/metrics')).text;

  before(async () => {
    stack = await TestStack.start();
    monitor = await ServiceProcess.start(
      'monitor',
      stack.env({
        GENESIS_MONITOR_MODELS: `${MODEL},${OTHER}`,
        GENESIS_LEARNING_THRESHOLD: '7',
        GENESIS_TRIGGER_OVERRIDES: JSON.stringify({
          [OTHER]: { learning_threshold: 50, performance_threshold: 0.8 },
        }),
        GENESIS_CYCLE_PHASE_DEADLINES: JSON.stringify({ training: 120 }),
      }),
    );
  });

  after(async () => {
    await monitor?.stop();
    await stack?.dispose();
  });

  it('exports the thresholds per model (overrides included) and the phase deadlines', async () => {
    const text = await scrape();
    assert.equal(metricValue(text, 'genesis_learning_threshold', { model_id: MODEL }), 7);
    assert.equal(metricValue(text, 'genesis_learning_threshold', { model_id: OTHER }), 50);
    assert.equal(metricValue(text, 'genesis_performance_threshold', { model_id: MODEL }), 0.9);
    assert.equal(metricValue(text, 'genesis_performance_threshold', { model_id: OTHER }), 0.8);
    assert.equal(metricValue(text, 'genesis_cycle_phase_deadline_seconds', { status: 'training' }), 7200);
    assert.equal(metricValue(text, 'genesis_cycle_phase_deadline_seconds', { status: 'opened' }), 3600);
    // From 0 before any cycle failed, so the first failure is an increase the alert sees.
    assert.equal(metricValue(text, 'genesis_improvement_cycles_failed_total', { model_id: MODEL }), 0);
  });

  it('counts dead letters per consumer, every provisioned consumer from 0', async () => {
    const before = await scrape();
    for (const { config } of CONSUMER_CONFIGS) {
      assert.equal(
        metricValue(before, 'genesis_dlq_messages', { consumer: config.durable_name }),
        0,
        config.durable_name,
      );
    }
    const consumer = CONSUMER_CONFIGS[0]!.config.durable_name;
    await stack.client.js.publish(dlqSubject(consumer), '{"bad":1}');
    await stack.client.js.publish(dlqSubject(consumer), '{"bad":2}');
    const after = await scrape();
    assert.equal(metricValue(after, 'genesis_dlq_messages', { consumer }), 2);
    assert.equal(
      metricValue(after, 'genesis_dlq_messages', { consumer: CONSUMER_CONFIGS[1]!.config.durable_name }),
      0,
    );
  });

  it("exports the running cycle's time in its phase, and drops it when the cycle ends", async () => {
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
    const opened = await stack.db.dataSource.transaction((m) =>
      openCycle(m, { modelId: MODEL, trigger: 'manual', reason: 'test', counts: {}, now: tenMinutesAgo }),
    );
    assert.ok(opened.opened);
    const age = await waitFor('the cycle age', async () =>
      metricValue(await scrape(), 'genesis_active_cycle_age_seconds', { model_id: MODEL, status: 'opened' }),
    );
    assert.ok(age >= 600 && age < 700, `age ${age}`);

    await stack.db.dataSource.transaction((m) =>
      transitionCycle(m, opened.cycle.id, 'failed', { failure: { code: 'TEST', message: 'test' } }),
    );
    const text = await waitFor('the failed cycle to be counted', async () => {
      const t = await scrape();
      return metricValue(t, 'genesis_improvement_cycles_failed_total', { model_id: MODEL }) === 1 && t;
    });
    assert.equal(metricValue(text, 'genesis_active_cycle_age_seconds', { model_id: MODEL }), undefined);
  });
});
