import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type Redis from 'ioredis';
import { REDIS } from '@genesis/persistence';
import { counter } from '@genesis/observability';
import { problems } from '../problem/problem';
import type { AuthedRequest } from '../auth/auth.guard';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { countInWindow } from './fixed-window';

export const rateLimited = counter('genesis_http_rate_limited_total', 'Requests refused by the rate limit', [
  'key_id',
]);

/**
 * Per-key requests per second (requests without a valid key are limited per address, before their
 * body is read: see http/edge-hooks.ts), counted in Redis so every gateway replica shares one budget.
 * A fixed one-second window: cheap (one round trip) and good enough to stop a runaway client.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    if (!request.apiKey || this.config.rateLimitPerSecond === 0) return true;
    const count = await countInWindow(this.redis, request.apiKey.id);
    if (count > this.config.rateLimitPerSecond) {
      rateLimited.inc({ key_id: request.apiKey.id });
      throw problems.rateLimited(1);
    }
    return true;
  }
}
