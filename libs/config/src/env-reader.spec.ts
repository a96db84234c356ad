import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, readConfig } from './env-reader';
import { readInfraConfig, readServiceConfig } from './infra-config';

describe('readConfig', () => {
  it('applies defaults when nothing is set', () => {
    const config = readConfig((env) => readServiceConfig(env, 'learner'), {});
    assert.equal(config.port, 9101);
    assert.equal(config.natsUrl, 'nats://127.0.0.1:4222');
  });

  it('reports every bad setting at once', () => {
    assert.throws(
      () =>
        readConfig((env) => readServiceConfig(env, 'gateway'), {
          GENESIS_GATEWAY_PORT: 'eighty',
          DATABASE_URL: 'mysql://x',
        }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.length === 2 &&
        /GENESIS_GATEWAY_PORT must be an integer/.test(err.message) &&
        /DATABASE_URL must use postgres/.test(err.message),
    );
  });

  it('rejects out-of-range numbers and unknown enum values', () => {
    assert.throws(
      () =>
        readConfig(
          (env) => ({
            threshold: env.int('T', 100, { min: 1 }),
            level: env.oneOf('L', ['a', 'b'] as const, 'a'),
          }),
          { T: '0', L: 'c' },
        ),
      /T must be between 1 and ∞ \(got 0\); L must be one of a, b/,
    );
  });
});

describe('NATS credentials', () => {
  it('a password alone logs the service in as its own user', () => {
    const config = readConfig((env) => readServiceConfig(env, 'learner'), { NATS_PASSWORD: 's3cret' });
    assert.deepEqual(config.natsAuth, { user: 'learner', password: 's3cret' });
  });

  it('no password, no authentication; NATS_USER overrides the default user', () => {
    assert.equal(readConfig((env) => readServiceConfig(env, 'gateway'), {}).natsAuth, undefined);
    const config = readConfig((env) => readServiceConfig(env, 'gateway'), {
      NATS_USER: 'gateway-blue',
      NATS_PASSWORD: 'x',
    });
    assert.equal(config.natsAuth?.user, 'gateway-blue');
  });

  it('a user without a password, or an odd user name, is a configuration error', () => {
    assert.throws(
      () => readConfig((env) => readServiceConfig(env, 'monitor'), { NATS_USER: 'monitor' }),
      /NATS_USER is set but NATS_PASSWORD is not/,
    );
    assert.throws(
      () => readConfig((env) => readServiceConfig(env, 'monitor'), { NATS_USER: 'a.b', NATS_PASSWORD: 'x' }),
      /NATS_USER must be letters, digits, - or _/,
    );
    assert.throws(
      () => readConfig((env) => readInfraConfig(env), { NATS_PASSWORD: 'x' }),
      /NATS_PASSWORD is set but NATS_USER is not/,
    );
  });
});
