import type { EnvReader } from './env-reader';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DAY_MS = UNIT_MS.d;

/** What provisioning reads besides the infrastructure URLs (libs/messaging's TopologySettings). */
export interface TopologyConfig {
  /** GENESIS_CAPTURE_DLQ_MAX_AGE: how long a raw capture's (cleaned) dead letter is kept (ADR 0019). */
  captureDlqMaxAgeMs: number;
}

/**
 * The bounds are the point: at least an hour, so that an operator paged by the alert can still read
 * the letter, and at most the 30 days every other dead letter gets, since a capture's letter is the
 * one that holds what a stranger typed.
 */
export const CAPTURE_DLQ_MAX_AGE = { fallback: '7d', minMs: 3_600_000, maxMs: 30 * DAY_MS } as const;

/** A duration written as a whole number and a unit: `90m`, `12h`, `7d`; undefined if it is not one. */
export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d{1,6})([mhd])$/.exec(text.trim());
  return match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : undefined;
}

export function readTopologyConfig(env: EnvReader): TopologyConfig {
  const raw = env.str('GENESIS_CAPTURE_DLQ_MAX_AGE', CAPTURE_DLQ_MAX_AGE.fallback);
  const ms = parseDurationMs(raw);
  if (ms === undefined || ms < CAPTURE_DLQ_MAX_AGE.minMs || ms > CAPTURE_DLQ_MAX_AGE.maxMs) {
    env.fail(`GENESIS_CAPTURE_DLQ_MAX_AGE must be a duration like 12h or 7d, from 1h to 30d (got "${raw}")`);
  }
  return { captureDlqMaxAgeMs: ms ?? parseDurationMs(CAPTURE_DLQ_MAX_AGE.fallback)! };
}
