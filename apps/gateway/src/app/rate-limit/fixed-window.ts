import type Redis from 'ioredis';

/**
 * Counts one request in `bucket`'s current one-second window, in Redis so that every gateway
 * replica shares one budget; returns the count so far in this window. A fixed window is one round
 * trip and good enough to stop a runaway or hostile client (a burst of twice the budget across a
 * window edge is the price).
 */
export async function countInWindow(redis: Redis, bucket: string, now = Date.now()): Promise<number> {
  const key = `genesis:rl:${bucket}:${Math.floor(now / 1000)}`;
  const [[, count]] = (await redis.multi().incr(key).pexpire(key, 2000).exec()) as [[null, number]];
  return count;
}
