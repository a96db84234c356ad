import { ProblemError } from '../problem/problem';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function badQuery(detail: string): ProblemError {
  return new ProblemError(400, 'INVALID_QUERY', 'Bad request', detail);
}

/** `?limit=`: an integer from 1 to `max`, `fallback` when absent. */
export function limitParam(value: string | undefined, fallback = 50, max = 500): number {
  const limit = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw badQuery(`limit must be an integer from 1 to ${max}`);
  return limit;
}

/** The model id pattern of the API (libs/contracts' learning schema and the registry). */
export const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** `?name=` matching `pattern`, or undefined when absent. */
export function patternParam(value: string | undefined, name: string, pattern: RegExp): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!pattern.test(value)) throw badQuery(`${name} must match ${pattern.source}`);
  return value;
}

/** `?name=`: free text of 1 to `max` characters (the edge hook has refused NUL and lone surrogates). */
export function textParam(value: string | undefined, name: string, max: number): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length > max) throw badQuery(`${name} must be at most ${max} characters`);
  return value;
}

// RFC 3339: a four-digit year keeps every accepted time inside what Postgres' timestamptz holds.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2}))?$/;

/** `?name=`: an RFC 3339 date-time (or a date), undefined when absent. */
export function dateTimeParam(value: string | undefined, name: string): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const time = DATE_TIME.test(value) ? new Date(value) : undefined;
  if (!time || Number.isNaN(time.getTime())) throw badQuery(`${name} must be an RFC 3339 date-time`);
  return time;
}
