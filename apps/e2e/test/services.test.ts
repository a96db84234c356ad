import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ServiceProcess, TestStack, request } from '@genesis/testing';

const APPS = ['gateway', 'learner', 'monitor', 'trainer-bridge', 'evaluator', 'deployer'] as const;
const REPO = join(__dirname, '..', '..', '..', '..');

describe('every service', () => {
  let stack: TestStack;
  const running: ServiceProcess[] = [];

  before(async () => {
    stack = await TestStack.start();
  });

  after(async () => {
    await Promise.all(running.map((s) => s.stop()));
    await stack?.dispose();
  });

  it('boots, connects, and serves /health/live, /health/ready and /metrics', async () => {
    running.push(...(await Promise.all(APPS.map((app) => ServiceProcess.start(app, stack.env())))));
    for (const service of running) {
      const live = await request(service.baseUrl, '/health/live');
      assert.equal(live.status, 200, `${service.app} live`);
      const ready = await request(service.baseUrl, '/health/ready');
      assert.equal(ready.status, 200, `${service.app} ready: ${ready.text}`);
      const checks = Object.keys(ready.body['info'] as object);
      assert.ok(
        checks.includes('nats') && checks.includes('postgres'),
        `${service.app} checks ${checks.join(',')}`,
      );
      const metrics = await request(service.baseUrl, '/metrics');
      assert.match(metrics.text, new RegExp(`process_resident_memory_bytes\\{service="${service.app}"\\}`));
    }
  });

  it('reports not-ready when a dependency is gone, and ready again when it is back', async () => {
    const monitor = running.find((s) => s.app === 'monitor')!;
    await stack.nats.stop();
    const down = await request(monitor.baseUrl, '/health/ready');
    assert.equal(down.status, 503);
    assert.equal((down.body['error'] as Record<string, { status: string }>)['nats']?.status, 'down');
    assert.equal((await request(monitor.baseUrl, '/health/live')).status, 200, 'liveness stays trivial');
    await stack.nats.restart();
    await monitor.ready();
  });

  for (const app of APPS) {
    it(`${app} exits with one clear line on a bad setting`, () => {
      const result = spawnSync(process.execPath, [join(REPO, 'dist', 'apps', app, 'main.js')], {
        env: {
          PATH: process.env['PATH'],
          NATS_URL: 'http://wrong',
          GENESIS_GATEWAY_PORT: 'x',
          GENESIS_API_KEYS: '[]',
        },
        encoding: 'utf8',
        timeout: 15_000,
      });
      assert.equal(result.status, 1);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(
        lines[0]!,
        new RegExp(`^\\[genesis:${app}\\] invalid configuration: .*NATS_URL must use nats`),
      );
    });
  }
});
