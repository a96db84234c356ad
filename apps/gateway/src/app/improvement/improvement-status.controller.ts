import { Controller, Get, Inject, Query, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { computeStatus, readStatusCache, type ImprovementStatus, type TriggerPolicy } from '@genesis/cycles';
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
      return cached;
    }
    void reply.header('x-genesis-status-source', 'database');
    return computeStatus(this.dataSource, this.policy, model, new Date());
  }
}
