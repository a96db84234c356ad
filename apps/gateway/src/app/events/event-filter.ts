import { STREAM_SUBJECTS, STREAMS, SUBJECTS, streamOf } from '@genesis/contracts';
import { badQuery } from '../http/query-params';

/** The event families of GENESIS_EVENTS (`learning`, `model`, …), from the stream's subject filters. */
export const EVENT_FAMILIES: readonly string[] = [
  ...new Set(STREAM_SUBJECTS[STREAMS.events].map((s) => s.split('.')[0]!)),
];
// Only what GENESIS_EVENTS stores: learning.captured (raw text) is in GENESIS_CAPTURES and is served to
// nobody here (ADR 0012); learning.stored is its cleaned record.
const KNOWN_EVENTS: readonly string[] = Object.values(SUBJECTS).filter((s) => streamOf(s) === STREAMS.events);
const MAX_FILTER_LENGTH = 100;
const SINCE_DURATION = /^(\d{1,6})(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const usage = () =>
  `subject must be ">" (every event), <family>.>, <family>.*, *.<event> or a known event subject; ` +
  `families: ${EVENT_FAMILIES.join(', ')}`;

/**
 * `?subject=`: one NATS filter over GENESIS_EVENTS, bounded to what the stream holds, so a typo
 * (`model.deploy`) is a 400 rather than a stream that stays silent forever. Returns undefined for
 * "every event". One filter only: several would need nats-server 2.10's filter_subjects.
 */
export function subjectFilter(value: string | undefined): string | undefined {
  if (value === undefined || value === '' || value === '>') return undefined;
  if (value.length > MAX_FILTER_LENGTH) throw badQuery(usage());
  const [family, name, ...rest] = value.split('.');
  if (rest.length > 0 || family === undefined || name === undefined) throw badQuery(usage());
  if (family === '*') {
    if (KNOWN_EVENTS.some((s) => s.endsWith(`.${name}`))) return value;
    throw badQuery(`no known event is named "${name}"; ${usage()}`);
  }
  if (!EVENT_FAMILIES.includes(family)) throw badQuery(`unknown event family "${family}"; ${usage()}`);
  if (name === '>' || name === '*' || KNOWN_EVENTS.includes(value)) return value;
  const known = KNOWN_EVENTS.filter((s) => s.startsWith(`${family}.`)).join(', ');
  throw badQuery(`unknown event subject "${value}" (known ${family} events: ${known})`);
}

/** Where the stream starts: new events only, everything, a time, or after a sequence (Last-Event-ID). */
export type StartPosition =
  { kind: 'new' } | { kind: 'all' } | { kind: 'time'; time: Date } | { kind: 'sequence'; sequence: number };

/**
 * `?since=` (`30s`, `10m`, `2h`, `7d`, an ISO 8601 time, or `all`) and the `Last-Event-ID` header
 * an EventSource sends when it reconnects, which wins: the client continues where it stopped.
 */
export function startPosition(
  since: string | undefined,
  lastEventId: string | undefined,
  now: Date,
): StartPosition {
  if (lastEventId !== undefined && lastEventId !== '') {
    const sequence = Number(lastEventId);
    if (!Number.isSafeInteger(sequence) || sequence < 0)
      throw badQuery('Last-Event-ID must be the id (a stream sequence) of an event this endpoint sent');
    return { kind: 'sequence', sequence: sequence + 1 };
  }
  if (since === undefined || since === '') return { kind: 'new' };
  if (since === 'all') return { kind: 'all' };
  const duration = SINCE_DURATION.exec(since);
  if (duration) return fromTime(new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2]!]!));
  const time = /^\d{4}-\d{2}-\d{2}T/.test(since) ? new Date(since) : undefined;
  if (!time || Number.isNaN(time.getTime()))
    throw badQuery('since must be a duration (30s, 10m, 2h, 7d), an ISO 8601 date-time, or "all"');
  if (time.getTime() > now.getTime() + 60_000) throw badQuery('since lies in the future');
  return fromTime(time);
}

/**
 * Nothing on the stream predates 1970; an earlier time (`999999d`) means "everything", which also
 * keeps a year NATS cannot parse out of the consumer request (that failed as a retryable 503).
 */
function fromTime(time: Date): StartPosition {
  return time.getTime() < 0 ? { kind: 'all' } : { kind: 'time', time };
}
