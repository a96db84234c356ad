import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Objm } from '@nats-io/obj';
import { SUBJECTS, makeEnvelope, type EventEnvelope, type TrainingCompletedV1 } from '@genesis/contracts';
import { ARTIFACTS_BUCKET, ArtifactStore, EventPublisher } from '@genesis/messaging';
import {
  ServiceProcess,
  TEST_ADMIN_KEY,
  TEST_WRITER_KEY,
  TestStack,
  reapAtExit,
  request,
  waitFor,
} from '@genesis/testing';

// Rescan and forget (ADR 0017) against the real stack: gateway, learner, monitor and trainer-bridge
// processes, NATS JetStream with its Object Store, Postgres. A value the current rules miss is stored,
// trained on (snapshot + a registered model version), then a rule is added and a rescan — killed
// half-way and resumed — removes it from the rows and from every object in the store, and taints the
// model. Then a learning is forgotten on request.

const REPO = join(__dirname, '..', '..', '..', '..');
const CLI_MAIN = join(REPO, 'dist', 'apps', 'cli', 'main.js');
const FILLER = 3000;
const EXTRA_RULES = JSON.stringify([{ id: 'acme-token', pattern: 'ACME-[A-Z0-9]{24}' }]);

const upper = (n: number) =>
  Array.from(randomBytes(n), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[b % 36]).join('');
/** A credential of a made-up vendor: no rule of the maintained scanner knows its format. */
const SECRET = `ACME-${upper(24)}`;

interface Row {
  id: string;
  status: string;
  context: string | null;
  correction: string | null;
  metadata: Record<string, unknown>;
}

function cli(args: string[], env: Record<string, string>, timeoutMs: number) {
  const child = reapAtExit(
    spawn(process.execPath, [CLI_MAIN, ...args], {
      cwd: REPO,
      env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { done, output: () => ({ stdout, stderr }) };
}

describe('rescan and forget: a rule added later reaches rows, snapshots and models', () => {
  let stack: TestStack;
  let env: Record<string, string>;
  let gateway: ServiceProcess;
  let learner: ServiceProcess;
  let others: ServiceProcess[];
  const ids: Record<string, string> = {};
  let version: string;
  let snapshotId: string;
  let trainIdsBefore: string[];
  /** The text of the learning that will be forgotten (unique to it). */
  let forgetText: string;
  const plainById = new Map<string, Record<string, unknown>>();

  // Every text column of every learning.
  const rows = () =>
    stack.db.query<Row>(
      `SELECT id, status, source, language, context, model_output, correction, produced_by, metadata FROM learnings`,
    );
  const objectStoreMessagesHolding = async (text: string): Promise<number> => {
    // Every message still in the bucket's stream (chunks and metadata), read raw: what a purge left.
    const stream = `OBJ_${ARTIFACTS_BUCKET}`;
    const { state } = await stack.client.jsm.streams.info(stream);
    let holding = 0;
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const msg = await stack.client.jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (msg && Buffer.from(msg.data).toString('utf8').includes(text)) holding++;
    }
    return holding;
  };
  const snapshotText = async (key: string) => {
    const bytes = await (await new Objm(stack.client.js).open(ARTIFACTS_BUCKET)).getBlob(key);
    return bytes ? Buffer.from(bytes).toString('utf8') : null;
  };
  const jobDone = (id: string) =>
    waitFor(
      `job ${id} completed`,
      async () => {
        const [job] = await stack.db.query<{ status: string }>(
          `SELECT status FROM learning_rescans WHERE id = $1`,
          [id],
        );
        return job?.status === 'completed' ? job : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );

  before(async () => {
    stack = await TestStack.start();
    env = stack.env({
      GENESIS_RESCAN_BATCH_SIZE: '100',
      GENESIS_RESCAN_PAUSE_MS: '100',
      GENESIS_FAILED_CYCLE_COOLDOWN_MINUTES: '0',
    });
    [gateway, learner, ...others] = await Promise.all(
      ['gateway', 'learner', 'monitor', 'trainer-bridge'].map((app) => ServiceProcess.start(app, env)),
    );
  });

  after(async () => {
    await Promise.all([gateway, learner, ...(others ?? [])].map((s) => s?.stop()));
    await stack?.dispose();
  });

  it('stores the value the current rules miss, snapshots it and registers a model trained on it', async () => {
    const learning = (n: number, extra: Record<string, unknown>) => ({
      kind: 'correction',
      source: 'rescan-test',
      language: 'python',
      context: `def handler_${n}(event):`,
      model_output: `    return event`,
      correction: `    return event.body  # ${n}`,
      ...extra,
    });
    const named: Record<string, Record<string, unknown>> = {
      inContext: learning(1, { context: `client = Acme("${SECRET}")\ndef fetch_1():` }),
      inCorrection: learning(2, { correction: `    return Acme("${SECRET}").get()` }),
      inOutput: learning(3, { model_output: `    headers = {"X-Acme": "${SECRET}"}` }),
      inMetadata: learning(4, { metadata: { ticket: SECRET, reviewed: true } }),
      onlySecret: learning(5, { correction: SECRET }),
    };
    const plain = Array.from({ length: 20 }, (_, i) =>
      learning(100 + i, {
        correction: `    return sorted(items, key=lambda item: item.${upper(10).toLowerCase()})`,
      }),
    );
    const res = await request<{ ids: string[] }>(gateway.baseUrl, '/api/v1/learnings/batch', {
      json: { learnings: [...Object.values(named), ...plain] },
      key: TEST_WRITER_KEY,
    });
    assert.equal(res.status, 202, res.text);
    Object.keys(named).forEach((name, i) => (ids[name] = res.body.ids[i]!));
    plain.forEach((p, i) => plainById.set(res.body.ids[Object.keys(named).length + i]!, p));
    await waitFor('the learnings stored', async () => (await rows()).length === 25, { timeoutMs: 30_000 });

    const stored = await rows();
    const raw = stored.filter((r) => JSON.stringify(r).includes(SECRET));
    assert.equal(raw.length, 5, 'the maintained rules miss the value: stored raw in five learnings');

    const trigger = await request(gateway.baseUrl, '/api/v1/genesis/improvement/trigger', {
      json: { reason: 'rescan test' },
      key: TEST_ADMIN_KEY,
    });
    assert.equal(trigger.status, 202, trigger.text);
    const job = await waitFor(
      'the training job queued',
      async () =>
        (
          await stack.db.query<{ job_id: string; cycle_id: string }>(
            `SELECT id AS job_id, cycle_id FROM jobs WHERE kind = 'training' AND status = 'queued'`,
          )
        )[0],
      { timeoutMs: 30_000 },
    );
    const [snapshot] = await stack.db.query<{ id: string; sha256: string; learning_ids: string[] }>(
      `SELECT id, sha256, learning_ids FROM dataset_snapshots WHERE cycle_id = $1`,
      [job.cycle_id],
    );
    snapshotId = snapshot!.id;
    trainIdsBefore = snapshot!.learning_ids;
    // The learning to forget: a plain one among the training records (not the held-out slice), and
    // the same content posted again, a duplicate pointing at it.
    const [toForget, payload] = [...plainById].find(([id]) => trainIdsBefore.includes(id))!;
    ids['toForget'] = toForget;
    forgetText = (payload['correction'] as string).trim();
    const dup = await request<{ id: string }>(gateway.baseUrl, '/api/v1/learnings', {
      json: payload,
      key: TEST_WRITER_KEY,
    });
    ids['duplicate'] = dup.body.id;
    await waitFor('the duplicate stored', async () => (await rows()).some((r) => r.status === 'duplicate'));

    // The worker's report, as the Python worker sends it: the trainer-bridge registers the version.
    const fixture = JSON.parse(
      readFileSync(join(REPO, 'libs', 'contracts', 'fixtures', 'training.completed.valid.json'), 'utf8'),
    ) as EventEnvelope<TrainingCompletedV1>;
    const data: TrainingCompletedV1 = {
      ...fixture.data,
      job_id: job.job_id,
      dataset_sha256: snapshot!.sha256,
    };
    await new EventPublisher(stack.client).publish(
      SUBJECTS.trainingCompleted,
      makeEnvelope(SUBJECTS.trainingCompleted, data, {
        source: 'test',
        modelId: 'genesis',
        cycleId: job.cycle_id,
      }),
    );
    const registered = await waitFor(
      'the model version registered',
      async () =>
        (
          await stack.db.query<{ version: string }>(
            `SELECT version FROM model_versions WHERE snapshot_id = $1`,
            [snapshotId],
          )
        )[0],
    );
    version = registered.version;
    // A frozen in-domain suite version (ADR 0016) holding two of them, as the evaluator writes one: its
    // object copies their text, so the rescan must clean it as it cleans snapshots.
    const suiteItems = await stack.db.query<Record<string, string>>(
      `SELECT id AS learning_id, kind, context, correction FROM learnings WHERE id = ANY($1::uuid[]) ORDER BY id`,
      [[ids['inContext'], ids['onlySecret']]],
    );
    const suiteJsonl = `${suiteItems.map((r) => JSON.stringify(r)).join('\n')}\n`;
    const suiteKey = `eval-suites/genesis/in-domain.v1.test.jsonl`;
    await new ArtifactStore(stack.client).putIfAbsent(ARTIFACTS_BUCKET, suiteKey, suiteJsonl);
    await stack.db.query(
      `INSERT INTO suite_versions (model_id, version, sha256, bucket, key, items, learning_ids, cycle_id)
       VALUES ('genesis', 1, encode(sha256(convert_to($1, 'UTF8')), 'hex'), $5, $2, 2, $3::uuid[], $4)`,
      [suiteJsonl, suiteKey, suiteItems.map((r) => r['learning_id']), job.cycle_id, ARTIFACTS_BUCKET],
    );
    const holding = await objectStoreMessagesHolding(SECRET);
    assert.ok(holding >= 1, 'the value is in a snapshot object');
    console.log(`before the rescan: ${raw.length} rows and ${holding} object-store messages hold the value`);
  });

  it('rescans after a rule is added: resumable after a kill, with progress on the CLI', async () => {
    // Enough stored learnings that the rescan takes a few seconds (100 per batch, 100 ms apart).
    await stack.db.query(
      `INSERT INTO learnings (id, model_id, kind, source, context, correction, content_hash, status, event_id,
         captured_at)
       SELECT gen_random_uuid(), 'genesis', 'correction', 'filler', 'def f_' || i || '():', '    return ' || i,
         encode(sha256(convert_to('filler:' || i, 'UTF8')), 'hex'), 'accepted', gen_random_uuid(), now()
       FROM generate_series(1, $1) AS i`,
      [FILLER],
    );
    // Add the rule: the learner's configuration gains it, and it restarts with it.
    await learner.stop();
    learner = await ServiceProcess.start('learner', { ...env, GENESIS_SECRET_EXTRA_RULES: EXTRA_RULES });

    const run = cli(
      ['learnings', 'rescan', '--reason', 'acme tokens are secrets'],
      { GENESIS_URL: gateway.baseUrl, GENESIS_API_KEY: TEST_ADMIN_KEY, GENESIS_PROGRESS_INTERVAL_MS: '200' },
      90_000,
    );
    const running = await waitFor(
      'the rescan half-way',
      async () => {
        const [job] = await stack.db.query<{ id: string; scanned: number; total: number }>(
          `SELECT id, scanned, total FROM learning_rescans WHERE kind = 'rescan' AND status = 'scanning'`,
        );
        return job && job.scanned >= 600 ? job : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    await learner.kill('SIGKILL');
    const [atKill] = await stack.db.query<{ scanned: number }>(
      `SELECT scanned FROM learning_rescans WHERE id = $1`,
      [running.id],
    );
    assert.ok(atKill!.scanned < running.total, 'killed before the end');
    learner = await ServiceProcess.start('learner', { ...env, GENESIS_SECRET_EXTRA_RULES: EXTRA_RULES });

    const result = await run.done;
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}\n${learner.logs}\n${others[1]!.logs}`);
    const progressLines = result.stderr
      .split('\n')
      .filter((l) => /rescan [0-9a-f]{8}: [\d,]+\/[\d,]+ \(\d+%\)/.test(l));
    assert.ok(progressLines.length >= 3, `the CLI shows progress:\n${result.stderr}`);
    assert.match(result.stdout, /rescan [0-9a-f-]{36} completed/);
    assert.match(result.stdout, /models tainted: 1/);
    console.log(
      `CLI progress lines (${progressLines.length}), first and last:\n  ${progressLines[0]}\n  ${progressLines.at(-1)}`,
    );

    const [job] = await stack.db.query<{
      scanned: number;
      total: number;
      attempts: number;
      redacted: number;
      quarantined: number;
      rule_set: string;
    }>(`SELECT * FROM learning_rescans WHERE id = $1`, [running.id]);
    assert.ok(job!.attempts >= 2, 'the job was picked up again after the kill');
    assert.equal(
      job!.scanned,
      job!.total,
      'every learning scanned exactly once: resumed at the cursor, not restarted',
    );
    assert.equal(job!.redacted, 4);
    assert.equal(job!.quarantined, 1, 'a correction that was only the secret is quarantined');
    assert.match(job!.rule_set, /\+extra:[0-9a-f]{8}$/);
    console.log(
      `rescan: ${job!.scanned}/${job!.total} scanned over ${job!.attempts} deliveries (killed at ${atKill!.scanned}), ` +
        `${job!.redacted} redacted, ${job!.quarantined} quarantined, rules ${job!.rule_set}`,
    );
  });

  it('leaves the value in no row, no API answer and no object of the store; the model is tainted', async () => {
    const after = await rows();
    assert.equal(after.filter((r) => JSON.stringify(r).includes(SECRET)).length, 0, 'no row holds the value');
    const byId = new Map(after.map((r) => [r.id, r]));
    assert.match(byId.get(ids['inContext']!)!.context!, /\[REDACTED:acme-token\]/);
    assert.match(byId.get(ids['inCorrection']!)!.correction!, /\[REDACTED:acme-token\]/);
    assert.equal(byId.get(ids['inMetadata']!)!.metadata['ticket'], '[REDACTED:acme-token]');
    assert.equal(byId.get(ids['onlySecret']!)!.status, 'quarantined');
    for (const id of Object.values(ids)) {
      const res = await request(gateway.baseUrl, `/api/v1/learnings/${id}`, { key: TEST_ADMIN_KEY });
      assert.ok(!res.text.includes(SECRET), 'no API answer holds the value');
    }

    assert.equal(await objectStoreMessagesHolding(SECRET), 0, 'no object-store message holds the value');
    // The frozen suite version was rewritten: the cleaned item kept, the quarantined one dropped.
    const [suite] = await stack.db.query<{ key: string; learning_ids: string[] }>(
      `SELECT key, learning_ids FROM suite_versions WHERE model_id = 'genesis' AND version = 1`,
    );
    assert.notEqual(
      suite!.key,
      'eval-suites/genesis/in-domain.v1.test.jsonl',
      'the suite object was replaced',
    );
    assert.deepEqual(suite!.learning_ids, [ids['inContext']]);
    const [snapshot] = await stack.db.query<{ key: string; sha256: string; rebuilt_at: Date | null }>(
      `SELECT key, sha256, rebuilt_at FROM dataset_snapshots WHERE id = $1`,
      [snapshotId],
    );
    assert.ok(snapshot!.rebuilt_at, 'the snapshot was rebuilt');
    const text = await snapshotText(snapshot!.key);
    assert.ok(
      text && text.includes('[REDACTED:acme-token]'),
      'the rebuilt snapshot holds the cleaned records',
    );
    assert.ok(!text.includes(ids['onlySecret']!), 'the quarantined learning left the snapshot');

    const secretTrainIds = ['inContext', 'inCorrection', 'inOutput', 'onlySecret']
      .map((n) => ids[n]!)
      .filter((id) => trainIdsBefore.includes(id))
      .sort();
    assert.ok(secretTrainIds.length > 0);
    const [taint] = await stack.db.query<{ reason: string; learning_ids: string[] }>(
      `SELECT reason, learning_ids FROM model_version_taints WHERE version = $1`,
      [version],
    );
    assert.match(taint!.reason, /\+extra:[0-9a-f]{8} found secrets \(acme tokens are secrets\)/);
    assert.deepEqual([...taint!.learning_ids].sort(), secretTrainIds);
    const model = await request<{ tainted: boolean; taints: { learning_ids: string[] }[] }>(
      gateway.baseUrl,
      `/api/v1/models/${version}`,
      { key: TEST_ADMIN_KEY },
    );
    assert.equal(model.body.tainted, true);
    assert.deepEqual([...model.body.taints[0]!.learning_ids].sort(), secretTrainIds);
    console.log(`model ${version} tainted: ${taint!.reason}; learnings ${taint!.learning_ids.length}`);
  });

  it('forgets a learning on request (admin only): text, duplicates, snapshots; taints the model', async () => {
    const id = ids['toForget']!;
    const refused = await request(gateway.baseUrl, `/api/v1/learnings/${id}`, {
      method: 'DELETE',
      key: TEST_WRITER_KEY,
    });
    assert.equal(refused.status, 403, refused.text);
    assert.ok(await objectStoreMessagesHolding(forgetText), 'the text is in the snapshot before');

    const accepted = await request<{ rescan_id: string; kind: string; status_url: string }>(
      gateway.baseUrl,
      `/api/v1/learnings/${id}?reason=${encodeURIComponent('the author asked')}`,
      { method: 'DELETE', key: TEST_ADMIN_KEY },
    );
    assert.equal(accepted.status, 202, accepted.text);
    assert.equal(accepted.body.kind, 'forget');
    await jobDone(accepted.body.rescan_id);

    const byId = new Map((await rows()).map((r) => [r.id, r]));
    for (const gone of [id, ids['duplicate']!]) {
      const row = byId.get(gone)!;
      assert.equal(row.status, 'forgotten');
      assert.equal(row.correction, null);
      assert.deepEqual(row.metadata, {});
    }
    assert.equal(await objectStoreMessagesHolding(forgetText), 0, 'no object-store message holds its text');
    const [snapshot] = await stack.db.query<{ key: string; learning_ids: string[] }>(
      `SELECT key, learning_ids FROM dataset_snapshots WHERE id = $1`,
      [snapshotId],
    );
    assert.ok(!snapshot!.learning_ids.includes(id));
    assert.ok(!(await snapshotText(snapshot!.key))!.includes(id));
    const status = await request<{
      status: string;
      forgotten: number;
      tainted_versions: { reason: string; learning_ids: string[] }[];
    }>(gateway.baseUrl, accepted.body.status_url, { key: TEST_ADMIN_KEY });
    assert.equal(status.body.status, 'completed');
    assert.equal(status.body.forgotten, 2, 'the learning and its duplicate');
    assert.deepEqual(status.body.tainted_versions[0]!.learning_ids, [id]);
    assert.match(status.body.tainted_versions[0]!.reason, /forgotten on request \(the author asked\)/);

    const again = await request<{ rescan_id: string }>(gateway.baseUrl, `/api/v1/learnings/${id}`, {
      method: 'DELETE',
      key: TEST_ADMIN_KEY,
    });
    assert.equal(again.status, 202);
    assert.equal(again.body.rescan_id, accepted.body.rescan_id, 'asking again returns the same job');
    const missing = await request(gateway.baseUrl, `/api/v1/learnings/00000000-0000-4000-8000-000000000000`, {
      method: 'DELETE',
      key: TEST_ADMIN_KEY,
    });
    assert.equal(missing.status, 404);
    console.log(
      `forgot ${id} and its duplicate; snapshot rebuilt; ${status.body.tainted_versions[0]!.reason}`,
    );
  });
  it('a stalled job (its event dead-lettered) is failed by the next request, which takes over its changes', async () => {
    // A forget job whose learner pass committed (tombstone + change recorded) but whose
    // learning.rescanned never reached the trainer-bridge: the snapshot still holds the text.
    const [id, payload] = [...plainById].find(([l]) => trainIdsBefore.includes(l) && l !== ids['toForget'])!;
    const text = (payload['correction'] as string).trim();
    assert.ok(await objectStoreMessagesHolding(text), 'the text is in the snapshot');
    const stalled = '11111111-1111-4111-8111-111111111111';
    await stack.db.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO learning_rescans (id, kind, learning_ids, reason, requested_by, status, updated_at)
         VALUES ($1, 'forget', ARRAY[$2]::uuid[], 'test', 'test', 'purging', now() - interval '1 hour')`,
        [stalled, id],
      );
      await m.query(
        `UPDATE learnings SET status = 'forgotten', context = NULL, model_output = NULL, correction = NULL
         WHERE id = $1`,
        [id],
      );
      await m.query(
        `INSERT INTO learning_rescan_changes (rescan_id, learning_id, action) VALUES ($1, $2, 'forgotten')`,
        [stalled, id],
      );
    });
    const res = await request<{ rescan_id: string }>(gateway.baseUrl, `/api/v1/learnings/${id}`, {
      method: 'DELETE',
      key: TEST_ADMIN_KEY,
    });
    assert.equal(res.status, 202, res.text);
    assert.notEqual(res.body.rescan_id, stalled, 'a new job, not the stalled one');
    await jobDone(res.body.rescan_id);
    const [old] = await stack.db.query<{ status: string; failure: string; carried_into: string }>(
      `SELECT status, failure, carried_into FROM learning_rescans WHERE id = $1`,
      [stalled],
    );
    assert.equal(old!.status, 'failed');
    assert.match(old!.failure, /^stalled: no progress/);
    assert.equal(old!.carried_into, res.body.rescan_id);
    assert.equal(await objectStoreMessagesHolding(text), 0, 'the new job rebuilt the snapshot without it');
  });
});
