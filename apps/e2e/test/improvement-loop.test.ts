import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SUBJECTS,
  type LearningInput,
  type ModelDeployedV1,
  type ModelEvaluatedV1,
  type ModelRejectedV1,
  type ModelRolledBackV1,
} from '@genesis/contracts';
import {
  FakeOpenAiLoraServer,
  ServiceProcess,
  TEST_ADMIN_KEY,
  TEST_WRITER_KEY,
  TestStack,
  WorkerProcess,
  request,
  waitFor,
  workerAvailable,
} from '@genesis/testing';

/**
 * The whole loop on CPU with the tiny model, every service a real process: learnings over HTTP →
 * threshold → snapshot → training → evaluation against the champion → deployment to a serving
 * target (a local vLLM-style server) → status; a rejected cycle, a failed deployment, a cycle
 * under SIGKILL of every service, and a rollback.
 *
 * The data (apps/e2e/fixtures, written by apps/trainer-worker/scripts/make_learning_fixtures.py)
 * is learnable: one rule ("compare with None using is / is not") over many names and templates, so
 * a trained model gets held-out items right. Its `== None` half (family A) and `!= None` half
 * (family B) are two lessons: a model that learned only A fails B's held-out items.
 */

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'apps', 'e2e', 'fixtures');
const THRESHOLD = 100; // the spec's default learning threshold
const readJsonl = (file: string): LearningInput[] =>
  readFileSync(join(FIXTURES, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as LearningInput);

const rules = readJsonl('rule-family.jsonl');
const familyA = rules.filter((l) => !/!=/.test(l.context ?? '')).slice(0, THRESHOLD);
const familyB = rules.filter((l) => /!=/.test(l.context ?? '')).slice(0, THRESHOLD);
const noSignal = readJsonl('no-signal.jsonl').slice(0, THRESHOLD);

interface CycleRow {
  id: string;
  status: string;
  trigger: string;
  model_version: string | null;
  score: number | null;
  failure_reason: string | null;
  evaluation_id: string | null;
}

const TERMINAL = ['deployed', 'rejected', 'inconclusive', 'failed'];
const SERVICES = ['gateway', 'learner', 'monitor', 'trainer-bridge', 'evaluator', 'deployer'] as const;

describe(
  'the improvement loop end to end: capture → train → evaluate → deploy → rollback',
  { skip: !workerAvailable() && 'the Python worker environment is missing (npm test creates it)' },
  () => {
    let stack: TestStack;
    let services: Map<string, ServiceProcess>;
    let worker: WorkerProcess;
    let workerEnv: Record<string, string>;
    let vllm: FakeOpenAiLoraServer;
    const adapterDir = mkdtempSync(join(tmpdir(), 'genesis-lora-'));
    const seen = new Set<string>();

    const gateway = () => services.get('gateway')!;
    const get = async (path: string) => {
      const res = await request(gateway().baseUrl, path, { key: TEST_ADMIN_KEY });
      assert.equal(res.status, 200, `${path}: ${res.text}`);
      return res.body as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const status = () => get('/api/v1/genesis/improvement/status');
    const cycles = () => stack.db.query<CycleRow>(`SELECT * FROM improvement_cycles ORDER BY opened_at`);
    const diagnostics = async () =>
      `cycles: ${JSON.stringify(await cycles())}\n` +
      `snapshots: ${JSON.stringify(await stack.db.query(`SELECT cycle_id, train_records, replay_records, eval_records, eval_sha256 FROM dataset_snapshots`))}\n` +
      `learnings: ${JSON.stringify(await stack.db.query(`SELECT status, snapshot_id IS NULL AS fresh, count(*) FROM learnings GROUP BY 1, 2`))}\n` +
      `evaluations: ${JSON.stringify(await stack.db.query(`SELECT id, status, decision, reason, suite, candidate_version, champion_version FROM evaluations`))}\n` +
      `eval jobs: ${JSON.stringify(await stack.db.query(`SELECT role, attempt, status, error FROM jobs WHERE kind = 'evaluation'`))}\n` +
      `worker: ${worker?.logs.slice(-2500)}\n` +
      [...services.values()].map((s) => `${s.app}: ${s.logs.slice(-1500)}`).join('\n');

    /** Waits for the next cycle (not seen before) to end, and returns it. */
    const nextCycleEnds = async (what: string, timeoutMs = 300_000): Promise<CycleRow> => {
      try {
        const cycle = await waitFor(
          what,
          async () => (await cycles()).find((c) => !seen.has(c.id) && TERMINAL.includes(c.status)),
          { timeoutMs, intervalMs: 500 },
        );
        seen.add(cycle.id);
        await stack.outboxDrained();
        return cycle;
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${await diagnostics()}`);
      }
    };
    const post = async (learnings: LearningInput[]) => {
      const res = await request(gateway().baseUrl, '/api/v1/learnings/batch', {
        json: { learnings },
        key: TEST_WRITER_KEY,
      });
      assert.equal(res.status, 202, res.text);
    };
    const eventsOfCycle = async <T>(subject: string, cycleId: string) =>
      (await stack.events<T>(subject)).filter((e) => e.cycle_id === cycleId);

    before(async () => {
      assert.ok(
        familyA.length === THRESHOLD && familyB.length === THRESHOLD && noSignal.length === THRESHOLD,
      );
      // Every process as its own NATS user with only its permissions (deploy/nats/auth.conf): the
      // loop must run without a single permission violation.
      stack = await TestStack.start({ natsUsers: true });
      vllm = await new FakeOpenAiLoraServer().start();
      const env = stack.env({
        GENESIS_LEARNING_THRESHOLD: String(THRESHOLD),
        GENESIS_EVAL_FRACTION: '0.2',
        // The rule family's lesson is "the same line with another name": at the default level
        // (identifiers renamed) every held-out item's renamed twins would be held out with it and
        // the tiny model would have to generalise to unseen line shapes from 80 examples, which it
        // does not (ADR 0016). Layout still keeps spaced and commented copies out of training.
        GENESIS_DECONTAMINATION_LEVEL: 'layout',
        // Measured on this data (ADR 0016): at the default 200 steps the A+B cycle's candidate
        // trained to 0.05 on its held-out items for one split and 0.91 for another; 400 steps gave
        // 0.76 / 1.0 / 0.49 on the three cycles' data, so the lessons no longer hang on the split.
        GENESIS_TRAINING_MAX_STEPS: '400',
        // The tiny model's held-out accuracy (~0.7) is far below the spec's 0.90: with the default,
        // every new learning after a deployment would open a performance cycle on partial data.
        GENESIS_PERFORMANCE_THRESHOLD: '0.5',
        // The gate calls a miss inconclusive when its suite cannot detect the minimum improvement
        // (ADR 0015). These suites hold 20–60 held-out items, which at 80% power detect gains of
        // about +0.11 to +0.31 — never the default +0.01, so with it the no-signal control would
        // (rightly) end inconclusive. The learned rule family gains +0.4 to +0.7, so the loop asks
        // for +0.2: a gain these suites can detect, and one the real lessons clear.
        GENESIS_MIN_IMPROVEMENT: '0.2',
        GENESIS_FAILED_CYCLE_COOLDOWN_MINUTES: '0',
        GENESIS_DEPLOY_TARGET: 'openai-lora',
        GENESIS_OPENAI_LORA_URL: vllm.url,
        GENESIS_OPENAI_LORA_ADAPTER_DIR: adapterDir,
        GENESIS_DEPLOY_ATTEMPTS: '2',
        GENESIS_DEPLOY_RETRY_DELAY_MS: '200',
      });
      const started = await Promise.all(
        SERVICES.map((app) => ServiceProcess.start(app, { ...env, ...stack.natsEnv(app) })),
      );
      services = new Map(started.map((s) => [s.app, s]));
      workerEnv = {
        NATS_URL: stack.nats.url,
        GENESIS_PROGRESS_INTERVAL_S: '0.5',
        ...stack.natsEnv('trainer-worker'),
      };
      worker = new WorkerProcess(workerEnv).start();
    });

    after(async () => {
      await worker?.stop();
      await Promise.all([...(services?.values() ?? [])].map((s) => s.stop()));
      await vllm?.stop();
      await stack?.dispose();
    });

    let v1: string;
    let v2: string;

    it('from an empty system, learnings up to the threshold run a cycle through every phase to model.deployed', async () => {
      const before = await status();
      assert.equal(before['current_model'], null);
      assert.equal(before['training_runs'], 0);
      await post(familyA);
      const cycle = await nextCycleEnds('the first cycle to end');
      assert.equal(cycle.status, 'deployed', await diagnostics());
      assert.equal(cycle.trigger, 'learnings');
      v1 = cycle.model_version!;

      const [evaluated] = await eventsOfCycle<ModelEvaluatedV1>(SUBJECTS.modelEvaluated, cycle.id);
      const e = evaluated!.data;
      console.log(`# first cycle: ${e.reason}`);
      assert.equal(e.decision, 'promote');
      assert.equal(e.champion_version, null, 'the first cycle compares against the base model');
      assert.ok(e.candidate.accuracy! > e.champion.accuracy! + 0.2, e.reason);
      assert.ok(e.test.p_value! < 0.05, e.reason);
      assert.match(
        e.reason,
        /^promote: accuracy .* McNemar exact p=.*; at 80% power \d+ items detect \+0\.\d{4}/,
      );
      assert.equal(e.power?.items, e.items);
      assert.equal(e.power?.target_power, 0.8);
      // Every score names its suite (ADR 0016): the frozen in-domain v1, the regression set and
      // the tiny model's HumanEval subset, on which both models score 0 and the rule does not object.
      assert.equal(e.suite_version, 'in-domain.v1+regression.v1+humaneval-1.0.3@8');
      assert.equal(e.non_inferiority?.items, 28);
      assert.equal(e.non_inferiority?.ok, true, e.reason);
      const deployed = await eventsOfCycle<ModelDeployedV1>(SUBJECTS.modelDeployed, cycle.id);
      assert.equal(deployed.length, 1);
      assert.equal(deployed[0]!.data.model_version, v1);
      assert.equal(deployed[0]!.data.target, 'openai-lora');

      // Every phase was passed, in order, each by the service that owns it.
      const timeline = (await get(`/api/v1/cycles/${cycle.id}`))['timeline'] as { to: string }[];
      assert.deepEqual(
        [...new Set(timeline.map((t) => t.to))],
        [
          'opened',
          'dataset_ready',
          'training',
          'trained',
          'evaluating',
          'evaluated',
          'deploying',
          'deployed',
        ],
      );

      const s = await waitFor('the status to show the deployment', async () => {
        const s = await status();
        return s['current_model'] === v1 ? s : undefined;
      });
      assert.equal(s['training_runs'], 1);
      assert.equal(s['learnings_since_training'], 0);
      assert.equal(s['improvement_score'], e.candidate.accuracy);
      assert.ok(s['last_training_time']);

      // The serving target has the adapter under the version's name; the registry agrees.
      assert.deepEqual([...vllm.loaded.keys()], [v1]);
      assert.deepEqual(vllm.unexpected, []);
      const models = await get('/api/v1/models');
      assert.equal(models['champion'], v1);
      const version = await get(`/api/v1/models/${v1}`);
      assert.equal(version['status'], 'champion');
      assert.equal(
        version['lineage'].learning_ids.length + e.items,
        THRESHOLD,
        'trained + held-out = all learnings',
      );
      assert.equal(version['evaluation'].decision, 'promote');
      const evaluation = await get(`/api/v1/evaluations/${cycle.evaluation_id}`);
      assert.equal(evaluation['items'].length, e.candidate.items, 'per-item results are stored');
    });

    it('a deployment target that fails leaves the champion serving, fails the cycle, and the next cycle can run', async () => {
      vllm.failNext(1_000);
      await post(familyB);
      const failed = await nextCycleEnds('the cycle with a failing target to end');
      vllm.failNext(0);
      assert.equal(failed.status, 'failed', await diagnostics());
      assert.match(
        failed.failure_reason!,
        /^DEPLOYMENT_FAILED: .* keeps serving: openai-lora: POST .*load_lora_adapter → 500/,
      );
      const [evaluated] = await eventsOfCycle<ModelEvaluatedV1>(SUBJECTS.modelEvaluated, failed.id);
      assert.equal(evaluated!.data.decision, 'promote', 'family B is new to the champion');
      assert.equal(evaluated!.data.champion_version, v1);
      assert.equal((await eventsOfCycle(SUBJECTS.modelDeployed, failed.id)).length, 0);
      assert.equal((await eventsOfCycle(SUBJECTS.cycleFailed, failed.id)).length, 1);
      assert.equal((await status())['current_model'], v1);
      assert.equal((await get('/api/v1/models'))['champion'], v1);
      assert.deepEqual([...vllm.loaded.keys()], [v1]);
    });

    it('every service SIGKILLed once at a random moment of a cycle: still exactly one model.deployed or model.rejected', async () => {
      const trigger = await request(gateway().baseUrl, '/api/v1/genesis/improvement/trigger', {
        json: { reason: 'retry after the failed deployment' },
        key: TEST_ADMIN_KEY,
      });
      assert.equal(trigger.status, 202, trigger.text);
      const cycleId = trigger.headers.get('location')!.split('/').pop()!;

      const victims = [...SERVICES, 'trainer-worker'].sort(() => Math.random() - 0.5);
      const killed: string[] = [];
      for (const victim of victims) {
        await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 2500));
        const [phase] = await stack.db.query<{ status: string }>(
          `SELECT status FROM improvement_cycles WHERE id = $1`,
          [cycleId],
        );
        killed.push(`${victim}@${phase!.status}`);
        if (victim === 'trainer-worker') {
          await worker.stop('SIGKILL');
          worker = new WorkerProcess(workerEnv).start();
        } else {
          await services.get(victim)!.restart(); // SIGKILL, then start again
        }
      }
      const cycle = await nextCycleEnds(`the cycle under SIGKILLs (${killed.join(', ')}) to end`, 480_000);
      assert.equal(cycle.id, cycleId);
      assert.ok(['deployed', 'rejected'].includes(cycle.status), `${cycle.status}: ${cycle.failure_reason}`);
      const outcomes = [
        ...(await eventsOfCycle(SUBJECTS.modelDeployed, cycleId)),
        ...(await eventsOfCycle(SUBJECTS.modelRejected, cycleId)),
      ];
      assert.equal(outcomes.length, 1, `killed ${killed.join(', ')}: ${JSON.stringify(outcomes)}`);
      assert.equal((await eventsOfCycle(SUBJECTS.modelEvaluated, cycleId)).length, 1);
      // A+B against the champion that only knows A: a real gain, so a promotion.
      assert.equal(cycle.status, 'deployed', await diagnostics());
      v2 = cycle.model_version!;
      assert.deepEqual([...vllm.loaded.keys()], [v2], 'the previous champion was unloaded');
      const s = await status();
      assert.equal(s['current_model'], v2);
      assert.equal(s['training_runs'], 2);
    });

    it('a cycle on data with no signal is rejected: champion unchanged, the reason names the metric and the test', async () => {
      await post(noSignal);
      const cycle = await nextCycleEnds('the no-signal cycle to end');
      assert.equal(cycle.status, 'rejected', await diagnostics());
      const [rejected] = await eventsOfCycle<ModelRejectedV1>(SUBJECTS.modelRejected, cycle.id);
      assert.match(rejected!.data.reason, /^reject: accuracy .*McNemar exact p=/);
      assert.equal(rejected!.data.outcome, 'rejected');
      // Conclusive, not merely unproven: the champion is significantly better, or the suite could
      // have detected the minimum improvement (else the gate would have said inconclusive).
      const [evaluated] = await eventsOfCycle<ModelEvaluatedV1>(SUBJECTS.modelEvaluated, cycle.id);
      const e = evaluated!.data;
      console.log(`# no-signal cycle: ${e.reason}`);
      assert.ok(e.power!.mde! <= 0.2 || /the champion is significantly better/.test(e.reason), e.reason);
      assert.match(
        e.reason,
        /; accuracy by exact match on all \d+ in-domain items; (.*; )?regression .* on 28 items .*; at 80% power \d+ items detect \+0\.\d{4}; guards ok$/,
      );
      assert.equal(rejected!.data.champion_version, v2);
      assert.equal((await eventsOfCycle(SUBJECTS.modelDeployed, cycle.id)).length, 0);
      const s = await status();
      assert.equal(s['current_model'], v2);
      assert.equal(s['training_runs'], 2);
      assert.equal((await get(`/api/v1/models/${cycle.model_version}`))['status'], 'rejected');
    });

    it('rollback: the previous version is champion again, redeployed, and the alias history shows both moves', async () => {
      const bad = await request(gateway().baseUrl, '/api/v1/models/rollback', {
        json: {},
        key: TEST_ADMIN_KEY,
      });
      assert.equal(bad.status, 422, 'a reason is required');
      const forbidden = await request(gateway().baseUrl, '/api/v1/models/rollback', {
        json: { reason: 'x' },
        key: TEST_WRITER_KEY,
      });
      assert.equal(forbidden.status, 403);

      const res = await request(gateway().baseUrl, '/api/v1/models/rollback', {
        json: { reason: 'users report worse completions' },
        key: TEST_ADMIN_KEY,
      });
      assert.equal(res.status, 202, res.text);
      const statusUrl = (res.body as { status_url: string }).status_url;
      const done = await waitFor('the rollback to finish', async () => {
        const r = await get(statusUrl);
        return r['status'] === 'pending' ? undefined : r;
      });
      assert.equal(done['status'], 'succeeded', JSON.stringify(done));
      assert.equal(done['from_version'], v2);
      assert.equal(done['to_version'], v1);

      const models = await get('/api/v1/models');
      assert.equal(models['champion'], v1);
      const history = models['alias_history'] as {
        from_version: string;
        to_version: string;
        kind: string;
        actor: string;
        reason: string;
      }[];
      assert.deepEqual(
        history.map((h) => [h.kind, h.from_version, h.to_version]),
        [
          ['rollback', v2, v1],
          ['promotion', v1, v2],
          ['promotion', null, v1],
        ],
      );
      assert.equal(history[0]!.reason, 'users report worse completions');
      assert.notEqual(history[0]!.actor, 'deployer');
      await stack.outboxDrained();
      const rolledBack = await stack.events<ModelRolledBackV1>(SUBJECTS.modelRolledBack);
      assert.equal(rolledBack.length, 1);
      assert.equal(rolledBack[0]!.data.to_version, v1);
      assert.ok(vllm.loaded.has(v1), 'the rolled-back version serves again');
      const s = await waitFor('the status to follow the alias', async () => {
        const s = await status();
        return s['current_model'] === v1 ? s : undefined;
      });
      assert.equal(s['training_runs'], 2, 'a rollback is not a training run');

      const again = await request(gateway().baseUrl, '/api/v1/models/rollback', {
        json: { reason: 'twice', version: 'genesis-20000101-000000' },
        key: TEST_ADMIN_KEY,
      });
      const refused = await waitFor('the impossible rollback to be refused', async () => {
        const r = await get((again.body as { status_url: string }).status_url);
        return r['status'] === 'pending' ? undefined : r;
      });
      assert.equal(refused['status'], 'failed');
      assert.match(refused['failure'], /no model version genesis-20000101-000000/);
      assert.equal((await get('/api/v1/models'))['champion'], v1);
    });

    it('the genesis CLI shows the registry and rolls forward again through the real gateway', async () => {
      const cli = (...args: string[]) =>
        promisify(execFile)(
          process.execPath,
          [
            join(__dirname, '..', '..', 'cli', 'main.js'),
            '--url',
            gateway().baseUrl,
            '--api-key',
            TEST_ADMIN_KEY,
            ...args,
          ],
          { timeout: 120_000 },
        );
      const before = JSON.parse((await cli('models', '--json')).stdout) as { champion: string };
      assert.equal(before.champion, v1);
      const shown = await cli('models', 'show', v2);
      assert.match(shown.stdout, new RegExp(v2));
      const rolled = await cli(
        'rollback',
        '--to',
        v2,
        '--reason',
        'v2 was fine after all',
        '--timeout',
        '90s',
      );
      assert.match(rolled.stdout + rolled.stderr, new RegExp(v2));
      assert.equal((await get('/api/v1/models'))['champion'], v2);
    });

    it('ran with one NATS user per process and nats-server refused nothing', () => {
      assert.doesNotMatch(stack.nats.logs, /Permissions Violation/);
    });
  },
);
