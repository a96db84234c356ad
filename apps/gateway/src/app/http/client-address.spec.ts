import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addressBucket } from './client-address';

describe('addressBucket', () => {
  it('keeps IPv4 addresses, and reads IPv4-mapped IPv6 as IPv4', () => {
    assert.equal(addressBucket('203.0.113.7'), '203.0.113.7');
    assert.equal(addressBucket('::ffff:203.0.113.7'), '203.0.113.7');
  });

  it('puts every address of one IPv6 /64 in one bucket, however it is written', () => {
    const bucket = addressBucket('2001:db8:0:1::1');
    assert.equal(bucket, '2001:db8:0:1::/64');
    assert.equal(addressBucket('2001:0db8:0000:0001:ffff:ffff:ffff:ffff'), bucket);
    assert.equal(addressBucket('2001:DB8:0:1:a:b:c:d'), bucket);
    assert.notEqual(addressBucket('2001:db8:0:2::1'), bucket);
    assert.equal(addressBucket('::1'), '0:0:0:0::/64');
  });
});
