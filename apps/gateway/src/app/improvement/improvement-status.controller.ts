import { Controller, Get, Inject, Query, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { computeStatus, readStatusCache, type ImprovementStatus, type TriggerPolicy } from '@genesis/cycles';
import { readLoop } from '@genesis/engine';
import { REDIS } from '@genesis/persistence';
import { AuthGuard, RequireScope } from '../auth/auth.guard';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { modelIdParam } from './model-id';
import { TRIGGER_POLICY } from './trigger-policy.provider';

/**
 * The spec's status document. Served from the Redis entry the monitor rewrites on every check and
 * every relevant event (one GET); computed from the database when that entry is missing.
 */
@Controller('api/v1/genesis/improvement')
@UseGuards(AuthGuard, RateLimitGuard)
export class ImprovementStatusController {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TRIGGER_POLICY) private readonly policy: TriggerPolicy,
  ) {}

  @Get('status')
  @RequireScope('status:read')
  async status(
    @Query('model_id') modelId: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ImprovementStatus> {
    const model = modelIdParam(modelId);
    // A Redis hiccup degrades to the database, never to an error.
    const cached = await readStatusCache(this.redis, model).catch(() => undefined);
    if (cached) {
      void reply.header('x-genesis-status-source', 'cache');
      return this.withLoop(cached);
    }
    void reply.header('x-genesis-status-source', 'database');
    return this.withLoop(await computeStatus(this.dataSource, this.policy, model, new Date()));
  }

  /**
   * A met threshold does not open a cycle while the loop is stopped (ADR 0024): should_trigger is
   * then false and trigger_reason says why, as it does while a met threshold waits for evidence.
   * The loop is read only when the answer would otherwise be yes, so the usual status stays one GET.
   */
  private async withLoop(status: ImprovementStatus): Promise<ImprovementStatus> {
    if (!status.should_trigger) return status;
    const loop = await readLoop(this.dataSource).catch(() => undefined);
    if (!loop || loop.running) return status;
    return {
      ...status,
      should_trigger: false,
      trigger_reason: `${status.trigger_reason}; the improvement loop is stopped (since ${loop.changed_at}): no automatic cycle opens until it is started (genesis loop start)`,
    };
  }
}
