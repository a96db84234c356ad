import { Body, Controller, Headers, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { REDIS } from '@genesis/persistence';
import { AuthGuard, RequireScope, type AuthedRequest } from '../auth/auth.guard';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { ProblemError, problems } from '../problem/problem';
import { IdempotencyStore } from './idempotency';
import { CaptureLearningService } from './capture-learning.service';

@Controller('api/v1/learnings')
@UseGuards(AuthGuard, RateLimitGuard)
export class CaptureLearningController {
  private readonly idempotency: IdempotencyStore;

  constructor(
    private readonly capture: CaptureLearningService,
    @Inject(REDIS) redis: Redis,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.idempotency = new IdempotencyStore(redis, config.idempotencyTtlSeconds);
  }

  @Post()
  @HttpCode(202)
  @RequireScope('learnings:write')
  async one(
    @Body() body: unknown,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<unknown> {
    return this.idempotent('one', body, req, reply, idempotencyKey, async (opts) => {
      const [id] = await this.capture.capture([body], () => '', opts);
      return { id };
    });
  }

  @Post('batch')
  @HttpCode(202)
  @RequireScope('learnings:write')
  async batch(
    @Body() body: unknown,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<unknown> {
    const learnings = (body as { learnings?: unknown } | null)?.learnings;
    if (!Array.isArray(learnings) || learnings.length === 0) {
      throw problems.validation('the body must be {"learnings": [ … ]} with at least one learning', [
        { path: '/learnings', message: 'must be a non-empty array' },
      ]);
    }
    if (learnings.length > this.config.batchMax) {
      throw new ProblemError(
        413,
        'BATCH_TOO_LARGE',
        'Batch too large',
        `a batch holds at most ${this.config.batchMax} learnings (got ${learnings.length}); split it`,
      );
    }
    return this.idempotent('batch', body, req, reply, idempotencyKey, async (opts) => ({
      ids: await this.capture.capture(learnings, (i) => `/learnings/${i}`, opts),
    }));
  }

  private async idempotent(
    route: string,
    body: unknown,
    req: AuthedRequest,
    reply: FastifyReply,
    idempotencyKey: string | undefined,
    work: (opts: { apiKeyId: string; correlationId: string; idSeed?: string }) => Promise<unknown>,
  ): Promise<unknown> {
    const apiKeyId = req.apiKey!.id;
    const correlationId = headerValue(req.headers['x-request-id']) ?? randomUUID();
    void reply.header('x-request-id', correlationId);
    if (idempotencyKey === undefined) return work({ apiKeyId, correlationId });
    if (idempotencyKey.length === 0 || idempotencyKey.length > 200) {
      throw new ProblemError(
        400,
        'INVALID_IDEMPOTENCY_KEY',
        'Bad request',
        'Idempotency-Key must be 1–200 characters',
      );
    }

    const scope = `${apiKeyId}:${route}`;
    const fingerprint = IdempotencyStore.fingerprint(body);
    const begin = await this.idempotency.begin(scope, idempotencyKey, fingerprint);
    if (begin.kind === 'replay') {
      void reply.status(begin.status).header('idempotent-replayed', 'true');
      return begin.body;
    }
    try {
      const result = await work({ apiKeyId, correlationId, idSeed: `${scope}:${idempotencyKey}` });
      await this.idempotency.complete(scope, idempotencyKey, fingerprint, 202, result);
      return result;
    } catch (err) {
      await this.idempotency.abandon(scope, idempotencyKey).catch(() => undefined);
      throw err;
    }
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v && v.length <= 200 ? v : undefined;
}
