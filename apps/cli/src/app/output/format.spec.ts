import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ago, bar, duration, num, parseDuration, table, time, truncate } from './format';

describe('format helpers', () => {
  it('formats times and relative times', () => {
    const now = new Date('2026-11-21T19:00:00Z');
    assert.equal(time('2026-11-21T18:57:00.123Z'), '2026-11-21 18:57:00Z');
    assert.equal(time(null), '—');
    assert.equal(ago('2026-11-21T18:57:00Z', now), '3m ago');
    assert.equal(ago('2026-11-19T19:00:00Z', now), '2d ago');
    assert.equal(ago('2026-11-21T19:00:05Z', now), 'in 5s');
  });

  it('formats durations compactly', () => {
    assert.equal(duration(850), '850ms');
    assert.equal(duration(42_000), '42s');
    assert.equal(duration(200_000), '3m 20s');
    assert.equal(duration(3 * 3600_000 + 120_000), '3h 2m');
    assert.equal(duration(26 * 3600_000), '1d 2h');
  });

  it('parses durations', () => {
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('30'), 30_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('ten'), undefined);
  });

  it('formats numbers, bars, tables and long text', () => {
    assert.equal(num(0.93), '0.93');
    assert.equal(num(0.912345), '0.912');
    assert.equal(num(12), '12');
    assert.equal(num(null), '—');
    assert.equal(bar(0.5, 10), '[#####.....]');
    assert.equal(bar(2, 4), '[####]');
    assert.deepEqual(
      table(
        ['A', 'LONG'],
        [
          ['xyz', 'v'],
          ['1', 'w'],
        ],
      ),
      ['A    LONG', 'xyz  v', '1    w'],
    );
    assert.equal(truncate('a  b\nc', 10), 'a b c');
    assert.equal(truncate('abcdefghij', 5), 'abcd…');
  });
});
