import {
  readServiceConfig,
  trustedProxiesProblem,
  type EnvReader,
  type ServiceConfig,
} from '@genesis/config';
import { parseApiKeys, type ApiKey } from './auth/api-keys';
import { readVectorSettings, type VectorSettings } from '@genesis/vectors';
import { readRegistrySettings, type RegistrySettings } from '@genesis/registry';

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export interface GatewayConfig extends ServiceConfig {
  /** Semantic search: the vector index and the embedder's timeout (ADR 0018). */
  vectors: VectorSettings;
  /** Families from GENESIS_MODEL_FAMILIES (applied at boot) and GENESIS_MODEL_AUTO_REGISTER (ADR 0022). */
  registry: RegistrySettings;
  apiKeys: ApiKey[];
  rateLimitPerSecond: number;
  /** Requests per second per client address without a valid key (0: unlimited). */
  anonymousRateLimitPerSecond: number;
  /**
   * Proxies whose X-Forwarded-For names the client (comma-separated addresses, CIDRs, or
   * loopback / linklocal / uniquelocal); '' = none, the socket address is the client (ADR 0013).
   */
  trustedProxies: string;
  maxBodyBytes: number;
  batchMax: number;
  idempotencyTtlSeconds: number;
  publishTimeoutMs: number;
  /** GET /api/v1/events: open streams per gateway, and the heartbeat comment interval. */
  eventsMaxStreams: number;
  /** … of which one API key may hold at most this many. */
  eventsMaxStreamsPerKey: number;
  eventsHeartbeatMs: number;
}

export function readGatewayConfig(env: EnvReader): GatewayConfig {
  const apiKeys = env.json<ApiKey[]>('GENESIS_API_KEYS', [], parseApiKeys);
  if (apiKeys.length === 0 && !env.optionalStr('GENESIS_API_KEYS')) {
    env.fail('GENESIS_API_KEYS is required (a JSON list like [{"key":"…","scopes":["admin"]}])');
  }
  const trustedProxies = env.str('GENESIS_TRUSTED_PROXIES', '');
  const proxyProblem = trustedProxiesProblem(trustedProxies);
  if (proxyProblem) env.fail(`GENESIS_TRUSTED_PROXIES: ${proxyProblem}`);
  return {
    ...readServiceConfig(env, 'gateway'),
    vectors: readVectorSettings(env),
    registry: readRegistrySettings(env),
    apiKeys,
    rateLimitPerSecond: env.int('GENESIS_RATE_LIMIT_PER_SECOND', 2000, { min: 0 }),
    anonymousRateLimitPerSecond: env.int('GENESIS_ANONYMOUS_RATE_LIMIT_PER_SECOND', 50, { min: 0 }),
    trustedProxies,
    maxBodyBytes: env.int('GENESIS_MAX_BODY_BYTES', 16 * 1024 * 1024, { min: 1024 }),
    batchMax: env.int('GENESIS_BATCH_MAX', 1000, { min: 1, max: 10_000 }),
    idempotencyTtlSeconds: env.int('GENESIS_IDEMPOTENCY_TTL_SECONDS', 24 * 3600, { min: 60 }),
    publishTimeoutMs: env.int('GENESIS_PUBLISH_TIMEOUT_MS', 5000, { min: 100 }),
    eventsMaxStreams: env.int('GENESIS_EVENTS_MAX_STREAMS', 100, { min: 1, max: 10_000 }),
    eventsMaxStreamsPerKey: env.int('GENESIS_EVENTS_MAX_STREAMS_PER_KEY', 10, { min: 1, max: 10_000 }),
    eventsHeartbeatMs: env.int('GENESIS_EVENTS_HEARTBEAT_MS', 15_000, { min: 500, max: 300_000 }),
  };
}
