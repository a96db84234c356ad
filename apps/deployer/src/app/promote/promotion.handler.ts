import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import {
  SUBJECTS,
  followUp,
  type EventEnvelope,
  type ModelDeployedV1,
  type ModelEvaluatedV1,
  type ModelRejectedV1,
} from '@genesis/contracts';
import { findCycle, transitionCycle } from '@genesis/cycles';
import { ArtifactStore } from '@genesis/messaging';
import { counter, Log } from '@genesis/observability';
import {
  lockAlias,
  markRejected,
  moveAlias,
  pruneBackups,
  servableVersion,
  unreferencedKeys,
  type StoredArtifact,
} from '@genesis/registry';
import { DEPLOYER_CONFIG, type DeployerConfig } from '../deployer.config';
import { refuseToServe, servedAs } from '../registry/registry';
import { DEPLOYMENT_TARGET, deployWithRetries, type DeployOutcome, type DeploymentTarget } from '../targets';

export const deployments = counter('genesis_deployments_total', 'Deployments to the serving target', [
  'model_id',
  'target',
  'kind',
  'outcome',
]);

/** Locks the cycle and says whether it is in one of `statuses` (a redelivery may find it moved on). */
async function lockCycleIn(m: EntityManager, cycleId: string, statuses: string[]): Promise<boolean> {
  const [row] = await m.query(`SELECT status FROM improvement_cycles WHERE id = $1 FOR UPDATE`, [cycleId]);
  return !!row && statuses.includes(row.status);
}

/**
 * model.evaluated → reject: cycle rejected + model.rejected. Inconclusive (ADR 0015): the same for
 * the champion and the candidate's version (not promoted), but the cycle ends `inconclusive` and
 * model.rejected says `outcome: inconclusive`, so back-off does not count it as a rejection.
 * Promote: cycle deploying → the
 * target serves the candidate → in one transaction the alias moves (history kept), the versions'
 * statuses, the cycle deployed with its score, model.deployed. A failed deployment leaves the
 * champion serving and fails the cycle with the reason. A deployer killed at any point resumes
 * from the cycle's state on redelivery (deploying → deploy again; targets are idempotent).
 */
@Injectable()
export class PromotionHandler {
  private readonly log = new Log('deployer', 'promotion');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(DEPLOYER_CONFIG) private readonly config: DeployerConfig,
    @Inject(DEPLOYMENT_TARGET) private readonly target: DeploymentTarget,
    @Inject(ArtifactStore) private readonly artifacts: ArtifactStore,
  ) {}

  async handle(event: EventEnvelope<ModelEvaluatedV1>): Promise<void> {
    const e = event.data;
    if (e.decision !== 'promote') return this.reject(event);
    const cycle = await findCycle(this.dataSource, e.cycle_id);
    if (!cycle || (cycle.status !== 'evaluated' && cycle.status !== 'deploying')) return;

    const deploymentId = await this.dataSource.transaction(async (m) => {
      if (!(await lockCycleIn(m, e.cycle_id, ['evaluated', 'deploying']))) return null;
      const moved = await transitionCycle(m, e.cycle_id, 'deploying', {
        reason: `deploying ${e.model_version} to ${this.target.name}`,
      });
      if (moved.cycle.status !== 'deploying') return null;
      await m.query(
        `INSERT INTO deployments (id, model_id, version, kind, target, status, cycle_id)
         VALUES ($1, $2, $3, 'promotion', $4, 'running', $5)
         ON CONFLICT (cycle_id) WHERE kind = 'promotion' DO NOTHING`,
        [randomUUID(), event.model_id, e.model_version, this.target.name, e.cycle_id],
      );
      const [row] = await m.query(`SELECT id FROM deployments WHERE cycle_id = $1 AND kind = 'promotion'`, [
        e.cycle_id,
      ]);
      return row.id as string;
    });
    if (!deploymentId) return;

    const version = await servableVersion(this.dataSource.manager, e.model_version);
    if (!version) throw new Error(`model version ${e.model_version} is not in the registry`);
    // A version the target cannot serve fails the cycle with the refusal's own code, untried.
    const refusal = await refuseToServe(this.dataSource.manager, version, this.target);
    const outcome: DeployOutcome = refusal
      ? { ok: false, message: refusal.message }
      : await deployWithRetries(this.target, version, this.config, this.log);
    deployments.inc({
      model_id: event.model_id,
      target: this.target.name,
      kind: 'promotion',
      outcome: outcome.ok ? 'succeeded' : refusal ? 'refused' : 'failed',
    });

    if (!outcome.ok) {
      await this.dataSource.transaction(async (m) => {
        await m.query(
          `UPDATE deployments SET status = 'failed', failure = $2, finished_at = now() WHERE id = $1 AND status = 'running'`,
          [deploymentId, outcome.message],
        );
        if (!(await lockCycleIn(m, e.cycle_id, ['deploying']))) return;
        await transitionCycle(m, e.cycle_id, 'failed', {
          failure: {
            code: refusal?.code ?? 'DEPLOYMENT_FAILED',
            message: `${e.model_version} could not be deployed; ${e.champion_version ?? 'the previous model'} keeps serving: ${outcome.message}`,
          },
          failedEventSource: 'deployer',
        });
      });
      return;
    }

    let pruned: StoredArtifact[] = [];
    const previous = await this.dataSource.transaction(async (m) => {
      const current = await lockAlias(m, event.model_id);
      if (!(await lockCycleIn(m, e.cycle_id, ['deploying']))) return undefined; // finished by an earlier delivery
      await m.query(
        `UPDATE deployments SET status = 'succeeded', served_as = $2, finished_at = now() WHERE id = $1`,
        [deploymentId, outcome.servedAs],
      );
      await moveAlias(m, {
        modelId: event.model_id,
        from: current,
        to: e.model_version,
        kind: 'promotion',
        actor: 'deployer',
        reason: e.reason,
        deploymentId,
      });
      const data: ModelDeployedV1 = {
        cycle_id: e.cycle_id,
        model_version: e.model_version,
        previous_version: current,
        target: this.target.name,
        served_as: outcome.servedAs,
        deployment_id: deploymentId,
        improvement_score: e.candidate.accuracy,
        alias: 'champion',
      };
      await transitionCycle(m, e.cycle_id, 'deployed', {
        patch: e.candidate.accuracy === null ? {} : { score: e.candidate.accuracy },
        reason: `${e.model_version} is champion (served by ${this.target.name} as ${outcome.servedAs})`,
        event: {
          subject: SUBJECTS.modelDeployed,
          envelope: followUp(event, SUBJECTS.modelDeployed, data, {
            source: 'deployer',
            cycleId: e.cycle_id,
          }),
        },
      });
      // Backups (ADR 0022): older deployed versions beyond the retention give up their artifacts.
      pruned = await pruneBackups(m, event.model_id, this.config.backupRetention);
      return current ? { version: current, servedAs: await servedAs(m, current) } : null;
    });
    await this.deletePruned(pruned);
    if (previous?.servedAs) {
      const old = await servableVersion(this.dataSource.manager, previous.version);
      await this.target.retire(old!, previous.servedAs).catch((err: Error) =>
        this.log.warn('could not retire the previous champion on the target', {
          version: previous.version,
          error: err.message,
        }),
      );
    }
    if (previous !== undefined)
      this.log.info('promoted', {
        cycle_id: e.cycle_id,
        version: e.model_version,
        previous: previous?.version ?? null,
      });
  }

  private async reject(event: EventEnvelope<ModelEvaluatedV1>): Promise<void> {
    const e = event.data;
    const outcome = e.decision === 'inconclusive' ? 'inconclusive' : 'rejected';
    await this.dataSource.transaction(async (m) => {
      if (!(await lockCycleIn(m, e.cycle_id, ['evaluated']))) return; // already decided, or failed meanwhile
      const data: ModelRejectedV1 = {
        cycle_id: e.cycle_id,
        model_version: e.model_version,
        evaluation_id: e.evaluation_id,
        champion_version: e.champion_version,
        reason: e.reason,
        outcome,
      };
      const moved = await transitionCycle(m, e.cycle_id, outcome, {
        reason: e.reason,
        event: {
          subject: SUBJECTS.modelRejected,
          envelope: followUp(event, SUBJECTS.modelRejected, data, {
            source: 'deployer',
            cycleId: e.cycle_id,
          }),
        },
      });
      if (moved.outcome === 'applied') await markRejected(m, e.model_version);
    });
  }

  /**
   * The objects of artifacts retention pruned, after the commit (a rollback of the transaction
   * must not have deleted anything); an object a live artifact shares stays. A failed delete is
   * logged and leaves an orphan object, never a broken version.
   */
  private async deletePruned(pruned: StoredArtifact[]): Promise<void> {
    if (pruned.length === 0) return;
    const objects = pruned.flatMap((a) => [
      { bucket: a.bucket, key: a.key },
      ...(a.config_key ? [{ bucket: a.bucket, key: a.config_key }] : []),
    ]);
    const free = new Set(await unreferencedKeys(this.dataSource.manager, objects));
    for (const o of objects.filter((x) => free.has(x.key)))
      await this.artifacts
        .delete(o.bucket, o.key)
        .catch((err: Error) =>
          this.log.warn('could not delete a pruned artifact object', { key: o.key, error: err.message }),
        );
    this.log.info('backups pruned', { versions: pruned.map((a) => a.version) });
  }
}
