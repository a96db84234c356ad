import { createHash, hash, timingSafeEqual } from 'node:crypto';

export const SCOPES = ['learnings:write', 'status:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKey {
  /** A short, non-secret id for logs and per-key limits: the first 12 hex of the key's sha256. */
  id: string;
  sha256: Buffer;
  scopes: Set<Scope>;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Parses GENESIS_API_KEYS: `[{"key": "…", "scopes": [...]}]`, where `"sha256": "<hex>"` may stand
 * instead of `"key"` so production config need not hold raw keys. Throws a readable Error.
 */
export function parseApiKeys(value: unknown): ApiKey[] {
  if (!Array.isArray(value) || value.length === 0) throw new Error('expected a non-empty JSON list of keys');
  return value.map((entry, i) => {
    const e = entry as { key?: unknown; sha256?: unknown; scopes?: unknown };
    let hex: string;
    if (typeof e.key === 'string' && e.key.length >= 16) hex = sha256Hex(e.key);
    else if (typeof e.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(e.sha256)) hex = e.sha256.toLowerCase();
    else throw new Error(`entry ${i} needs "key" (at least 16 characters) or "sha256" (64 hex digits)`);
    if (!Array.isArray(e.scopes) || e.scopes.length === 0)
      throw new Error(`entry ${i} needs a non-empty "scopes" list`);
    for (const s of e.scopes) {
      if (!SCOPES.includes(s as Scope))
        throw new Error(`entry ${i} has unknown scope "${String(s)}" (${SCOPES.join(', ')})`);
    }
    return { id: hex.slice(0, 12), sha256: Buffer.from(hex, 'hex'), scopes: new Set(e.scopes as Scope[]) };
  });
}

export class ApiKeyRing {
  constructor(private readonly keys: ApiKey[]) {}

  find(presented: string): ApiKey | undefined {
    const digest = hash('sha256', presented, 'buffer');
    return this.keys.find((k) => timingSafeEqual(k.sha256, digest));
  }
}

/** `admin` may do everything. */
export function allows(key: ApiKey, scope: Scope): boolean {
  return key.scopes.has(scope) || key.scopes.has('admin');
}
