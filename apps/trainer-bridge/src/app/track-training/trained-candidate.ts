import type { EntityManager } from 'typeorm';
import {
  SUBJECTS,
  followUp,
  type EventEnvelope,
  type ModelTrainedV1,
  type TrainingCompletedV1,
} from '@genesis/contracts';
import { transitionCycle } from '@genesis/cycles';
import { registerCandidate } from '@genesis/registry';

/**
 * A trained adapter → a registered candidate version, the cycle `trained` and model.trained, in the
 * caller's transaction. The one path for both kinds: a training job's answer, and an architecture
 * study's best trial once its budget is spent (ADR 0025), whose `study` names its lineage.
 */
export async function registerTrainedCandidate(
  m: EntityManager,
  cause: EventEnvelope<unknown>,
  cycleId: string,
  modelId: string,
  r: TrainingCompletedV1,
): Promise<string> {
  const [snapshot] = await m.query(
    `SELECT s.id, s.sha256, s.train_records, s.eval_records FROM dataset_snapshots s WHERE s.cycle_id = $1`,
    [cycleId],
  );
  const version = await registerCandidate(m, {
    modelId,
    cycleId,
    baseModel: r.base_model,
    snapshotId: snapshot.id,
    jobId: r.job_id,
    artifact: r.artifact,
    artifactKind: 'lora-adapter',
    metrics: r.metrics,
    hyperparameters: {
      ...r.hyperparameters,
      seed: r.seed,
      package_versions: r.package_versions,
      // an architecture study's candidate names its study (ADR 0025)
      ...(r.study ? { study: { name: r.study.name, best_trial: r.study.best_trial } } : {}),
    },
    ...(r.device ? { device: r.device } : {}),
    at: new Date(cause.time),
  });
  const data: ModelTrainedV1 = {
    cycle_id: cycleId,
    model_version: version,
    base_model: r.base_model,
    job_id: r.job_id,
    snapshot: {
      id: snapshot.id,
      sha256: snapshot.sha256,
      train_records: snapshot.train_records,
      eval_records: snapshot.eval_records,
    },
    artifact: r.artifact,
    metrics: r.metrics,
    hyperparameters: { ...r.hyperparameters },
    seed: r.seed,
    ...(r.study ? { study: { name: r.study.name, best_trial: r.study.best_trial } } : {}),
  };
  await transitionCycle(m, cycleId, 'trained', {
    patch: { model_version: version },
    reason: r.study
      ? `candidate ${version} from study ${r.study.name}, trial ${r.study.best_trial} (validation loss ${r.study.best_value.toFixed(4)}, ${r.metrics.steps} steps)`
      : `candidate ${version} trained (final loss ${r.metrics.final_loss.toFixed(4)}, ${r.metrics.steps} steps)`,
    event: {
      subject: SUBJECTS.modelTrained,
      envelope: followUp(cause, SUBJECTS.modelTrained, data, {
        source: 'trainer-bridge',
        cycleId,
      }),
    },
  });
  return version;
}
