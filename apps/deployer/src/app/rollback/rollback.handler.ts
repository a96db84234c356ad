import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import {
  SUBJECTS,
  followUp,
  type EventEnvelope,
  type ModelRolledBackV1,
  type RollbackRequestedV1,
} from '@genesis/contracts';
import { counter, Log, perModelSeries } from '@genesis/observability';
import { enqueueEvent } from '@genesis/persistence';
import { DEPLOYER_CONFIG, type DeployerConfig } from '../deployer.config';
import { deployments } from '../promote/promotion.handler';
import { lockAlias, moveAlias, previousTarget, servableVersion, versionFacts } from '@genesis/registry';
import { refuseToServe } from '../registry/registry';
import { DEPLOYMENT_TARGET, deployWithRetries, type DeploymentTarget } from '../targets';

/**
 * A rollback is the champion alias moved back; a refused or failed request moved nothing, so it
 * is counted only among the requests (a dashboard summing "rollbacks" must not see refusals).
 */
const rollbacks = perModelSeries(
  counter('genesis_rollbacks_total', 'Champion rollbacks carried out (the alias moved back)', ['model_id']),
);
const requests = perModelSeries(
  counter('genesis_rollback_requests_total', 'Rollback requests by outcome: succeeded, refused, failed', [
    'model_id',
    'outcome',
  ]),
  { outcome: ['succeeded', 'refused', 'failed'] },
);

interface RequestRow {
  request_id: string;
  model_id: string;
  version: string | null;
  reason: string;
  requested_by: string;
  status: 'pending' | 'succeeded' | 'failed';
}

/**
 * rollback.requested → the chosen earlier version (default: the one the alias left on its last
 * move) is deployed again, then the alias moves back with the requester and the reason in its
 * history, and model.rolled_back is announced. The request row (written by the gateway) carries
 * the outcome; a request that cannot be honoured fails with the reason and changes nothing.
 */
@Injectable()
export class RollbackHandler {
  private readonly log = new Log('deployer', 'rollback');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(DEPLOYER_CONFIG) private readonly config: DeployerConfig,
    @Inject(DEPLOYMENT_TARGET) private readonly target: DeploymentTarget,
  ) {}

  async handle(event: EventEnvelope<RollbackRequestedV1>): Promise<void> {
    const requestId = event.data.request_id;
    const plan = await this.dataSource.transaction(async (m) => {
      const request = await this.lockRequest(m, requestId);
      if (!request || request.status !== 'pending') return null;
      const current = await lockAlias(m, request.model_id);
      const to = request.version ?? (await previousTarget(m, request.model_id, current));
      const problem = await this.refuse(m, request, current, to);
      if (problem) {
        await this.finish(m, requestId, 'failed', { from: current, to, failure: problem });
        requests.inc({ model_id: request.model_id, outcome: 'refused' });
        return null;
      }
      await m.query(
        `INSERT INTO deployments (id, model_id, version, kind, target, status, request_id)
         VALUES ($1, $2, $3, 'rollback', $4, 'running', $5)
         ON CONFLICT (request_id) WHERE kind = 'rollback' DO NOTHING`,
        [randomUUID(), request.model_id, to, this.target.name, requestId],
      );
      const [d] = await m.query(`SELECT id FROM deployments WHERE request_id = $1 AND kind = 'rollback'`, [
        requestId,
      ]);
      return { request, to: to!, deploymentId: d.id as string };
    });
    if (!plan) return;

    const version = await servableVersion(this.dataSource.manager, plan.to);
    const outcome = await deployWithRetries(this.target, version!, this.config, this.log);
    deployments.inc({
      model_id: plan.request.model_id,
      target: this.target.name,
      kind: 'rollback',
      outcome: outcome.ok ? 'succeeded' : 'failed',
    });

    await this.dataSource.transaction(async (m) => {
      const request = await this.lockRequest(m, requestId);
      if (!request || request.status !== 'pending') return;
      const current = await lockAlias(m, request.model_id);
      if (!outcome.ok) {
        await m.query(
          `UPDATE deployments SET status = 'failed', failure = $2, finished_at = now() WHERE id = $1`,
          [plan.deploymentId, outcome.message],
        );
        await this.finish(m, requestId, 'failed', {
          from: current,
          to: plan.to,
          failure: `deployment failed, ${current} keeps serving: ${outcome.message}`,
        });
        requests.inc({ model_id: request.model_id, outcome: 'failed' });
        return;
      }
      await m.query(
        `UPDATE deployments SET status = 'succeeded', served_as = $2, finished_at = now() WHERE id = $1`,
        [plan.deploymentId, outcome.servedAs],
      );
      await moveAlias(m, {
        modelId: request.model_id,
        from: current,
        to: plan.to,
        kind: 'rollback',
        actor: request.requested_by,
        reason: request.reason,
        deploymentId: plan.deploymentId,
      });
      await this.finish(m, requestId, 'succeeded', { from: current, to: plan.to });
      const data: ModelRolledBackV1 = {
        request_id: requestId,
        from_version: current!,
        to_version: plan.to,
        reason: request.reason,
        requested_by: request.requested_by,
        target: this.target.name,
        deployment_id: plan.deploymentId,
      };
      await enqueueEvent(
        m,
        SUBJECTS.modelRolledBack,
        followUp(event, SUBJECTS.modelRolledBack, data, { source: 'deployer' }),
      );
      requests.inc({ model_id: request.model_id, outcome: 'succeeded' });
      rollbacks.inc({ model_id: request.model_id });
      this.log.info('rolled back', {
        request_id: requestId,
        from: current,
        to: plan.to,
        by: request.requested_by,
      });
    });
  }

  private async lockRequest(m: EntityManager, requestId: string): Promise<RequestRow | undefined> {
    const [row] = await m.query(`SELECT * FROM rollback_requests WHERE request_id = $1 FOR UPDATE`, [
      requestId,
    ]);
    if (!row) this.log.warn('rollback.requested without its request row ignored', { request_id: requestId });
    return row;
  }

  /** Why a rollback cannot go ahead, or null. */
  private async refuse(
    m: EntityManager,
    request: RequestRow,
    current: string | null,
    to: string | null,
  ): Promise<string | null> {
    if (!current) return `${request.model_id} has no champion to roll back`;
    if (!to) return `${current} has no earlier champion to roll back to; name a version`;
    if (to === current) return `${to} is already the champion`;
    const row = await versionFacts(m, to);
    if (!row) return `no model version ${to}`;
    if (row.model_id !== request.model_id) return `${to} belongs to ${row.model_id}, not ${request.model_id}`;
    if (row.status !== 'promoted')
      return `${to} was never promoted (status ${row.status}); only a former champion can be rolled back to`;
    // Restoring a backup is this rollback: its artifact must still exist and suit the target.
    const servable = await servableVersion(m, to);
    if (!servable) return `${to} has no artifact in the registry`;
    const refusal = await refuseToServe(m, servable, this.target);
    return refusal ? `${refusal.code}: ${refusal.message}` : null;
  }

  private async finish(
    m: EntityManager,
    requestId: string,
    status: 'succeeded' | 'failed',
    r: { from: string | null; to: string | null; failure?: string },
  ) {
    await m.query(
      `UPDATE rollback_requests SET status = $2, from_version = $3, to_version = $4, failure = $5, finished_at = now()
       WHERE request_id = $1`,
      [requestId, status, r.from, r.to, r.failure ?? null],
    );
  }
}
