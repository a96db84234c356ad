import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planSuiteVersion, suiteVersionName } from './suite-version';

const policy = { growth: 0.25, minNewItems: 1 };
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('the versioned in-domain suite', () => {
  it('freezes the first pool as version 1 and nothing when the pool is empty', () => {
    assert.deepEqual(planSuiteVersion(null, [], policy), {
      action: 'keep',
      version: 0,
      itemIds: [],
      fresh: 0,
      needed: 1,
    });
    const first = planSuiteVersion(null, ids('a', 8), policy);
    assert.equal(first.action, 'create');
    assert.equal(first.version, 1);
    assert.deepEqual(first.itemIds, ids('a', 8));
  });

  it('keeps a frozen version until the pool has grown by the configured share, then appends', () => {
    const v1 = { version: 1, itemIds: ids('a', 8) };
    // 8 items: a new version needs ceil(0.25 × 8) = 2 fresh ones.
    const one = planSuiteVersion(v1, [...ids('a', 8), 'b0'], policy);
    assert.equal(one.action, 'keep');
    assert.equal(one.version, 1);
    assert.deepEqual(one.itemIds, v1.itemIds, 'a frozen version never changes');
    const two = planSuiteVersion(v1, ['b1', ...ids('a', 8), 'b0'], policy);
    assert.equal(two.action, 'create');
    assert.equal(two.version, 2);
    assert.deepEqual(two.itemIds, [...ids('a', 8), 'b1', 'b0'], 'old items first, in their order');
  });

  it('honours a minimum number of new items', () => {
    const v1 = { version: 1, itemIds: ids('a', 4) };
    assert.equal(
      planSuiteVersion(v1, [...ids('a', 4), 'b0', 'b1'], { growth: 0.25, minNewItems: 3 }).action,
      'keep',
    );
    assert.equal(
      planSuiteVersion(v1, [...ids('a', 4), 'b0', 'b1', 'b2'], { growth: 0.25, minNewItems: 3 }).action,
      'create',
    );
  });

  it('cuts a new version when an item left the pool (a forgotten learning never stays in a suite)', () => {
    const v3 = { version: 3, itemIds: ids('a', 10) };
    const plan = planSuiteVersion(v3, ids('a', 10).slice(1), policy);
    assert.equal(plan.action, 'create');
    assert.equal(plan.version, 4);
    assert.deepEqual(plan.itemIds, ids('a', 10).slice(1));
  });

  it('names the suite every score was measured on', () => {
    const anchor = { suite: 'humaneval', version: '1.0.3', problems: 164 };
    assert.equal(
      suiteVersionName(2, 'regression.v1', { ...anchor, items: null }),
      'in-domain.v2+regression.v1+humaneval-1.0.3',
    );
    assert.equal(
      suiteVersionName(2, 'regression.v1', { ...anchor, items: 8 }),
      'in-domain.v2+regression.v1+humaneval-1.0.3@8',
    );
    assert.equal(suiteVersionName(0, 'regression.v1', null), 'in-domain.v0+regression.v1');
  });
});
