import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { trustedProxiesProblem } from './trusted-proxies';

describe('trustedProxiesProblem', () => {
  it('accepts none, addresses, CIDRs and the named ranges', () => {
    for (const ok of [
      '',
      'uniquelocal',
      '10.0.0.0/8, 100.64.0.0/10',
      '192.168.1.7',
      'loopback,linklocal,uniquelocal',
      'fd00::/8,::1',
    ]) {
      assert.equal(trustedProxiesProblem(ok), undefined, ok);
    }
  });

  it('names the entry that is none of them', () => {
    assert.match(trustedProxiesProblem('10.0.0.0/8,true')!, /^"true" is not an IP address/);
    for (const bad of ['1', '10.0.0.0/33', '10.0.0.0/8/1', 'fc00::/129', 'private', '10.0.0.0/', 'a,']) {
      assert.ok(trustedProxiesProblem(bad), bad);
    }
  });
});
