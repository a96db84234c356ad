import type Redis from 'ioredis';
import { createHash } from 'node:crypto';
import { ProblemError } from '../problem/problem';

interface Stored {
  state: 'pending' | 'done';
  fingerprint: string;
  status?: number;
  body?: unknown;
}

export type Begin = { kind: 'new' } | { kind: 'replay'; status: number; body: unknown };

/**
 * Idempotency-Key handling in Redis, shared by all gateway replicas: the first request claims the
 * key, a retry gets the stored response, a concurrent duplicate gets 409, and reusing a key for a
 * different body gets 422.
 */
export class IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly pendingTtlSeconds = 60,
  ) {}

  static fingerprint(body: unknown): string {
    return createHash('sha256')
      .update(JSON.stringify(body ?? null))
      .digest('hex');
  }

  private key(scope: string, idempotencyKey: string): string {
    return `genesis:idem:${scope}:${createHash('sha256').update(idempotencyKey).digest('hex')}`;
  }

  async begin(scope: string, idempotencyKey: string, fingerprint: string): Promise<Begin> {
    const key = this.key(scope, idempotencyKey);
    const claim: Stored = { state: 'pending', fingerprint };
    const ok = await this.redis.set(key, JSON.stringify(claim), 'EX', this.pendingTtlSeconds, 'NX');
    if (ok === 'OK') return { kind: 'new' };
    const raw = await this.redis.get(key);
    if (raw === null) return this.begin(scope, idempotencyKey, fingerprint); // expired in between
    const stored = JSON.parse(raw) as Stored;
    if (stored.fingerprint !== fingerprint) {
      throw new ProblemError(
        422,
        'IDEMPOTENCY_KEY_REUSED',
        'Idempotency-Key reused',
        'this Idempotency-Key was already used with a different request body',
      );
    }
    if (stored.state === 'pending') {
      throw new ProblemError(
        409,
        'IDEMPOTENCY_IN_PROGRESS',
        'Request in progress',
        'a request with this Idempotency-Key is still being processed; retry shortly',
        {},
        { 'retry-after': '1' },
      );
    }
    return { kind: 'replay', status: stored.status ?? 200, body: stored.body };
  }

  async complete(scope: string, idempotencyKey: string, fingerprint: string, status: number, body: unknown) {
    const done: Stored = { state: 'done', fingerprint, status, body };
    await this.redis.set(this.key(scope, idempotencyKey), JSON.stringify(done), 'EX', this.ttlSeconds);
  }

  /** The request failed: free the key so the client's retry runs again (with the same ids). */
  async abandon(scope: string, idempotencyKey: string): Promise<void> {
    await this.redis.del(this.key(scope, idempotencyKey));
  }

  /**
   * `work` once per Idempotency-Key and body, for a route that creates something: a retry of a
   * request whose answer was lost gets that answer again (`Idempotent-Replayed: true`) instead of
   * a second creation or a conflict with the first. Without a key `work` simply runs; a failure
   * frees the key, so the retry runs again.
   */
  async once<T>(
    scope: string,
    idempotencyKey: string | undefined,
    body: unknown,
    status: number,
    reply: { status(code: number): unknown; header(name: string, value: string): unknown },
    work: () => Promise<T>,
  ): Promise<T> {
    if (idempotencyKey === undefined) return work();
    if (idempotencyKey.length === 0 || idempotencyKey.length > 200)
      throw new ProblemError(
        400,
        'INVALID_IDEMPOTENCY_KEY',
        'Bad request',
        'Idempotency-Key must be 1–200 characters',
      );
    const fingerprint = IdempotencyStore.fingerprint(body);
    const begin = await this.begin(scope, idempotencyKey, fingerprint);
    if (begin.kind === 'replay') {
      reply.status(begin.status);
      reply.header('idempotent-replayed', 'true');
      return begin.body as T;
    }
    try {
      const result = await work();
      await this.complete(scope, idempotencyKey, fingerprint, status, result);
      return result;
    } catch (err) {
      await this.abandon(scope, idempotencyKey).catch(() => undefined);
      throw err;
    }
  }
}
