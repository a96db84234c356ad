import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestStack, WorkerProcess, waitFor, workerAvailable } from '@genesis/testing';
import { readConfig } from '@genesis/config';
import { WorkerFleet, readWorkerHeartbeatMs } from '@genesis/jobs';

const INTERVAL_S = 0.3;

/**
 * The fleet as the job scheduler sees it (ADR 0023): a real Python worker process sends
 * workers.heartbeat on core NATS; WorkerFleet keeps its latest one, counts its free slots per
 * kind, and forgets it three intervals after it stops.
 */
describe(
  'WorkerFleet against a real worker',
  { skip: !workerAvailable() && 'the Python worker environment is missing (npm test creates it)' },
  () => {
    let stack: TestStack;
    let worker: WorkerProcess;
    let fleet: WorkerFleet;

    before(async () => {
      stack = await TestStack.start();
      fleet = new WorkerFleet(INTERVAL_S * 1000).start(stack.client.connection);
    });

    after(async () => {
      fleet?.stop();
      await worker?.stop();
      await stack?.dispose();
    });

    it('knows a live worker by its heartbeat, with its kinds and free slots', async () => {
      worker = new WorkerProcess({
        NATS_URL: stack.nats.url,
        GENESIS_WORKER_ID: 'fleet-test-worker',
        GENESIS_WORKER_HEARTBEAT_S: String(INTERVAL_S),
      }).start();
      const seen = await waitFor(
        'a heartbeat of the worker',
        async () => fleet.live().find((w) => w.heartbeat.worker_id === 'fleet-test-worker'),
        { timeoutMs: 60_000, intervalMs: 100 },
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nworker: ${worker.logs.slice(-2000)}`);
      });
      assert.deepEqual(seen.heartbeat.kinds, ['training', 'evaluation', 'architecture']);
      assert.equal(seen.heartbeat.slots_total, 1);
      assert.equal(seen.slotsFree, 1);
      assert.ok(seen.heartbeat.memory_used_fraction > 0 && seen.heartbeat.memory_used_fraction <= 1);
      assert.equal(seen.heartbeat.gpu_memory_used_fraction, null, 'no GPU here');
      assert.equal(fleet.freeSlots('training'), 1);
      assert.equal(fleet.freeSlots('architecture'), 1);
      assert.equal(fleet.freeSlots('distillation'), 0, 'no worker pulls that kind');
    });

    it('forgets a worker silent for three intervals', async () => {
      await worker.stop();
      const stoppedAt = Date.now();
      await waitFor('the worker gone', async () => fleet.live().length === 0, {
        timeoutMs: 10_000,
        intervalMs: 50,
      });
      assert.ok(Date.now() - stoppedAt >= 2 * INTERVAL_S * 1000, 'not before its silence is long enough');
    });

    it("reads the interval from GENESIS_WORKER_HEARTBEAT_S, with the worker's bounds", () => {
      assert.equal(readConfig(readWorkerHeartbeatMs, {}), 5000);
      assert.equal(readConfig(readWorkerHeartbeatMs, { GENESIS_WORKER_HEARTBEAT_S: '0.5' }), 500);
      assert.throws(
        () => readConfig(readWorkerHeartbeatMs, { GENESIS_WORKER_HEARTBEAT_S: '0' }),
        /GENESIS_WORKER_HEARTBEAT_S/,
      );
    });

    it('ignores a heartbeat that breaks the contract, keeping what it knew', () => {
      const local = new WorkerFleet(1000);
      const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
      const good = {
        worker_id: 'w1',
        host: 'h',
        kinds: ['training'],
        slots_total: 2,
        slots_busy: 1,
        memory_used_fraction: 0.5,
        gpu_memory_used_fraction: 0.5,
        sent_at: new Date().toISOString(),
      };
      assert.equal(local.receive(encode(good))?.slotsFree, 1);
      assert.equal(local.receive(encode({ ...good, memory_used_fraction: 2 })), undefined);
      assert.equal(local.receive(new TextEncoder().encode('not json')), undefined);
      assert.equal(local.freeSlots('training'), 1);
      const later = new Date(Date.now() + 3_001);
      assert.equal(local.live(later).length, 0, 'gone after three silent intervals');
    });
  },
);
