import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, readConfig } from './env-reader';
import { parseDurationMs, readTopologyConfig } from './topology-config';

describe('readTopologyConfig', () => {
  it('keeps a capture dead letter 7 days unless told otherwise', () => {
    assert.equal(readConfig(readTopologyConfig, {}).captureDlqMaxAgeMs, 7 * 86_400_000);
    const config = readConfig(readTopologyConfig, { GENESIS_CAPTURE_DLQ_MAX_AGE: '36h' });
    assert.equal(config.captureDlqMaxAgeMs, 36 * 3_600_000);
  });

  it('refuses what is not a duration, under an hour, or over 30 days, in one line', () => {
    for (const bad of ['7', 'a week', '30m', '31d', '-1d', '1.5d']) {
      assert.throws(
        () => readConfig(readTopologyConfig, { GENESIS_CAPTURE_DLQ_MAX_AGE: bad }),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.problems.length === 1 &&
          err.message.includes(`GENESIS_CAPTURE_DLQ_MAX_AGE must be a duration like 12h or 7d`),
        bad,
      );
    }
    assert.equal(parseDurationMs('90m'), 90 * 60_000);
    assert.equal(parseDurationMs('1h'), 3_600_000);
  });
});
