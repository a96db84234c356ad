import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import {
  decontaminationKey,
  shippedSuiteContaminants,
  type EventEnvelope,
  type SuiteContaminants,
  type ThresholdReachedV1,
} from '@genesis/contracts';
import { findCycle, transitionCycle } from '@genesis/cycles';
import { JobLifecycle } from '@genesis/jobs';
import { counter, Log, perModelSeries } from '@genesis/observability';
import { BRIDGE_CONFIG, type BridgeConfig } from '../trainer-bridge.config';
import { type SnapshotRef } from '../training-jobs';
import { queueCycleJob } from '../architecture-jobs';
import { ArtifactStore, NatsClient } from '@genesis/messaging';
import { EmbeddingClient } from '@genesis/vectors';
import { assignSlices, clusterRequest, describeSlicing, storeSlices, type SnapshotSlicing } from './slicing';
import { buildSnapshot, describeDecontamination, isHeldOut, type SnapshotLearning } from './snapshot';
import {
  IN_DOMAIN,
  dominantEmbeddingModel,
  loadEmbeddings,
  semanticDecontamination,
} from './semantic-decontamination';
import { SuiteVectors } from './suite-vectors';

const snapshots = perModelSeries(
  counter('genesis_dataset_snapshots_total', 'Training snapshots built', ['model_id']),
);

/**
 * threshold.reached → an immutable, content-addressed dataset snapshot (with lineage: the ids of
 * the learnings it holds) → cycle dataset_ready → jobs.train (jobs.architecture for an
 * architecture cycle, ADR 0025) → cycle training. Idempotent: a
 * redelivery finds the cycle's snapshot or the cycle already past `opened`.
 */
@Injectable()
export class StartTrainingHandler {
  private readonly log = new Log('trainer-bridge', 'start-training');
  /** The regression and anchor suites' keys: nothing that normalises to one is trained on. */
  private contaminantsOnce: SuiteContaminants | undefined;
  private get contaminants(): SuiteContaminants {
    return (this.contaminantsOnce ??= shippedSuiteContaminants(this.config.decontaminationLevel));
  }

  private readonly suiteVectors: SuiteVectors;
  /** The embedder's `embeddings.cluster`, with the slicing's own timeout (ADR 0020). */
  private readonly slicer: EmbeddingClient;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ArtifactStore) private readonly artifacts: ArtifactStore,
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
    @Inject(NatsClient) nats: NatsClient,
    @Inject(JobLifecycle) private readonly jobs: JobLifecycle,
  ) {
    this.suiteVectors = new SuiteVectors(
      dataSource,
      new EmbeddingClient(nats.connection, config.embeddingTimeoutMs),
      this.log.child('suite-vectors'),
    );
    this.slicer = new EmbeddingClient(nats.connection, config.slicing.timeoutMs);
  }

  /**
   * The snapshot's topic slices (ADR 0020), from the learnings' stored embeddings. Never blocks
   * training: without an embedder (or embeddings) the snapshot records why it has no slices, and
   * every evaluation of its cycle says so in its reason.
   */
  private async slices(
    modelId: string,
    learnings: readonly SnapshotLearning[],
    vectors: ReadonlyMap<string, Float32Array>,
  ): Promise<{ slicing: SnapshotSlicing; assignments: ReturnType<typeof assignSlices>['assignments'] }> {
    const asked = clusterRequest(learnings, vectors, this.config.slicing);
    if (!asked)
      return { slicing: { status: 'none', reason: 'no learning has an embedding yet' }, assignments: [] };
    try {
      const reply = await this.slicer.cluster(asked.request);
      return assignSlices(learnings, vectors, reply, asked.request.items.length);
    } catch (err) {
      const reason = `the embedder could not slice: ${(err as Error).message}`;
      this.log.warn('snapshot without topic slices', { model_id: modelId, reason });
      return { slicing: { status: 'none', reason }, assignments: [] };
    }
  }

  async handle(event: EventEnvelope<ThresholdReachedV1>): Promise<void> {
    const { cycle_id: cycleId, model_id: modelId } = event.data;
    const cycle = await findCycle(this.dataSource, cycleId);
    if (!cycle || cycle.status !== 'opened') return; // already started (or ended): nothing to do
    const cutoff = new Date(event.time);

    // Exact (normalised) decontamination happens in buildSnapshot; semantic decontamination (ADR 0018)
    // first leaves out every learning whose embedding is near a held-out item's, or near an item of a
    // shipped suite (regression set, HumanEval), in the embedding model of the learnings.
    const level = this.config.decontaminationLevel;
    const [{ ids }] = await this.dataSource.query<{ ids: string[] }[]>(
      `SELECT coalesce(array_agg(id), '{}') AS ids FROM learnings
        WHERE model_id = $1 AND status = 'accepted' AND stored_at <= $2`,
      [modelId, cutoff],
    );
    const shipped = await this.suiteVectors.load(await dominantEmbeddingModel(this.dataSource.manager, ids));
    const build = async (m: EntityManager) => {
      const learnings = await m.query<SnapshotLearning[]>(
        `SELECT id, content_hash, kind, language, context, model_output, correction, tests, snapshot_id
         FROM learnings WHERE model_id = $1 AND status = 'accepted' AND stored_at <= $2`,
        [modelId, cutoff],
      );
      const embeddings = await loadEmbeddings(
        m,
        learnings.map((l) => l.id),
      );
      const embedded = (l: SnapshotLearning) => ({ id: l.id, vector: embeddings.get(l.id) ?? null });
      const heldOut = (l: SnapshotLearning) =>
        isHeldOut(decontaminationKey(l, level), this.config.evalFraction);
      const semantic = semanticDecontamination(
        learnings.filter((l) => !heldOut(l)).map(embedded),
        [...learnings.filter(heldOut).map((l) => ({ ...embedded(l), suite: IN_DOMAIN })), ...shipped.items],
        this.config.decontaminationSimilarity,
      );
      const leftOut = new Set(semantic.excluded.map((e) => e.id));
      const snapshot = buildSnapshot(
        learnings.filter((l) => !leftOut.has(l.id)),
        { evalFraction: this.config.evalFraction, replayShare: this.config.replayShare, level },
        this.contaminants,
      );
      return Object.assign(snapshot, { semantic, leftOut, learnings, embeddings });
    };
    const built = await build(this.dataSource.manager);
    if (built.trainIds.length + built.replayIds.length === 0) {
      await this.dataSource.transaction((m) =>
        transitionCycle(m, cycleId, 'failed', {
          failure: {
            code: 'EMPTY_DATASET',
            message: `no trainable learnings for ${modelId} up to ${cutoff.toISOString()}`,
          },
          failedEventSource: 'trainer-bridge',
        }),
      );
      return;
    }

    const sliced = await this.slices(modelId, built.learnings, built.embeddings);
    const bucket = this.config.artifactsBucket;
    const key = `snapshots/${modelId}/${built.sha256}.jsonl`;
    const evalKey = `eval-sets/${modelId}/${built.evalSha256}.jsonl`;
    await this.artifacts.putIfAbsent(bucket, key, built.jsonl);
    await this.artifacts.putIfAbsent(bucket, evalKey, built.evalJsonl);

    await this.dataSource.transaction(async (m) => {
      const [existing] = await m.query(`SELECT id FROM dataset_snapshots WHERE cycle_id = $1`, [cycleId]);
      if (existing) return;
      // A rescan or forget (ADR 0017) may have cleaned a row since it was read: its snapshot pass
      // only sees snapshots recorded by then, so this one must hold the cleaned text. Built again
      // from the rows now; a difference throws, and the redelivery builds from the cleaned rows.
      const now = await build(m);
      if (now.sha256 !== built.sha256 || now.evalSha256 !== built.evalSha256)
        throw new Error(
          'learnings changed while the snapshot was built (a rescan or forget); building again',
        );
      const snapshot: SnapshotRef = {
        id: randomUUID(),
        bucket,
        key,
        sha256: built.sha256,
        train_records: built.trainIds.length + built.replayIds.length,
      };
      await m.query(
        `INSERT INTO dataset_snapshots (id, model_id, cycle_id, sha256, bucket, key, eval_key, eval_sha256,
           train_records, replay_records, eval_records, learning_ids, eval_learning_ids, cutoff,
           decontamination, excluded_learning_ids)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::uuid[], $13::uuid[], $14, $15, $16::uuid[])`,
        [
          snapshot.id,
          modelId,
          cycleId,
          built.sha256,
          bucket,
          key,
          evalKey,
          built.evalSha256,
          snapshot.train_records,
          built.replayIds.length,
          built.evalIds.length,
          [...built.trainIds, ...built.replayIds],
          built.evalIds,
          cutoff,
          JSON.stringify(built.decontamination),
          built.excludedIds,
        ],
      );
      // Lineage and the monitor's counter: a learning belongs to the first snapshot that took it (or
      // left it out for decontamination, so that it no longer counts as new evidence).
      await m.query(
        `UPDATE learnings SET snapshot_id = $1 WHERE id = ANY($2::uuid[]) AND snapshot_id IS NULL`,
        [snapshot.id, [...built.trainIds, ...built.evalIds, ...built.excludedIds]],
      );
      // What semantic decontamination left out, and why; those learnings are considered taken by
      // this snapshot (not counted as new evidence again) and are checked again at every replay.
      await m.query(`UPDATE dataset_snapshots SET semantic_exclusions = $2::jsonb WHERE id = $1`, [
        snapshot.id,
        JSON.stringify({
          excluded: built.semantic.excluded,
          unchecked: built.semantic.unchecked,
          by_suite: built.semantic.by_suite,
          suites_unchecked: shipped.unchecked,
        }),
      ]);
      await m.query(
        `UPDATE learnings SET snapshot_id = $1 WHERE id = ANY($2::uuid[]) AND snapshot_id IS NULL`,
        [snapshot.id, [...built.leftOut]],
      );
      // Every learning's topic slice; the evaluator reads the slices of this snapshot's held-out items.
      await storeSlices(m, modelId, sliced.slicing, sliced.assignments);
      await m.query(`UPDATE dataset_snapshots SET slicing = $2::jsonb WHERE id = $1`, [
        snapshot.id,
        JSON.stringify(sliced.slicing),
      ]);
      await transitionCycle(m, cycleId, 'dataset_ready', {
        patch: { snapshot_id: snapshot.id },
        reason: `snapshot ${built.sha256.slice(0, 12)}: ${snapshot.train_records} training records (${built.replayIds.length} replayed), ${built.evalIds.length} held out${describeDecontamination(built.decontamination)}; ${describeSlicing(sliced.slicing)}`,
      });
      const jobId = await queueCycleJob(
        this.jobs,
        m,
        this.config,
        cycle,
        { ...snapshot, eval_key: evalKey, eval_sha256: built.evalSha256 },
        event,
      );
      await transitionCycle(m, cycleId, 'training', {
        reason:
          cycle.kind === 'architecture'
            ? `architecture study job ${jobId} queued`
            : `training job ${jobId} queued`,
      });
    });
    snapshots.inc({ model_id: modelId });
    this.log.info('training started', {
      cycle_id: cycleId,
      correlation_id: event.correlation_id,
      snapshot: built.sha256,
      semantically_excluded: built.semantic.excluded.length,
      semantically_unchecked: built.semantic.unchecked,
      semantically_excluded_by_suite: built.semantic.by_suite,
      suites_unchecked: shipped.unchecked,
    });
  }
}
