import { EnvReader } from './env-reader';

/** Where the shared infrastructure lives; every service reads the same three URLs. */
export interface InfraConfig {
  natsUrl: string;
  /**
   * The process's own NATS user (NATS_USER, default: its service name) and NATS_PASSWORD; absent
   * when no password is set (a server without auth, or credentials inside NATS_URL).
   */
  natsAuth?: NatsAuth;
  databaseUrl: string;
  redisUrl: string;
}

export interface NatsAuth {
  user: string;
  password: string;
}

export const INFRA_DEFAULTS = {
  natsUrl: 'nats://127.0.0.1:4222',
  databaseUrl: 'postgres://genesis:genesis@127.0.0.1:5432/genesis',
  redisUrl: 'redis://127.0.0.1:6379',
} as const;

/**
 * `natsUser` is the NATS user a password belongs to when NATS_USER is not set: the service's name
 * for services (deploy/nats/auth.conf has one user per service), `ops` for provisioning.
 */
export function readInfraConfig(env: EnvReader, natsUser?: string): InfraConfig {
  return {
    natsUrl: env.url('NATS_URL', INFRA_DEFAULTS.natsUrl, ['nats', 'tls', 'ws', 'wss']),
    natsAuth: readNatsAuth(env, natsUser),
    databaseUrl: env.url('DATABASE_URL', INFRA_DEFAULTS.databaseUrl, ['postgres', 'postgresql']),
    redisUrl: env.url('REDIS_URL', INFRA_DEFAULTS.redisUrl, ['redis', 'rediss']),
  };
}

function readNatsAuth(env: EnvReader, defaultUser: string | undefined): NatsAuth | undefined {
  const password = env.optionalStr('NATS_PASSWORD');
  const user = env.optionalStr('NATS_USER') ?? (password ? defaultUser : undefined);
  if (user && !password) env.fail('NATS_USER is set but NATS_PASSWORD is not');
  if (password && !user) env.fail('NATS_PASSWORD is set but NATS_USER is not');
  if (user && !/^[A-Za-z0-9_-]{1,64}$/.test(user)) {
    env.fail(`NATS_USER must be letters, digits, - or _ (got "${user}")`);
  }
  return user && password ? { user, password } : undefined;
}

/** Default HTTP ports (health, metrics, and the gateway's API); one env var per service. */
export const SERVICE_PORTS = {
  gateway: { env: 'GENESIS_GATEWAY_PORT', port: 8000 },
  learner: { env: 'GENESIS_LEARNER_PORT', port: 9101 },
  monitor: { env: 'GENESIS_MONITOR_PORT', port: 9127 },
  'trainer-bridge': { env: 'GENESIS_TRAINER_BRIDGE_PORT', port: 9103 },
  evaluator: { env: 'GENESIS_EVALUATOR_PORT', port: 9104 },
  deployer: { env: 'GENESIS_DEPLOYER_PORT', port: 9105 },
} as const;

export type ServiceName = keyof typeof SERVICE_PORTS;

export interface ServiceConfig extends InfraConfig {
  service: ServiceName;
  port: number;
  host: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  shutdownGraceMs: number;
}

export function readServiceConfig(env: EnvReader, service: ServiceName): ServiceConfig {
  const { env: portVar, port } = SERVICE_PORTS[service];
  return {
    ...readInfraConfig(env, service),
    service,
    port: env.int(portVar, port, { min: 1, max: 65535 }),
    host: env.str('GENESIS_BIND_HOST', '0.0.0.0'),
    logLevel: env.oneOf('GENESIS_LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
    shutdownGraceMs: env.int('GENESIS_SHUTDOWN_GRACE_MS', 10_000, { min: 0 }),
  };
}
