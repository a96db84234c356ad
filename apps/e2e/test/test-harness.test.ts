import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { once } from 'node:events';
import { TestStack, dropDatabase, portOpen, reapAtExit, stopChild, waitFor } from '@genesis/testing';

/**
 * The test harness must not hang the run when a test goes wrong: a stack whose database cannot be
 * dropped still stops its nats-server, a child left running dies with the test process, a child
 * that ignores SIGTERM is killed, and DROP DATABASE waits out an autovacuum worker (which a
 * non-superuser cannot terminate).
 */
describe('test harness: a failed clean-up does not leave processes behind', () => {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('TestStack.dispose stops nats-server even when dropping the database fails, then rethrows', async () => {
    const stack = await TestStack.start();
    const db = stack.db;
    const dropForReal = db.dispose.bind(db);
    db.dispose = () => Promise.reject(new Error('drop failed'));
    try {
      assert.ok(await portOpen(stack.nats.port));
      await assert.rejects(stack.dispose(), /drop failed/);
      assert.equal(await portOpen(stack.nats.port), false, 'nats-server still listens');
    } finally {
      await dropForReal();
    }
  });

  it('kills a child started through reapAtExit when the test process exits without stopping it', async () => {
    const children = join(__dirname, '..', '..', '..', 'libs', 'testing', 'src', 'children.js');
    const script = `
      const { spawn } = require('node:child_process');
      const { reapAtExit } = require(${JSON.stringify(children)});
      const child = reapAtExit(spawn('sleep', ['300'], { stdio: 'ignore' }));
      console.log(child.pid);
      setTimeout(() => process.exit(3), 100);`;
    const run = await promisify(execFile)(process.execPath, ['-e', script]).catch(
      (err: { code?: number; stdout: string }) => err,
    );
    assert.equal((run as { code?: number }).code, 3);
    const pid = Number(run.stdout.trim());
    assert.ok(pid > 0, `no pid printed: ${run.stdout}`);
    await waitFor(`sleep (pid ${pid}) to be gone`, () => !alive(pid), { timeoutMs: 5_000 });
  });

  it('stopChild escalates to SIGKILL when a child ignores SIGTERM, with a warning', async () => {
    const stubborn = `process.on('SIGTERM', () => console.log('ignored')); console.log('up'); setInterval(() => {}, 1000);`;
    const child = reapAtExit(
      spawn(process.execPath, ['-e', stubborn], { stdio: ['ignore', 'pipe', 'inherit'] }),
    );
    await once(child.stdout!, 'data');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      await stopChild(child, 'stubborn', 'SIGTERM', 300);
    } finally {
      process.off('warning', onWarning);
    }
    assert.equal(child.signalCode, 'SIGKILL');
    await waitFor('the warning', () => warnings.length > 0, { timeoutMs: 2_000 });
    assert.match(warnings[0]!, /^stubborn \(pid \d+\) still runs 300 ms after SIGTERM: SIGKILL$/);
  });

  it('dropDatabase retries while an autovacuum worker holds the database, and only then', async () => {
    const refusal = (code: string) => Object.assign(new Error(`refused ${code}`), { code });
    const admin = (codes: string[]) => {
      const sql: string[] = [];
      return {
        sql,
        query: async (text: string) => {
          sql.push(text);
          const code = codes.shift();
          if (code) throw refusal(code);
          return { rows: [] };
        },
      };
    };
    const held = admin(['42501', '55006', '42501']);
    await dropDatabase(held as never, 'genesis_test_x', { retryMs: 1 });
    assert.deepEqual(held.sql, Array(4).fill('DROP DATABASE IF EXISTS genesis_test_x WITH (FORCE)'));

    const denied = admin(['3D000']);
    await assert.rejects(dropDatabase(denied as never, 'x', { retryMs: 1 }), /refused 3D000/);
    assert.equal(denied.sql.length, 1);

    const forever = admin(Array(1000).fill('42501'));
    await assert.rejects(dropDatabase(forever as never, 'x', { timeoutMs: 50, retryMs: 5 }), /refused 42501/);
    assert.ok(forever.sql.length > 1 && forever.sql.length < 1000);
  });
});
