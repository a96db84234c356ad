import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProblemError } from '../problem/problem';
import { startPosition, subjectFilter } from './event-filter';

const refused = (f: () => unknown) =>
  assert.throws(
    f,
    (e: unknown) => e instanceof ProblemError && e.status === 400 && e.code === 'INVALID_QUERY',
  );

describe('subjectFilter', () => {
  it('takes every event, a family, one event, or one event name across families', () => {
    assert.equal(subjectFilter(undefined), undefined);
    assert.equal(subjectFilter('>'), undefined);
    assert.equal(subjectFilter('model.>'), 'model.>');
    assert.equal(subjectFilter('learning.*'), 'learning.*');
    assert.equal(subjectFilter('model.deployed'), 'model.deployed');
    assert.equal(subjectFilter('*.failed'), '*.failed');
  });

  it('refuses what GENESIS_EVENTS does not hold, typos, and deeper or wider filters', () => {
    for (const bad of [
      'jobs.>',
      'jobs.train',
      'dlq.>',
      'model.deploy',
      'model',
      'a.b.c',
      '*.nothing',
      '*.>',
      'model..x',
    ]) {
      refused(() => subjectFilter(bad));
    }
    refused(() => subjectFilter(`model.${'x'.repeat(200)}`));
  });
});

describe('startPosition', () => {
  const now = new Date('2026-11-21T19:00:00Z');
  it('reads durations, ISO times, "all" and defaults to new events', () => {
    assert.deepEqual(startPosition(undefined, undefined, now), { kind: 'new' });
    assert.deepEqual(startPosition('all', undefined, now), { kind: 'all' });
    assert.deepEqual(startPosition('10m', undefined, now), {
      kind: 'time',
      time: new Date('2026-11-21T18:50:00Z'),
    });
    assert.deepEqual(startPosition('2d', undefined, now), {
      kind: 'time',
      time: new Date('2026-11-19T19:00:00Z'),
    });
    assert.deepEqual(startPosition('2026-11-21T12:00:00Z', undefined, now), {
      kind: 'time',
      time: new Date('2026-11-21T12:00:00Z'),
    });
  });

  it('reads a start before 1970 as everything', () => {
    assert.deepEqual(startPosition('999999d', undefined, now), { kind: 'all' });
    assert.deepEqual(startPosition('1969-12-31T23:59:59Z', undefined, now), { kind: 'all' });
  });

  it('continues after Last-Event-ID, whatever since says', () => {
    assert.deepEqual(startPosition('10m', '41', now), { kind: 'sequence', sequence: 42 });
  });

  it('refuses malformed values and the future', () => {
    for (const bad of ['yesterday', '10', '5w', '2026-13-45T00:00:00Z', '2026-11-22T19:00:00Z']) {
      refused(() => startPosition(bad, undefined, now));
    }
    refused(() => startPosition(undefined, '-1', now));
    refused(() => startPosition(undefined, 'abc', now));
  });
});
