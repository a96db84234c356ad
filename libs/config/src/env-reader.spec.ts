import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, readConfig } from './env-reader';
import { readServiceConfig } from './infra-config';

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
