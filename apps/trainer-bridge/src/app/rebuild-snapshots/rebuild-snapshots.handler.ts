import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { EventEnvelope, LearningRescannedV1 } from '@genesis/contracts';
import { ArtifactStore } from '@genesis/messaging';
import { counter, Log } from '@genesis/observability';
import { taintVersionsTrainedOn } from '@genesis/registry';
import type { SnapshotLearning } from '../build-snapshot/snapshot';
import { EvaluationOutputCleaner } from './clean-evaluation-outputs';
import { rewriteSnapshot, type RewrittenSnapshot } from './rewrite-snapshot';

const rebuilt = counter(
  'genesis_dataset_snapshots_rebuilt_total',
  'Dataset snapshots rebuilt or deleted after a rescan or forget job',
  ['outcome'],
);
const tainted = counter('genesis_model_versions_tainted_total', 'Model versions marked tainted');

interface JobRow {
  id: string;
  kind: 'rescan' | 'forget';
  model_id: string | null;
  status: string;
  reason: string;
  rule_set: string | null;
}

/** A frozen in-domain suite version (ADR 0016): its object copies held-out learnings' text. */
interface SuiteRow {
  model_id: string;
  version: number;
  bucket: string;
  key: string;
}

interface SnapshotRow {
  id: string;
  model_id: string;
  bucket: string;
  key: string;
  sha256: string;
  eval_key: string;
  eval_sha256: string;
}

/**
 * learning.rescanned → every dataset snapshot holding a learning the job changed is rebuilt from
 * the cleaned rows (or deleted when nothing trainable is left), the objects it replaced are purged
 * from the Object Store, and every model version trained on a snapshot whose training records
 * changed is marked tainted with the reason and the learning ids (ADR 0017). The model outputs that
 * evaluations keep are cleaned too (EvaluationOutputCleaner). Then the job is completed.
 *
 * Recoverable at every step, so a redelivery finishes what a crash interrupted: the new objects
 * are put first (content-addressed, idempotent); one transaction per snapshot updates its row,
 * records the old keys in rescan_purges and writes the taints; purges run after the commits and
 * are marked done one by one. A snapshot already rebuilt rewrites to the same bytes and is left alone.
 */
@Injectable()
export class RebuildSnapshotsHandler {
  private readonly log = new Log('trainer-bridge', 'rebuild-snapshots');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ArtifactStore) private readonly artifacts: ArtifactStore,
    @Inject(EvaluationOutputCleaner) private readonly outputs: EvaluationOutputCleaner,
  ) {}

  async handle(event: EventEnvelope<LearningRescannedV1>): Promise<void> {
    const [job] = await this.dataSource.query<JobRow[]>(
      `SELECT id, kind, model_id, status, reason, rule_set FROM learning_rescans WHERE id = $1`,
      [event.data.rescan_id],
    );
    if (!job || job.status !== 'purging') return;
    const changedIds = (
      await this.dataSource.query<{ learning_id: string }[]>(
        `SELECT learning_id FROM learning_rescan_changes WHERE rescan_id = $1`,
        [job.id],
      )
    ).map((r) => r.learning_id);

    if (changedIds.length > 0) {
      const affected = await this.currentRows(changedIds);
      const snapshots = await this.dataSource.query<SnapshotRow[]>(
        `SELECT id, model_id, bucket, key, sha256, eval_key, eval_sha256 FROM dataset_snapshots
         WHERE deleted_at IS NULL AND (learning_ids && $1::uuid[] OR eval_learning_ids && $1::uuid[])
         ORDER BY created_at`,
        [changedIds],
      );
      for (const snapshot of snapshots) await this.rebuild(job, snapshot, affected);
      const suites = await this.dataSource.query<SuiteRow[]>(
        `SELECT model_id, version, bucket, key FROM suite_versions WHERE learning_ids && $1::uuid[]
         ORDER BY model_id, version`,
        [changedIds],
      );
      for (const suite of suites) await this.rewriteSuite(job, suite, affected);
    }
    // Outputs are rescanned even when no learning changed: a model may print a secret no row holds.
    const forgotten = (
      await this.dataSource.query<{ learning_id: string }[]>(
        `SELECT learning_id FROM learning_rescan_changes WHERE rescan_id = $1 AND action = 'forgotten'`,
        [job.id],
      )
    ).map((r) => r.learning_id);
    await this.outputs.clean(job, forgotten);
    await this.purge(job.id);
    await this.dataSource.query(
      `UPDATE learning_rescans SET status = 'completed', finished_at = now(), updated_at = now()
       WHERE id = $1 AND status = 'purging'`,
      [job.id],
    );
    this.log.info('rescan completed', { rescan_id: job.id, correlation_id: event.correlation_id });
  }

  /** Each changed learning's row now, or null where it may no longer be trained on. */
  private async currentRows(ids: string[]): Promise<Map<string, SnapshotLearning | null>> {
    const rows = await this.dataSource.query<(SnapshotLearning & { status: string })[]>(
      `SELECT id, content_hash, kind, language, context, model_output, correction, tests, snapshot_id, status
       FROM learnings WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const byId = new Map<string, SnapshotLearning | null>(ids.map((id) => [id, null]));
    for (const { status, ...row } of rows) {
      if (status === 'accepted' && row.correction !== null) byId.set(row.id, row);
    }
    return byId;
  }

  private async read(bucket: string, key: string): Promise<string> {
    const bytes = await this.artifacts.get(bucket, key);
    return bytes ? new TextDecoder().decode(bytes) : '';
  }

  private async rebuild(
    job: JobRow,
    snapshot: SnapshotRow,
    affected: ReadonlyMap<string, SnapshotLearning | null>,
  ): Promise<void> {
    const train = rewriteSnapshot(await this.read(snapshot.bucket, snapshot.key), affected);
    const evalSet = rewriteSnapshot(await this.read(snapshot.bucket, snapshot.eval_key), affected, true);
    if (!train.changed && !evalSet.changed) return; // rebuilt on an earlier delivery, or nothing it holds changed
    const deleted = train.learningIds.length === 0;
    const key = `snapshots/${snapshot.model_id}/${train.sha256}.jsonl`;
    const evalKey = `eval-sets/${snapshot.model_id}/${evalSet.sha256}.jsonl`;
    if (!deleted && train.changed) await this.artifacts.putIfAbsent(snapshot.bucket, key, train.jsonl);
    if (evalSet.changed) await this.artifacts.putIfAbsent(snapshot.bucket, evalKey, evalSet.jsonl);

    await this.dataSource.transaction(async (m) => {
      const oldKeys = [
        ...(train.changed ? [snapshot.key] : []),
        ...(evalSet.changed ? [snapshot.eval_key] : []),
      ];
      await m.query(
        `UPDATE dataset_snapshots SET
           sha256 = $2, key = $3, train_records = $4, replay_records = $5, learning_ids = $6::uuid[],
           eval_key = $7, eval_sha256 = $8, eval_records = $9, eval_learning_ids = $10::uuid[],
           rebuilt_at = now(), rebuilt_by = $11, deleted_at = CASE WHEN $12::boolean THEN now() END
         WHERE id = $1`,
        [
          snapshot.id,
          train.sha256,
          deleted ? snapshot.key : key,
          train.learningIds.length,
          train.replayRecords,
          train.learningIds,
          evalKey,
          evalSet.sha256,
          evalSet.learningIds.length,
          evalSet.learningIds,
          job.id,
          deleted,
        ],
      );
      await m.query(
        `INSERT INTO rescan_purges (rescan_id, bucket, key) SELECT $1::uuid, $2::text, unnest($3::text[])
         ON CONFLICT DO NOTHING`,
        [job.id, snapshot.bucket, oldKeys],
      );
      const versions = train.changed ? await this.taint(m, job, snapshot, train) : 0;
      await m.query(
        `UPDATE learning_rescans SET snapshots_rebuilt = snapshots_rebuilt + $2,
           snapshots_deleted = snapshots_deleted + $3, models_tainted = models_tainted + $4, updated_at = now()
         WHERE id = $1`,
        [job.id, deleted ? 0 : 1, deleted ? 1 : 0, versions],
      );
    });
    rebuilt.inc({ outcome: deleted ? 'deleted' : 'rebuilt' });
    this.log.info(deleted ? 'snapshot deleted' : 'snapshot rebuilt', {
      rescan_id: job.id,
      snapshot_id: snapshot.id,
      sha256: deleted ? null : train.sha256,
      dropped: train.dropped.length + evalSet.dropped.length,
      rewritten: train.rewritten.length + evalSet.rewritten.length,
    });
  }

  /**
   * A frozen suite version holding a changed learning is rewritten the same way: its items keep their
   * order, a cleaned item is rendered again, a forgotten or quarantined one is dropped, and the old
   * object is purged. Secrets and forgotten text outrank the version's byte-for-byte immutability
   * (ADR 0017); the version number stays, so scores keep naming it, and the evaluator cuts a new
   * version when an item has gone.
   */
  private async rewriteSuite(
    job: JobRow,
    suite: SuiteRow,
    affected: ReadonlyMap<string, SnapshotLearning | null>,
  ): Promise<void> {
    const rewritten = rewriteSnapshot(await this.read(suite.bucket, suite.key), affected, true);
    if (!rewritten.changed) return;
    const key = `eval-suites/${suite.model_id}/in-domain.v${suite.version}.${rewritten.sha256.slice(0, 16)}.jsonl`;
    await this.artifacts.putIfAbsent(suite.bucket, key, rewritten.jsonl);
    await this.dataSource.transaction(async (m) => {
      await m.query(
        `UPDATE suite_versions SET sha256 = $3, key = $4, items = $5, learning_ids = $6::uuid[]
         WHERE model_id = $1 AND version = $2`,
        [
          suite.model_id,
          suite.version,
          rewritten.sha256,
          key,
          rewritten.learningIds.length,
          rewritten.learningIds,
        ],
      );
      await m.query(
        `INSERT INTO rescan_purges (rescan_id, bucket, key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [job.id, suite.bucket, suite.key],
      );
    });
    this.log.info('suite version rewritten', {
      rescan_id: job.id,
      model_id: suite.model_id,
      version: suite.version,
      dropped: rewritten.dropped.length,
      rewritten: rewritten.rewritten.length,
    });
  }

  /** Marks every model version trained on the snapshot as tainted; returns how many it marked. */
  private async taint(
    m: EntityManager,
    job: JobRow,
    snapshot: SnapshotRow,
    train: RewrittenSnapshot,
  ): Promise<number> {
    const learningIds = [...train.rewritten, ...train.dropped];
    const reason =
      job.kind === 'forget'
        ? `trained on ${learningIds.length} learning(s) forgotten on request (${job.reason})`
        : `trained on ${learningIds.length} learning(s) in which ${job.rule_set ?? 'the current rules'} found secrets (${job.reason})`;
    const versions = await taintVersionsTrainedOn(m, {
      snapshotId: snapshot.id,
      rescanId: job.id,
      reason,
      learningIds,
    });
    tainted.inc(versions.length);
    if (versions.length > 0) this.log.warn('model versions tainted', { rescan_id: job.id, versions });
    return versions.length;
  }

  /** Deletes the replaced objects no live snapshot, suite version or evaluation job still points at (content addressing may share one). */
  private async purge(rescanId: string): Promise<void> {
    const pending = await this.dataSource.query<{ bucket: string; key: string; in_use: boolean }[]>(
      `SELECT p.bucket, p.key, EXISTS (
         SELECT 1 FROM dataset_snapshots s WHERE s.bucket = p.bucket AND s.deleted_at IS NULL
           AND (s.key = p.key OR s.eval_key = p.key))
         OR EXISTS (SELECT 1 FROM suite_versions v WHERE v.bucket = p.bucket AND v.key = p.key)
         OR EXISTS (SELECT 1 FROM evaluation_jobs j
           WHERE j.results->>'bucket' = p.bucket AND j.results->>'key' = p.key) AS in_use
       FROM rescan_purges p WHERE p.rescan_id = $1 AND p.purged_at IS NULL`,
      [rescanId],
    );
    for (const { bucket, key, in_use: inUse } of pending) {
      if (!inUse) await this.artifacts.delete(bucket, key);
      await this.dataSource.query(
        `UPDATE rescan_purges SET purged_at = now() WHERE rescan_id = $1 AND bucket = $2 AND key = $3`,
        [rescanId, bucket, key],
      );
    }
  }
}
