import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ServiceProcess,
  TEST_ADMIN_KEY,
  TEST_WRITER_KEY,
  TestStack,
  freePort,
  request,
  waitFor,
} from '@genesis/testing';
import { CliProcess, json, runCli, type CliResult } from './cli-process';
import { CHAMPION, FakeRegistry, MODELS, ROLLBACK_ID } from './fake-registry';

const STATUS_FIELDS = [
  'last_training_time',
  'learnings_since_training',
  'current_model',
  'training_runs',
  'improvement_score',
  'last_check_time',
  'should_trigger',
  'trigger_reason',
].sort();

function learningLine(source: string, n: number): string {
  return JSON.stringify({
    kind: 'correction',
    source,
    language: 'python',
    context: `def area_${n}(r):`,
    model_output: '    return 3.14 * r',
    correction: `    return math.pi * r ** 2  # ${source} ${n}`,
  });
}

describe('the genesis CLI against a real gateway and learner', () => {
  let stack: TestStack;
  let gateway: ServiceProcess;
  let learner: ServiceProcess;
  let work: string;
  let env: Record<string, string>;
  const genesis = (args: string[], extra: Record<string, string> = {}, opts: { stdin?: string } = {}) =>
    runCli(args, { ...env, ...extra }, work, opts);
  const spawnGenesis = (args: string[], extra: Record<string, string> = {}) =>
    new CliProcess(args, { ...env, ...extra }, work);
  const stored = async (source: string) =>
    (
      await stack.db.query<{ n: number; accepted: number; contents: number }>(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'accepted')::int AS accepted,
                count(DISTINCT content_hash)::int AS contents
         FROM learnings WHERE source = $1`,
        [source],
      )
    )[0]!;
  const expectExit = (r: CliResult, code: number) =>
    assert.equal(r.code, code, `exit ${r.code} (wanted ${code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);

  before(async () => {
    stack = await TestStack.start();
    const serviceEnv = stack.env({ GENESIS_EVENTS_HEARTBEAT_MS: '1000' });
    [gateway, learner] = await Promise.all([
      ServiceProcess.start('gateway', serviceEnv),
      ServiceProcess.start('learner', serviceEnv),
    ]);
    work = mkdtempSync(join(tmpdir(), 'genesis-cli-'));
    mkdirSync(join(work, 'home'));
    env = {
      GENESIS_URL: gateway.baseUrl,
      GENESIS_API_KEY: TEST_ADMIN_KEY,
      GENESIS_HOME: join(work, 'home'), // no admin.key there unless a test writes one
      GENESIS_PROGRESS_INTERVAL_MS: '0', // a progress line per batch (stderr is not a terminal)
    };
  });

  after(async () => {
    await Promise.all([gateway?.stop(), learner?.stop()]);
    await stack?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe('usage', () => {
    it('prints help with the commands and exit codes, and refuses bad command lines with 2', async () => {
      const help = await genesis(['--help']);
      expectExit(help, 0);
      for (const word of [
        'status',
        'learnings import',
        'cycles',
        'models show',
        'models performance',
        'rollback',
        'events',
        'Exit codes',
      ]) {
        assert.ok(help.stdout.includes(word), word);
      }
      const cmdHelp = await genesis(['learnings', 'import', '--help']);
      expectExit(cmdHelp, 0);
      assert.match(cmdHelp.stdout, /--skip-invalid/);
      expectExit(await genesis([]), 2);
      const unknown = await genesis(['statsu']);
      expectExit(unknown, 2);
      assert.match(unknown.stderr, /unknown command "statsu"/);
      const flag = await genesis(['status', '--bogus']);
      expectExit(flag, 2);
      assert.match(flag.stderr, /--bogus/);
      const group = await genesis(['learnings']);
      expectExit(group, 2);
      assert.match(group.stderr, /add, import/);
    });
  });

  describe('status and errors', () => {
    it('shows the status with the trigger decision; --json is the spec document', async () => {
      const human = await genesis(['status']);
      expectExit(human, 0);
      assert.match(human.stdout, /learnings since training\s+\d+/);
      assert.match(human.stdout, /training runs \(deployed\)\s+0\n/);
      assert.match(human.stdout, /trained candidates\s+none yet/);
      assert.match(human.stdout, /Trigger: no — Thresholds not met/);
      const machine = await genesis(['status', '--json']);
      expectExit(machine, 0);
      assert.deepEqual(Object.keys(json(machine)).sort(), STATUS_FIELDS);
      assert.equal(machine.stderr, '');
    });

    it('exits 4 for an unknown key or a missing scope, naming what is wrong', async () => {
      const bad = await genesis(['status'], { GENESIS_API_KEY: 'not-a-key-0123456789' });
      expectExit(bad, 4);
      assert.match(bad.stderr, /refused the API key from GENESIS_API_KEY/);
      const writer = await genesis(['status', '--api-key', TEST_WRITER_KEY, '--json']);
      expectExit(writer, 4);
      assert.match(writer.stderr, /lacks the "status:read" scope that `genesis status` needs/);
      const error = json<{ error: { status: number; code: string } }>(writer).error;
      assert.equal(error.status, 403);
      assert.equal(error.code, 'FORBIDDEN');
      const none = await genesis(['status'], { GENESIS_API_KEY: '' });
      expectExit(none, 4);
      assert.match(none.stderr, /no API key/);
    });

    it('reads the key npm start writes to $GENESIS_HOME/admin.key', async () => {
      const home = join(work, 'keyed-home');
      mkdirSync(home);
      writeFileSync(join(home, 'admin.key'), `${TEST_ADMIN_KEY}\n`);
      expectExit(await genesis(['status'], { GENESIS_API_KEY: '', GENESIS_HOME: home }), 0);
    });

    it('exits 3 with a hint when the gateway cannot be reached', async () => {
      const url = `http://127.0.0.1:${await freePort()}`;
      const r = await genesis(['status', '--url', url]);
      expectExit(r, 3);
      assert.match(r.stderr, new RegExp(`cannot reach the gateway at ${url}.*npm start`));
      const machine = await genesis(['status', '--json'], { GENESIS_URL: url });
      expectExit(machine, 3);
      assert.equal(json<{ error: { code: string } }>(machine).error.code, 'UNREACHABLE');
    });
  });

  describe('tasks', () => {
    it('adds, lists and cancels a custom task; usage mistakes exit 2 before anything is sent', async () => {
      const added = await genesis([
        'tasks',
        'add',
        '--model-id',
        'cli-tasks',
        '--kind',
        'training',
        '--priority',
        '2.5',
        '--reason',
        'new suite',
      ]);
      expectExit(added, 0);
      const id = /^queued training task ([0-9a-f-]{36}) for cli-tasks at priority 2.5$/m.exec(
        added.stdout,
      )?.[1];
      assert.ok(id, added.stdout);
      const twice = await genesis(['tasks', 'add', '--model-id', 'cli-tasks']);
      expectExit(twice, 1);
      assert.match(
        twice.stderr,
        new RegExp(`TASK_ALREADY_ACTIVE: cli-tasks already has a queued training task: ${id}`),
      );
      const list = await genesis(['tasks', '--model-id', 'cli-tasks']);
      expectExit(list, 0);
      assert.match(list.stdout, new RegExp(`^${id}\\s+cli-tasks\\s+training\\s+queued\\s+2.5\\s`, 'm'));
      for (const [args, message] of [
        [['--priority', ''], /--priority must be a number/],
        [['--priority', '0x10'], /--priority must be a number/],
        [
          ['--target', '[0.9]'],
          /--target must be key=value pairs \(accuracy=0\.8,gain=0\.02\) or a JSON object/,
        ],
        [
          ['--constraints', '{bad'],
          /--constraints must be key=value pairs \(latency_target_ms=200\) or a JSON object/,
        ],
        [['--model', 'cli-tasks'], /Unknown option '--model'; did you mean --model-id\?/],
      ] as const) {
        const r = await genesis(['tasks', 'add', '--kind', 'architecture', ...args]);
        expectExit(r, 2);
        assert.match(r.stderr, message);
      }
      const [{ n }] = await stack.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM improvement_tasks WHERE kind = 'architecture'`,
      );
      assert.equal(n, 0, 'nothing was sent for the usage mistakes');
      const cancelled = await genesis(['tasks', 'cancel', id]);
      expectExit(cancelled, 0);
      assert.match(cancelled.stdout, new RegExp(`^cancelled training task ${id} of cli-tasks$`, 'm'));
      const again = await genesis(['tasks', 'cancel', id]);
      expectExit(again, 1);
      assert.match(
        again.stderr,
        /TASK_NOT_QUEUED: task .* has already ended \(cancelled\); only a queued task can be cancelled/,
      );
    });
  });

  describe('learnings add', () => {
    it('captures a learning, and with --wait reports what the learner did', async () => {
      const r = await genesis([
        'learnings',
        'add',
        '--kind',
        'correction',
        '--correction',
        'return a + b',
        '--json',
      ]);
      expectExit(r, 0);
      const { id } = json<{ id: string }>(r);
      assert.match(id, /^[0-9a-f-]{36}$/);
      const waited = await genesis(
        [
          'learnings',
          'add',
          '--kind',
          'pattern',
          '--source',
          'cli-add-test',
          '--language',
          'python',
          '--context=-',
          '--correction',
          'use pathlib.Path',
          '--wait',
        ],
        {},
        { stdin: 'import os\nos.path.join(a, b)\n' },
      );
      expectExit(waited, 0);
      assert.match(waited.stdout, /captured learning [0-9a-f-]{36}\naccepted/);
      const [row] = await stack.db.query<{ context: string }>(
        `SELECT context FROM learnings WHERE source = 'cli-add-test'`,
      );
      assert.equal(row?.context, 'import os\nos.path.join(a, b)\n', 'the context came from stdin');
    });

    it('refuses an invalid learning with 2 before sending it', async () => {
      const r = await genesis([
        'learnings',
        'add',
        '--kind',
        'nonsense',
        '--correction',
        'x',
        '--source',
        'cli-invalid-add',
      ]);
      expectExit(r, 2);
      assert.match(r.stderr, /\/kind must be equal to one of the allowed values/);
      const missing = await genesis(['learnings', 'add', '--kind', 'correction']);
      expectExit(missing, 2);
      assert.match(missing.stderr, /--correction is required/);
    });
  });

  describe('learnings import', () => {
    it('imports a file in batches and reports a summary', async () => {
      const file = join(work, 'small.jsonl');
      writeFileSync(
        file,
        `${Array.from({ length: 25 }, (_, i) => learningLine('import-small', i)).join('\n')}\n\n`,
      );
      const r = await genesis(['learnings', 'import', 'small.jsonl', '--batch-size', '10', '--json']);
      expectExit(r, 0);
      const summary = json(r);
      assert.equal(summary['sent'], 25);
      assert.equal(summary['batches'], 3);
      assert.equal(summary['resumed_from_line'], null);
      assert.match(r.stderr, /import: 25\/25 \(100%\)/);
      await waitFor('25 stored', async () => (await stored('import-small')).accepted === 25);
      const again = await genesis(['learnings', 'import', 'small.jsonl']);
      expectExit(again, 0);
      assert.match(again.stdout, /already imported/);
    });

    it('--restart sends the file again with new keys and says what the learner does with it', async () => {
      const file = join(work, 'restart.jsonl');
      writeFileSync(
        file,
        `${Array.from({ length: 4 }, (_, i) => learningLine('import-restart', i)).join('\n')}\n`,
      );
      const first = await genesis(['learnings', 'import', 'restart.jsonl', '--json']);
      expectExit(first, 0);
      assert.equal(json(first)['sent'], 4);
      assert.equal(json(first)['restarted'], false);
      await waitFor('4 stored', async () => (await stored('import-restart')).accepted === 4);

      const again = await genesis(['learnings', 'import', 'restart.jsonl', '--restart']);
      expectExit(again, 0);
      assert.match(again.stdout, /^sent 4 learnings from restart\.jsonl in 1 batch\(es\)/m);
      assert.match(again.stdout, /restarted: every line was sent again with new Idempotency-Keys/);
      // Really sent again (not the gateway replaying its first answer): the learner saw every line
      // a second time and recorded it as a duplicate of the content it already holds.
      await waitFor('4 duplicates', async () => (await stored('import-restart')).n === 8);
      assert.deepEqual(await stored('import-restart'), { n: 8, accepted: 4, contents: 4 });
      const [dups] = await stack.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM learnings WHERE source = 'import-restart' AND status = 'duplicate'`,
      );
      assert.equal(dups?.n, 4);
    });

    it('continues after Ctrl-C and after a kill without storing anything twice', async () => {
      const total = 1500;
      const file = join(work, 'big.jsonl');
      writeFileSync(
        file,
        `${Array.from({ length: total }, (_, i) => learningLine('import-resume', i)).join('\n')}\n`,
      );
      const stateFile = `${file}.genesis-import.json`;
      const args = ['learnings', 'import', 'big.jsonl', '--batch-size', '50'];

      const first = spawnGenesis(args);
      await first.until(/batch 2\b/);
      first.kill('SIGINT');
      const interrupted = await first.done;
      expectExit(interrupted, 130);
      assert.match(interrupted.stderr, /interrupted: \d+ of 1500 learnings sent; run the same command again/);
      const afterInterrupt = JSON.parse(readFileSync(stateFile, 'utf8')) as {
        next_line: number;
        learnings_sent: number;
      };
      assert.ok(
        afterInterrupt.learnings_sent >= 100 && afterInterrupt.learnings_sent < total,
        JSON.stringify(afterInterrupt),
      );

      const second = spawnGenesis(args);
      await second.until(new RegExp(`resuming big.jsonl at line ${afterInterrupt.next_line}`));
      await second.until(/batch \d+\b/);
      second.kill('SIGKILL'); // a crash: possibly mid-request
      const killed = await second.done;
      assert.equal(killed.signal, 'SIGKILL');
      const afterKill = JSON.parse(readFileSync(stateFile, 'utf8')) as {
        next_line: number;
        learnings_sent: number;
      };
      assert.ok(afterKill.learnings_sent > afterInterrupt.learnings_sent);

      const third = await genesis([...args, '--json']);
      expectExit(third, 0);
      const summary = json(third);
      assert.equal(summary['sent'], total);
      assert.equal(summary['resumed_from_line'], afterKill.next_line);
      await waitFor(`${total} stored`, async () => (await stored('import-resume')).n >= total);
      assert.deepEqual(
        await stored('import-resume'),
        { n: total, accepted: total, contents: total },
        'no duplicates',
      );
    });

    it('lists invalid lines with their numbers and sends nothing, unless --skip-invalid', async () => {
      const file = join(work, 'mixed.jsonl');
      const lines = [
        learningLine('import-mixed', 1),
        learningLine('import-mixed', 2),
        '{"kind": "correction", "source": ',
        learningLine('import-mixed', 4),
        JSON.stringify({ kind: 'correction', source: 'import-mixed' }),
        '',
        learningLine('import-mixed', 7),
      ];
      writeFileSync(file, `${lines.join('\n')}\n`);
      const refused = await genesis(['learnings', 'import', 'mixed.jsonl', '--json']);
      expectExit(refused, 2);
      assert.match(refused.stderr, /line 3: not valid JSON/);
      assert.match(refused.stderr, /line 5: \/correction is required/);
      const error = json<{ error: { code: string; invalid_lines: { line: number }[] } }>(refused).error;
      assert.equal(error.code, 'INVALID_LINES');
      assert.deepEqual(
        error.invalid_lines.map((l) => l.line),
        [3, 5],
      );
      assert.equal(existsSync(`${file}.genesis-import.json`), false, 'no import began');

      const dry = await genesis(['learnings', 'import', 'mixed.jsonl', '--dry-run']);
      expectExit(dry, 2);
      assert.match(dry.stdout, /4 valid learning\(s\), 2 invalid line\(s\), 1 blank/);

      const skipped = await genesis(['learnings', 'import', 'mixed.jsonl', '--skip-invalid', '--json']);
      expectExit(skipped, 0);
      assert.equal(json(skipped)['sent'], 4);
      assert.equal(json(skipped)['invalid_skipped'], 2);
      await waitFor('4 stored', async () => (await stored('import-mixed')).accepted === 4);
    });

    it('refuses a missing file with 2', async () => {
      const r = await genesis(['learnings', 'import', 'nope.jsonl']);
      expectExit(r, 2);
      assert.match(r.stderr, /cannot read nope.jsonl: ENOENT/);
    });
  });

  describe('trigger and cycles', () => {
    let cycleId: string;

    it('triggers a cycle, and refuses a second one while it runs (exit 1)', async () => {
      const r = await genesis(['trigger', '--reason', 'cli test', '--json']);
      expectExit(r, 0);
      const body = json<{
        success: boolean;
        message: string;
        triggered_at: string;
        error: null;
        cycle_id: string;
      }>(r);
      assert.equal(body.success, true);
      assert.equal(body.error, null);
      assert.match(body.cycle_id, /^[0-9a-f-]{36}$/);
      cycleId = body.cycle_id;
      const again = await genesis(['trigger']);
      expectExit(again, 1);
      assert.match(again.stderr, new RegExp(`already running.*${cycleId}`));
      assert.match(again.stderr, new RegExp(`genesis cycles ${cycleId} --watch`));
    });

    it('lists cycles and shows one with its training progress', async () => {
      const list = await genesis(['cycles']);
      expectExit(list, 0);
      assert.match(list.stdout, new RegExp(`${cycleId}\\s+genesis\\s+opened\\s+manual`));
      assert.deepEqual(
        json<{ items: { id: string }[] }>(await genesis(['cycles', '--json'])).items.map((c) => c.id),
        [cycleId],
      );
      await stack.db.query(
        `UPDATE improvement_cycles SET status = 'training', dataset_ready_at = now(), training_at = now(), phase_entered_at = now() WHERE id = $1`,
        [cycleId],
      );
      await stack.db.query(
        `INSERT INTO jobs (id, kind, cycle_id, model_id, attempt, max_attempts, status, progress, deadline)
         VALUES (gen_random_uuid(), 'training', $1, 'genesis', 1, 3, 'running', $2, now() + interval '1 hour')`,
        [
          cycleId,
          JSON.stringify({
            step: 40,
            total_steps: 100,
            loss: 1.2345,
            tokens_per_second: 456,
            eta_seconds: 12,
          }),
        ],
      );
      const one = await genesis(['cycles', 'latest']);
      expectExit(one, 0);
      assert.match(one.stdout, new RegExp(`Cycle ${cycleId} \\(model genesis\\)`));
      assert.match(one.stdout, /status\s+training/);
      assert.match(
        one.stdout,
        /attempt 1 running\s+\[#+\.+\] 40\/100 steps\s+loss 1\.2345\s+456 tok\/s\s+ETA 12s/,
      );
      assert.match(one.stdout, /manual — Manual trigger by [0-9a-f]+: cli test/);
      const machine = json<{ id: string; training: unknown[]; timeline: unknown[] }>(
        await genesis(['cycles', cycleId, '--json']),
      );
      assert.equal(machine.id, cycleId);
      assert.equal(machine.training.length, 1);
      const missing = await genesis(['cycles', '00000000-0000-4000-8000-000000000000']);
      expectExit(missing, 1);
      assert.match(missing.stderr, /CYCLE_NOT_FOUND/);
    });

    it('--watch follows a cycle until it ends (exit 1 when it failed) or gives up at --timeout (exit 5)', async () => {
      const timedOut = await genesis([
        'cycles',
        cycleId,
        '--watch',
        '--interval',
        '200ms',
        '--timeout',
        '1s',
      ]);
      expectExit(timedOut, 5);
      assert.match(timedOut.stderr, /still training/);

      const watch = spawnGenesis(['cycles', cycleId, '--watch', '--interval', '200ms', '--json']);
      await watch.until(/"status":"training"/, 'stdout');
      await stack.db.query(
        `UPDATE improvement_cycles SET status = 'failed', failed_at = now(), failed_phase = 'training',
           failure_reason = 'worker gone', phase_entered_at = now() WHERE id = $1`,
        [cycleId],
      );
      const r = await watch.done;
      expectExit(r, 1);
      const docs = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { status: string });
      assert.deepEqual(
        docs.map((d) => d.status),
        ['training', 'failed'],
        'one document per change',
      );
    });
  });

  describe('events', () => {
    it('--follow prints the learning.stored of a learning posted meanwhile, never its raw capture', async () => {
      const follow = spawnGenesis(['events', '--follow', '--subject', 'learning.>', '--json']);
      try {
        await follow.until(/following learning\.>/);
        const res = await request(gateway.baseUrl, '/api/v1/learnings', {
          key: TEST_ADMIN_KEY,
          json: JSON.parse(learningLine('events-follow', 1)),
        });
        assert.equal(res.status, 202);
        const id = res.body['id'] as string;
        await follow.until(new RegExp(`"type":"learning.stored".*"learning_id":"${id}"`), 'stdout');
        const envelopes = follow.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { type: string; data: { learning_id: string } });
        assert.deepEqual(
          envelopes.filter((e) => e.data.learning_id === id).map((e) => e.type),
          ['learning.stored'],
          'learning.captured (raw text) is not on GENESIS_EVENTS',
        );
      } finally {
        follow.kill('SIGINT');
      }
      const r = await follow.done;
      expectExit(r, 0);
    });

    it('--follow survives a gateway restart and continues without losing or repeating events', async () => {
      const post = async (n: number) => {
        const res = await request(gateway.baseUrl, '/api/v1/learnings', {
          key: TEST_ADMIN_KEY,
          json: JSON.parse(learningLine('events-restart', n)),
        });
        assert.equal(res.status, 202, res.text);
        return res.body['id'] as string;
      };
      const follow = spawnGenesis(['events', '--follow', '--subject', 'learning.>', '--json']);
      try {
        await follow.until(/following learning\.>/);
        const before = await post(1);
        await follow.until(new RegExp(`"type":"learning.stored".*"learning_id":"${before}"`), 'stdout');
        await gateway.restart();
        const afterRestart = await post(2);
        await follow.until(
          new RegExp(`"type":"learning.stored".*"learning_id":"${afterRestart}"`),
          'stdout',
          30_000,
        );
        assert.match(follow.stderr, /event stream lost .*reconnecting/);
        const ids = follow.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { id: string });
        assert.equal(new Set(ids.map((e) => e.id)).size, ids.length, 'no event printed twice');
      } finally {
        follow.kill('SIGINT');
      }
      expectExit(await follow.done, 0);
    });

    it('without --follow prints the recent events one per line and exits', async () => {
      const r = await genesis(['events', '--since', '10m', '--subject', 'cycle.*']);
      expectExit(r, 0);
      assert.match(
        r.stdout,
        /^\S+Z {2}cycle\.requested\s+genesis\/[0-9a-f]{8}\s+requested by [0-9a-f]+: Manual trigger/m,
      );
    });

    it('passes a bad filter on as the gateway refused it', async () => {
      const r = await genesis(['events', '--subject', 'model.deploy']);
      expectExit(r, 1);
      assert.match(r.stderr, /INVALID_QUERY: unknown event subject "model.deploy".*model.deployed/);
    });
  });

  describe('models and status against the real registry', () => {
    const MODEL = 'realrepo';
    const NEW = 'realrepo-20261122-090000';
    const LEGACY = 'genesis-20261120-080000'; // named before version names carried their model
    const snapshotOf = new Map<string, string>();

    before(async () => {
      const learning = randomUUID();
      for (const [version, at] of [
        [LEGACY, '2026-11-20T08:00:00Z'],
        ['realrepo-20261121-190000', '2026-11-21T19:00:00Z'],
        [NEW, '2026-11-22T09:00:00Z'],
      ] as const) {
        const cycle = randomUUID();
        const snapshot = randomUUID();
        snapshotOf.set(version, snapshot);
        await stack.db.query(
          `INSERT INTO improvement_cycles (id, model_id, status, trigger, reason, opened_at, phase_entered_at, model_version)
           VALUES ($1, $2, 'rejected', 'manual', 'cli test', $3, $3, $4)`,
          [cycle, MODEL, at, version],
        );
        await stack.db.query(
          `INSERT INTO dataset_snapshots (id, model_id, cycle_id, sha256, bucket, key, eval_key, eval_sha256,
             train_records, replay_records, eval_records, learning_ids, eval_learning_ids, cutoff)
           VALUES ($1, $2, $3, $4, 'genesis-artifacts', 'k', 'ek', $4, 120, 3, 20, $5, '{}', $6)`,
          [snapshot, MODEL, cycle, 'ab'.repeat(32), [learning, randomUUID()], at],
        );
        await stack.db.query(
          `INSERT INTO model_versions (version, model_id, cycle_id, base_model, snapshot_id, status, artifact, metrics, created_at)
           VALUES ($1, $2, $3, 'tiny', $4, 'rejected', '{}', '{"accuracy": 0.5}', $5)`,
          [version, MODEL, cycle, snapshot, at],
        );
      }
    });

    it('models show prints the snapshot the API nests under lineage.snapshot', async () => {
      const r = await genesis(['models', 'show', NEW]);
      expectExit(r, 0);
      assert.match(r.stdout, new RegExp(`^Model ${NEW}`));
      assert.match(r.stdout, /model\s+realrepo/);
      assert.match(
        r.stdout,
        new RegExp(
          `snapshot\\s+${snapshotOf.get(NEW)} \\(sha256 abababababab…, 120 train \\+ 3 replay records, 20 held out\\)`,
        ),
      );
      assert.match(r.stdout, /learnings\s+2 \(/);
      const legacy = await genesis(['models', 'show', LEGACY]);
      expectExit(legacy, 0);
      assert.match(legacy.stdout, /model\s+realrepo/, 'a name from before the model prefix stays readable');
      const list = await genesis(['models', '--model-id', MODEL]);
      expectExit(list, 0);
      assert.match(list.stdout, new RegExp(`^\\s+${NEW}\\s+rejected`, 'm'));
    });

    it('models families and models performance read the registry', async () => {
      const families = await genesis(['models', 'families']);
      expectExit(families, 0);
      assert.match(
        families.stdout,
        /^genesis\s+\(GENESIS_BASE_MODEL\)\s+lora-adapter\s+defaults\s+default$/m,
      );
      await stack.db.query(
        `INSERT INTO model_families (id, base_model, registered_by) VALUES ($1, 'tiny', 'test') ON CONFLICT DO NOTHING`,
        [MODEL],
      );
      const perf = await genesis(['models', 'performance', MODEL]);
      expectExit(perf, 0);
      assert.match(perf.stdout, /^Performance of realrepo\n {2}no champion yet/);
      // Versions written straight into model_versions (not through the registry) have no history.
      assert.match(perf.stdout, /History\n {2}nothing recorded yet/);
      const machine = json(await genesis(['models', 'performance', MODEL, '--json']));
      assert.equal(machine['champion'], null);
      assert.deepEqual(machine['history'], []);
      expectExit(await genesis(['models', 'performance', 'nobody-registered']), 1);
    });

    it('status tells deployments from trained candidates', async () => {
      const r = await genesis(['status', '--model-id', MODEL]);
      expectExit(r, 0);
      assert.match(r.stdout, /training runs \(deployed\)\s+0\n/);
      assert.match(r.stdout, /last training \(deployed\)\s+never/);
      assert.match(
        r.stdout,
        new RegExp(`trained candidates\\s+3 \\(3 rejected\\), latest ${NEW} 2026-11-22`),
      );
      const machine = json(await genesis(['status', '--model-id', MODEL, '--json']));
      assert.deepEqual(Object.keys(machine).sort(), STATUS_FIELDS, 'the spec document is unchanged');
      assert.equal(machine['training_runs'], 0);
    });

    it('shows escape sequences stored in a family as text, never sends them to the terminal', async () => {
      // Clear the screen, set the window title, overwrite the line, reverse the text that follows.
      const hostile = 'tiny\u001b[2J\u001b]0;pwned\u0007\rX\u202eedoc';
      await stack.db.query(
        `INSERT INTO model_families (id, base_model, registered_by) VALUES ('escaped', $1, 'test')`,
        [hostile],
      );
      const r = await genesis(['models', 'families']);
      expectExit(r, 0);
      assert.ok(
        // eslint-disable-next-line no-control-regex -- no control character may reach the terminal
        !/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/.test(r.stdout),
        JSON.stringify(r.stdout),
      );
      assert.match(r.stdout, /^escaped\s+tiny\\u001b\[2J\\u001b\]0;pwned\\u0007\\u000dX\\u202eedoc\s/m);
      // --json keeps the value exactly (JSON escapes it).
      const machine = json(await genesis(['models', 'families', '--json']));
      const row = (machine['items'] as { id: string; base_model: string }[]).find((f) => f.id === 'escaped');
      assert.equal(row?.base_model, hostile);
    });
  });
});

describe('models and rollback (against a stand-in for the registry endpoints)', () => {
  let fake: FakeRegistry;
  let work: string;
  const genesis = (args: string[]) =>
    runCli(args, { GENESIS_URL: fake.url, GENESIS_API_KEY: TEST_ADMIN_KEY, GENESIS_HOME: work }, work);
  const expectExit = (r: CliResult, code: number) =>
    assert.equal(r.code, code, `exit ${r.code} (wanted ${code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);

  before(async () => {
    fake = await new FakeRegistry().start();
    work = mkdtempSync(join(tmpdir(), 'genesis-cli-models-'));
  });
  after(async () => {
    await fake?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('lists the versions with the champion marked; --json is the document', async () => {
    fake.reset();
    const r = await genesis(['models', '--model-id', 'genesis']);
    expectExit(r, 0);
    assert.match(
      r.stdout,
      /^\*\s+genesis-20261121-190000\s+champion\s+0\.93\s+genesis-20261101-100000\s+0196f0b1/m,
    );
    assert.match(r.stdout, /^\s+genesis-20261101-100000\s+retired\s+0\.9\s+—/m);
    assert.match(r.stdout, /champion: genesis-20261121-190000/);
    assert.equal(fake.requests[0]?.url, '/api/v1/models?model_id=genesis');
    assert.equal(fake.requests[0]?.authorization, `Bearer ${TEST_ADMIN_KEY}`);
    assert.deepEqual(JSON.parse((await genesis(['models', '--json'])).stdout), MODELS);
  });

  it('shows one version with lineage, evaluation and alias history', async () => {
    fake.reset();
    const r = await genesis(['models', 'show', CHAMPION.version]);
    expectExit(r, 0);
    assert.match(r.stdout, /^Model genesis-20261121-190000/);
    assert.match(r.stdout, /learnings\s+2 \(0196f0b1, 0196f0b1\)/);
    assert.match(r.stdout, /decision\s+promote — accuracy \+0\.03/);
    assert.match(r.stdout, /metrics\s+accuracy 0\.9 → 0\.93/);
    assert.match(
      r.stdout,
      /promotion\s+champion genesis-20261101-100000 → genesis-20261121-190000 by deployer/,
    );
    const missing = await genesis(['models', 'show', 'genesis-19990101-000000']);
    expectExit(missing, 1);
  });

  it('rollback posts the request and polls until it succeeded', async () => {
    const done = {
      request_id: ROLLBACK_ID,
      from_version: CHAMPION.version,
      to_version: 'genesis-20261101-100000',
      reason: 'bad outputs',
    };
    fake.reset([
      { ...done, status: 'pending' },
      { ...done, status: 'pending' },
      { ...done, status: 'succeeded' },
    ]);
    const r = await genesis(['rollback', '--reason', 'bad outputs', '--to', 'genesis-20261101-100000']);
    expectExit(r, 0);
    assert.match(r.stdout, /rolled back genesis: genesis-20261121-190000 → genesis-20261101-100000/);
    const post = fake.requests.find((q) => q.method === 'POST');
    assert.deepEqual(post?.body, { reason: 'bad outputs', version: 'genesis-20261101-100000' });
    assert.equal(fake.requests.filter((q) => q.url.startsWith('/api/v1/models/rollbacks/')).length, 3);
  });

  it('rollback exits 1 with the reason when it failed, 5 when it stays pending past --timeout', async () => {
    const base = { request_id: ROLLBACK_ID, from_version: CHAMPION.version, to_version: null, reason: 'r' };
    fake.reset([
      {
        ...base,
        status: 'failed',
        failure: { code: 'NO_PREVIOUS_CHAMPION', message: 'nothing to go back to' },
      },
    ]);
    const failed = await genesis(['rollback', '--reason', 'r', '--json']);
    expectExit(failed, 1);
    assert.match(failed.stderr, /rollback of genesis failed: NO_PREVIOUS_CHAMPION: nothing to go back to/);
    assert.equal(json<{ error: { code: string } }>(failed).error.code, 'ROLLBACK_FAILED');

    fake.reset([{ ...base, status: 'pending' }]);
    const slow = await genesis(['rollback', '--reason', 'r', '--timeout', '1500ms']);
    expectExit(slow, 5);
    assert.match(
      slow.stderr,
      new RegExp(`still pending after 1500ms; check /api/v1/models/rollbacks/${ROLLBACK_ID}`),
    );
  });

  it('rollback needs --reason (2, nothing sent) and an admin key (4)', async () => {
    fake.reset();
    expectExit(await genesis(['rollback']), 2);
    assert.equal(fake.requests.length, 0);
    fake.refuse = {
      status: 403,
      problem: {
        status: 403,
        code: 'FORBIDDEN',
        title: 'Missing scope',
        detail: 'this API key lacks the "admin" scope',
      },
    };
    const r = await genesis(['rollback', '--reason', 'r']);
    expectExit(r, 4);
    assert.match(r.stderr, /lacks the "admin" scope that `genesis rollback` needs/);
  });
});
