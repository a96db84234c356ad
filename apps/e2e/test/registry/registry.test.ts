import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { EvaluationMetrics, TrainingCompletedV1 } from '@genesis/contracts';
import {
  DEFAULT_THRESHOLDS,
  openCycle,
  readTriggerPolicy,
  thresholdsOf,
  transitionCycle,
} from '@genesis/cycles';
import { readConfig } from '@genesis/config';
import {
  championOf,
  getVersion,
  listBackups,
  lockAlias,
  markRejected,
  modelPerformance,
  moveAlias,
  parseFamilyInput,
  pruneBackups,
  recordEvaluation,
  registerCandidate,
  registerFamily,
  servableVersion,
  unreferencedKeys,
} from '@genesis/registry';
import { TestDatabase } from '@genesis/testing';

const metrics = (accuracy: number, items = 20): EvaluationMetrics => ({
  accuracy,
  exact_match: accuracy,
  functional_pass_rate: null,
  perplexity: 3.2,
  bleu: 40,
  success_rate: accuracy,
  items,
  in_domain_items: items,
  regression_items: 0,
  functional_items: 0,
});

const artifact = (n: number): TrainingCompletedV1['artifact'] => ({
  bucket: 'genesis-artifacts',
  key: `adapters/${n}/adapter_model.safetensors`,
  config_key: `adapters/${n}/adapter_config.json`,
  sha256: String(n).padStart(64, '0'),
  size_bytes: 1000 * n,
  format: 'peft-lora-safetensors',
});

/** The registry's functions as the services call them: against real Postgres, in transactions. */
describe('registry (Postgres)', () => {
  let db: TestDatabase;
  const tx = <T>(fn: (m: EntityManager) => Promise<T>) => db.dataSource.transaction(fn);

  /** One trained candidate of `model`, as the trainer-bridge registers it. */
  async function candidate(model: string, n: number, at: Date): Promise<string> {
    return db.dataSource.transaction(async (m) => {
      const opened = await openCycle(m, {
        modelId: model,
        trigger: 'manual',
        reason: 'test',
        counts: {},
        now: at,
      });
      assert.ok(opened.opened);
      const snapshotId = randomUUID();
      await m.query(
        `INSERT INTO dataset_snapshots (id, model_id, cycle_id, sha256, bucket, key, eval_key, eval_sha256,
           train_records, replay_records, eval_records, learning_ids, eval_learning_ids, cutoff)
         VALUES ($1, $2, $3, $4, 'genesis-artifacts', 'k', 'ek', $4, 10, 0, 2, '{}', '{}', $5)`,
        [snapshotId, model, opened.cycle.id, 'cd'.repeat(32), at],
      );
      const jobId = randomUUID();
      await m.query(
        `INSERT INTO training_jobs (job_id, cycle_id, attempt, status, deadline) VALUES ($1, $2, 1, 'completed', now())`,
        [jobId, opened.cycle.id],
      );
      const version = await registerCandidate(m, {
        modelId: model,
        cycleId: opened.cycle.id,
        baseModel: 'tiny',
        snapshotId,
        jobId,
        artifact: artifact(n),
        artifactKind: 'lora-adapter',
        metrics: {
          final_loss: 0.5,
          steps: 40,
          examples: 10,
          tokens: 4000,
          train_seconds: 2,
          tokens_per_second: 2000,
        },
        hyperparameters: { lora_r: 16 },
        device: 'cpu',
        at,
      });
      // The cycle is not the registry's business: end it so the next candidate can open one.
      await transitionCycle(m, opened.cycle.id, 'failed', {
        failure: { code: 'TEST', message: 'registry test' },
      });
      return version;
    });
  }

  async function promote(model: string, version: string, kind: 'promotion' | 'rollback' = 'promotion') {
    await db.dataSource.transaction(async (m) => {
      const from = await lockAlias(m, model);
      await moveAlias(m, {
        modelId: model,
        from,
        to: version,
        kind,
        actor: 'test',
        reason: kind,
        deploymentId: null,
      });
    });
  }

  before(async () => {
    db = await TestDatabase.create();
  });
  after(async () => {
    await db?.dispose();
  });

  it('names versions after their model, derives champion and retired from the alias alone', async () => {
    const at = new Date('2026-11-20T10:00:00Z');
    const v1 = await candidate('reg-a', 1, at);
    const v2 = await candidate('reg-a', 2, at); // the same second: suffixed, never reused
    assert.equal(v1, 'reg-a-20261120-100000');
    assert.equal(v2, 'reg-a-20261120-100000-2');
    assert.equal((await getVersion(db.dataSource, v1))!.status, 'candidate');

    await promote('reg-a', v1);
    assert.equal(await championOf(db.dataSource, 'reg-a'), v1);
    assert.equal((await getVersion(db.dataSource, v1))!.status, 'champion');
    const v3 = await candidate('reg-a', 3, new Date('2026-11-21T10:00:00Z'));
    assert.equal(
      (await getVersion(db.dataSource, v3))!['parent_version'],
      v1,
      'the parent is the alias target',
    );

    await promote('reg-a', v3);
    assert.equal((await getVersion(db.dataSource, v1))!.status, 'retired');
    assert.equal((await getVersion(db.dataSource, v3))!.status, 'champion');
    await tx((m) => markRejected(m, v2));
    assert.equal((await getVersion(db.dataSource, v2))!.status, 'rejected');
    // What is stored says only what the gate said; champion/retired exist nowhere but the alias.
    const stored = await db.query<{ version: string; status: string }>(
      `SELECT version, status FROM model_versions WHERE model_id = 'reg-a' ORDER BY version`,
    );
    assert.deepEqual(
      stored.map((r) => [r.version, r.status]),
      [
        [v1, 'promoted'],
        [v2, 'rejected'],
        [v3, 'promoted'],
      ],
    );
    const history = await db.query<{ from_version: string | null; to_version: string }>(
      `SELECT from_version, to_version FROM alias_history WHERE model_id = 'reg-a' ORDER BY id`,
    );
    assert.deepEqual(
      history.map((h) => [h.from_version, h.to_version]),
      [
        [null, v1],
        [v1, v3],
      ],
    );
    const servable = await servableVersion(db.dataSource, v3);
    assert.equal(servable!.kind, 'lora-adapter');
    assert.deepEqual(servable!.artifact, {
      bucket: 'genesis-artifacts',
      key: artifact(3).key,
      config_key: artifact(3).config_key,
      sha256: artifact(3).sha256,
    });
  });

  it('performance answers the champion metrics and the history exactly as the tables hold them', async () => {
    const model = 'reg-perf';
    await tx((m) =>
      registerFamily(
        m,
        {
          ...parseFamilyInput({ id: model, constraints: { latency_target_ms: 50, max_size_bytes: 1500 } })
            .family!,
        },
        'test',
      ),
    );
    const v1 = await candidate(model, 1, new Date('2026-11-20T10:00:00Z'));
    const v2 = await candidate(model, 2, new Date('2026-11-21T10:00:00Z'));
    const evaluation = async (candidateVersion: string, champion: string | null, a: number, b: number) => {
      const id = randomUUID();
      await db.query(
        `INSERT INTO evaluations (id, cycle_id, model_id, candidate_version, champion_version, base_model, suite, status)
         VALUES ($1, (SELECT cycle_id FROM model_versions WHERE version = $2), $3, $2, $4, 'tiny', '{}', 'completed')`,
        [id, candidateVersion, model, champion],
      );
      const record = () =>
        tx((m) =>
          recordEvaluation(m, {
            evaluationId: id,
            modelId: model,
            suiteVersion: 'sv-1',
            scores: [
              { version: candidateVersion, role: 'candidate', metrics: metrics(a), latencyMs: 40 },
              { version: champion, role: 'champion', metrics: metrics(b), latencyMs: 60 },
            ],
          }),
        );
      await record();
      await record(); // a redelivery records nothing twice
      return id;
    };
    await evaluation(v1, null, 0.6, 0.1);
    await promote(model, v1);
    await evaluation(v2, v1, 0.7, 0.62);

    const perf = await modelPerformance(db.dataSource, model);
    const rows = await db.query<Record<string, unknown>>(
      `SELECT version, source, role, suite_version, accuracy, latency_ms, size_bytes::int AS size_bytes
       FROM model_version_metrics WHERE model_id = $1 ORDER BY recorded_at DESC, id DESC`,
      [model],
    );
    assert.equal(rows.length, 2 + 3, 'two training rows, three scores (the base model has none)');
    assert.deepEqual(
      perf.history.map((h) => ({
        version: h.version,
        source: h.source,
        role: h.role,
        suite_version: h.suite_version,
        accuracy: h.accuracy,
        latency_ms: h.latency_ms,
        size_bytes: h.size_bytes,
      })),
      rows,
    );
    // The champion is v1; its latest score is the one it got as the champion of v2's evaluation.
    assert.equal(perf.champion!.version, v1);
    assert.equal(perf.champion!.accuracy, 0.62);
    assert.equal(perf.champion!.latency_ms, 60);
    assert.equal(perf.champion!.size_bytes, 1000);
    assert.equal(perf.champion!.resources['train_seconds'], 2);
    assert.deepEqual(perf.champion!.within_constraints, { latency: false, size: true });
    assert.equal(perf.family!.id, model);
    // The versions' metrics document the API always showed is kept: by suite version.
    const [doc] = await db.query<{ metrics: Record<string, Record<string, { accuracy: number }>> }>(
      `SELECT metrics FROM model_versions WHERE version = $1`,
      [v1],
    );
    assert.equal(doc!.metrics['by_suite']!['sv-1']!.accuracy, 0.62);
    assert.equal((await modelPerformance(db.dataSource, 'reg-nobody')).champion, null);
  });

  it('retention prunes the oldest deployed artifacts, never an aliased version or a shared object', async () => {
    const model = 'reg-backup';
    const versions: string[] = [];
    for (let n = 1; n <= 5; n++) {
      const v = await candidate(model, 10 + n, new Date(Date.UTC(2026, 10, n, 10)));
      versions.push(v);
      await promote(model, v);
    }
    // Roll back to the first: the alias now points at the oldest deployment.
    await promote(model, versions[0]!, 'rollback');
    const never = await candidate(model, 99, new Date(Date.UTC(2026, 10, 9, 10))); // never deployed
    const backups = await listBackups(db.dataSource, model);
    assert.deepEqual(
      backups.map((b) => b.version),
      [versions[0], versions[4], versions[3], versions[2], versions[1]],
      'newest deployment first',
    );

    const pruned = await tx((m) => pruneBackups(m, model, 2));
    assert.deepEqual(pruned.map((p) => p.version).sort(), [versions[1], versions[2], versions[3]].sort());
    const after = await listBackups(db.dataSource, model);
    assert.deepEqual(
      after.filter((b) => b.restorable).map((b) => b.version),
      [versions[0], versions[4]],
    );
    assert.equal((await servableVersion(db.dataSource, never))!.pruned_at, null, 'not a backup: untouched');
    assert.deepEqual(await tx((m) => pruneBackups(m, model, 2)), [], 'pruning again prunes nothing');
    // Even a retention of 1 keeps the champion (the alias points at it).
    await tx((m) => pruneBackups(m, model, 1));
    assert.equal((await servableVersion(db.dataSource, versions[0]!))!.pruned_at, null);

    // A pruned artifact whose object a live artifact shares keeps the object (content addressing):
    // a later candidate with the same adapter as the pruned versions[2].
    await candidate(model, 13, new Date(Date.UTC(2026, 10, 10, 10)));
    const free = await unreferencedKeys(db.dataSource, [
      { bucket: 'genesis-artifacts', key: artifact(11).key }, // the champion's
      { bucket: 'genesis-artifacts', key: artifact(12).key }, // pruned, nobody else's
      { bucket: 'genesis-artifacts', key: artifact(13).key }, // pruned, but the new candidate's too
    ]);
    assert.deepEqual(free, [artifact(12).key]);
  });

  it("a family's own thresholds override the global defaults and GENESIS_TRIGGER_OVERRIDES", async () => {
    const policy = readConfig(readTriggerPolicy, {
      GENESIS_TRIGGER_OVERRIDES: JSON.stringify({
        'reg-thresholds': { learning_threshold: 50, min_new_evidence: 7 },
      }),
    });
    assert.equal((await thresholdsOf(db.dataSource, policy, 'reg-thresholds')).learningThreshold, 50);
    await tx((m) =>
      registerFamily(
        m,
        parseFamilyInput({
          id: 'reg-thresholds',
          thresholds: { learning_threshold: 5, performance_threshold: 0.7 },
        }).family!,
        'test',
      ),
    );
    const t = await thresholdsOf(db.dataSource, policy, 'reg-thresholds');
    assert.equal(t.learningThreshold, 5, 'the family wins');
    assert.equal(t.performanceThreshold, 0.7);
    assert.equal(t.minNewEvidence, 7, 'what the family does not set keeps the override');
    assert.equal(t.timeThresholdDays, DEFAULT_THRESHOLDS.timeThresholdDays);
  });

  it('validates families with every problem named', () => {
    const bad = parseFamilyInput({
      id: 'Bad Id',
      artifact_kind: 'onnx',
      thresholds: { performance_threshold: 2, learning_threshold: -1, nonsense: 1 },
      constraints: { max_size_bytes: 'big' },
      extra: true,
    });
    assert.equal(bad.family, undefined);
    assert.deepEqual(bad.errors.map((e) => e.path).sort(), [
      '/artifact_kind',
      '/constraints/max_size_bytes',
      '/extra',
      '/id',
      '/thresholds/learning_threshold',
      '/thresholds/nonsense',
      '/thresholds/performance_threshold',
    ]);
    const ok = parseFamilyInput({ id: 'coder-7b', base_model: 'Qwen/Qwen2.5-Coder-7B-Instruct' });
    assert.deepEqual(ok.family, {
      id: 'coder-7b',
      base_model: 'Qwen/Qwen2.5-Coder-7B-Instruct',
      artifact_kind: 'lora-adapter',
      constraints: {},
      thresholds: {},
      description: null,
    });
  });
});
