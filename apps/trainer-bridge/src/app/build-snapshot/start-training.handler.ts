import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { EventEnvelope, ThresholdReachedV1 } from '@genesis/contracts';
import { findCycle, transitionCycle } from '@genesis/cycles';
import { counter, Log } from '@genesis/observability';
import { BRIDGE_CONFIG, type BridgeConfig } from '../trainer-bridge.config';
import { queueTrainingJob, type SnapshotRef } from '../training-jobs';
import { ArtifactStore } from '@genesis/messaging';
import { buildSnapshot, isHeldOut, type SnapshotLearning } from './snapshot';
import { loadEmbeddings, semanticDecontamination } from './semantic-decontamination';

const snapshots = counter('genesis_dataset_snapshots_total', 'Training snapshots built', ['model_id']);

/**
 * threshold.reached → an immutable, content-addressed dataset snapshot (with lineage: the ids of
 * the learnings it holds) → cycle dataset_ready → jobs.train → cycle training. Idempotent: a
 * redelivery finds the cycle's snapshot or the cycle already past `opened`.
 */
@Injectable()
export class StartTrainingHandler {
  private readonly log = new Log('trainer-bridge', 'start-training');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ArtifactStore) private readonly artifacts: ArtifactStore,
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
  ) {}

  async handle(event: EventEnvelope<ThresholdReachedV1>): Promise<void> {
    const { cycle_id: cycleId, model_id: modelId } = event.data;
    const cycle = await findCycle(this.dataSource, cycleId);
    if (!cycle || cycle.status !== 'opened') return; // already started (or ended): nothing to do
    const cutoff = new Date(event.time);

    const learnings: SnapshotLearning[] = await this.dataSource.query(
      `SELECT id, content_hash, kind, language, context, model_output, correction, snapshot_id
       FROM learnings WHERE model_id = $1 AND status = 'accepted' AND stored_at <= $2`,
      [modelId, cutoff],
    );
    // Semantic decontamination (ADR 0018): nothing near a held-out item is trained on.
    const embeddings = await loadEmbeddings(
      this.dataSource,
      learnings.map((l) => l.id),
    );
    const embedded = (l: SnapshotLearning) => ({ id: l.id, vector: embeddings.get(l.id) ?? null });
    const heldOut = (l: SnapshotLearning) => isHeldOut(l.content_hash, this.config.evalFraction);
    const decontamination = semanticDecontamination(
      learnings.filter((l) => !heldOut(l)).map(embedded),
      learnings.filter(heldOut).map(embedded),
      this.config.decontaminationSimilarity,
    );
    const leftOut = new Set(decontamination.excluded.map((e) => e.id));
    const built = buildSnapshot(
      learnings.filter((l) => !leftOut.has(l.id)),
      {
        evalFraction: this.config.evalFraction,
        replayShare: this.config.replayShare,
      },
    );
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

    const bucket = this.config.artifactsBucket;
    const key = `snapshots/${modelId}/${built.sha256}.jsonl`;
    const evalKey = `eval-sets/${modelId}/${built.evalSha256}.jsonl`;
    await this.artifacts.putIfAbsent(bucket, key, built.jsonl);
    await this.artifacts.putIfAbsent(bucket, evalKey, built.evalJsonl);

    await this.dataSource.transaction(async (m) => {
      const [existing] = await m.query(`SELECT id FROM dataset_snapshots WHERE cycle_id = $1`, [cycleId]);
      if (existing) return;
      const snapshot: SnapshotRef = {
        id: randomUUID(),
        bucket,
        key,
        sha256: built.sha256,
        train_records: built.trainIds.length + built.replayIds.length,
      };
      await m.query(
        `INSERT INTO dataset_snapshots (id, model_id, cycle_id, sha256, bucket, key, eval_key, eval_sha256,
           train_records, replay_records, eval_records, learning_ids, eval_learning_ids, cutoff)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::uuid[], $13::uuid[], $14)`,
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
        ],
      );
      // Lineage and the monitor's counter: a learning belongs to the first snapshot that took it.
      await m.query(
        `UPDATE learnings SET snapshot_id = $1 WHERE id = ANY($2::uuid[]) AND snapshot_id IS NULL`,
        [snapshot.id, [...built.trainIds, ...built.evalIds]],
      );
      // What semantic decontamination left out, and why; those learnings are considered taken by
      // this snapshot (not counted as new evidence again) and are checked again at every replay.
      await m.query(`UPDATE dataset_snapshots SET semantic_exclusions = $2::jsonb WHERE id = $1`, [
        snapshot.id,
        JSON.stringify({ excluded: decontamination.excluded, unchecked: decontamination.unchecked }),
      ]);
      await m.query(
        `UPDATE learnings SET snapshot_id = $1 WHERE id = ANY($2::uuid[]) AND snapshot_id IS NULL`,
        [snapshot.id, [...leftOut]],
      );
      await transitionCycle(m, cycleId, 'dataset_ready', {
        patch: { snapshot_id: snapshot.id },
        reason: `snapshot ${built.sha256.slice(0, 12)}: ${snapshot.train_records} training records (${built.replayIds.length} replayed), ${built.evalIds.length} held out`,
      });
      const jobId = await queueTrainingJob(m, this.config, cycle, snapshot, 1, event);
      await transitionCycle(m, cycleId, 'training', { reason: `training job ${jobId} queued` });
    });
    snapshots.inc({ model_id: modelId });
    this.log.info('training started', {
      cycle_id: cycleId,
      correlation_id: event.correlation_id,
      snapshot: built.sha256,
      semantically_excluded: decontamination.excluded.length,
      semantically_unchecked: decontamination.unchecked,
    });
  }
}
