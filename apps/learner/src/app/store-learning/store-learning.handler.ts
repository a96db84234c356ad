import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  SUBJECTS,
  followUp,
  type EventEnvelope,
  type LearningCapturedV1,
  type LearningRejectedV1,
  type LearningStoredV1,
} from '@genesis/contracts';
import { counter, perModelSeries } from '@genesis/observability';
import {
  OUTBOX_RECORD,
  Outbox,
  enqueueEvents,
  isUniqueViolation,
  outboxRecordset,
  type CommittedEvent,
  type PendingEvent,
} from '@genesis/persistence';
import { type LearningScan, type QuarantineReason } from '@genesis/secrets';
import { cleanWithCurrentRules, learningContentHash, type SecretRuleSet } from '../clean-learning';
import { LEARNER_CONFIG, type LearnerConfig } from '../learner.config';
import { MicroBatcher } from './micro-batcher';

// Every known model's series at 0 (perModelSeries), so increase() sees its first learnings.
const stored = perModelSeries(
  counter('genesis_learnings_stored_total', 'Learnings stored by outcome', ['model_id', 'status']),
  { status: ['accepted', 'duplicate', 'quarantined', 'already-stored'] },
);
const redacted = perModelSeries(
  counter('genesis_learnings_redactions_total', 'Secrets redacted from learnings', ['model_id']),
);

export type StoreOutcome = 'accepted' | 'duplicate' | 'quarantined' | 'already-stored';

type Row = Partial<Record<(typeof COLUMNS)[number], unknown>> & {
  id: string;
  model_id: string;
  content_hash: string;
};

/** A cleaned learning, ready to be written. Cleaning (CPU) happens outside the transaction. */
interface Prepared {
  event: EventEnvelope<LearningCapturedV1>;
  row: Row;
  quarantine?: QuarantineReason;
}

/**
 * learning.captured → cleaned, deduplicated row + learning.stored / learning.rejected, written in
 * one transaction (the event goes through the outbox), so a crash anywhere loses and duplicates
 * nothing. Idempotent by learning id: a redelivered message finds its row and does nothing.
 * Concurrent learnings are cleaned together (one secret-scan pass) and share a transaction
 * (micro-batch); if a batch fails, each of its learnings is retried alone so one bad learning
 * cannot hold back the others.
 */
@Injectable()
export class StoreLearningHandler {
  private readonly batcher: MicroBatcher<EventEnvelope<LearningCapturedV1>, StoreOutcome>;
  private readonly rules: SecretRuleSet;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(LEARNER_CONFIG) config: LearnerConfig,
  ) {
    this.rules = config.secretRules;
    this.batcher = new MicroBatcher(
      (events) => this.storeBatch(events),
      config.batchSize,
      config.batchWaitMs,
    );
  }

  async handle(event: EventEnvelope<LearningCapturedV1>): Promise<StoreOutcome> {
    try {
      return await this.batcher.submit(event);
    } catch {
      return this.storeAlone(event);
    }
  }

  private async storeAlone(event: EventEnvelope<LearningCapturedV1>): Promise<StoreOutcome> {
    try {
      return (await this.storeBatch([event]))[0]!;
    } catch (err) {
      // A concurrent delivery of the same message won the race: it is stored, which is all we want.
      if (isUniqueViolation(err, 'learnings_pkey')) return 'already-stored';
      throw err;
    }
  }

  /**
   * Stores a batch with a fixed number of statements, whatever its size (a round trip per learning
   * was the learner's bottleneck). The common case — every learning new — is one statement: the
   * rows and their events, committed together. What that statement leaves out (an id already
   * stored, content already accepted) is sorted out in a transaction as before. The committed
   * events are then published at once; the outbox relay publishes whatever that misses.
   */
  private async storeBatch(events: EventEnvelope<LearningCapturedV1>[]): Promise<StoreOutcome[]> {
    const items = await prepareAll(events, this.rules);
    const outcomes = new Map<Prepared, StoreOutcome>();
    const committed: CommittedEvent[] = [];
    for (const [item, row] of await insertNew(this.dataSource, firstOfEachId(items))) {
      outcomes.set(item, item.quarantine ? 'quarantined' : 'accepted');
      committed.push(row);
    }
    const rest = items.filter((i) => !outcomes.has(i));
    if (rest.length > 0) {
      const sorted = await this.dataSource.transaction((m) => storeRest(m, rest));
      sorted.outcomes.forEach((outcome, item) => outcomes.set(item, outcome));
      committed.push(...sorted.committed);
    }
    await this.outbox.publishCommitted(committed);
    items.forEach((item) => {
      const outcome = outcomes.get(item)!;
      if (outcome === 'already-stored') return;
      stored.inc({ model_id: item.row.model_id, status: outcome });
      const redactions = Number(item.row.redaction_count ?? 0);
      if (redactions > 0) redacted.inc({ model_id: item.row.model_id }, redactions);
    });
    return items.map((i) => outcomes.get(i)!);
  }
}

/** Each learning id once (a message delivered twice can land in one batch); repeats go the slow way. */
function firstOfEachId(items: Prepared[]): Prepared[] {
  const seen = new Set<string>();
  return items.filter((i) => !seen.has(i.row.id) && seen.add(i.row.id));
}

/**
 * One statement (so one transaction): inserts each learning as accepted (quarantined: as
 * quarantined, without its text) together with its learning.stored / learning.rejected event.
 * A learning whose id is stored already, or whose content is accepted already (also earlier in
 * this batch), conflicts and is skipped with its event. Returns the inserted ones' outbox rows.
 */
async function insertNew(dataSource: DataSource, items: Prepared[]): Promise<Map<Prepared, CommittedEvent>> {
  const storedAt = new Date().toISOString();
  const rows = items.map((i) =>
    i.quarantine ? quarantinedRow(i.row, i.quarantine) : { ...i.row, status: 'accepted' },
  );
  const events = items.map((i) => ({
    ...(i.quarantine
      ? rejectedEvent(i.event, { status: 'quarantined', reason: i.quarantine })
      : storedEvent(i, storedAt)),
    key: i.row.id,
  }));
  const { json, byEventId } = outboxRecordset(events);
  const inserted: { id: string; event_id: string }[] = await dataSource.query(
    `WITH stored AS (
       ${INSERT_LEARNINGS} ON CONFLICT DO NOTHING RETURNING id
     )
     INSERT INTO outbox (event_id, subject, payload)
     SELECT e.event_id, e.subject, e.payload::text
     FROM json_to_recordset($2::json) AS ${OUTBOX_RECORD} JOIN stored ON stored.id = e.key::uuid
     RETURNING id, event_id`,
    [JSON.stringify(rows), json],
  );
  const itemByEventId = new Map(events.map((e, i) => [e.envelope.id, items[i]!]));
  return new Map(
    inserted.map((r) => [itemByEventId.get(r.event_id)!, { id: r.id, ...byEventId.get(r.event_id)! }]),
  );
}

/**
 * The learnings the one-statement insert left out, in a transaction: an id already stored is done;
 * content accepted under another id makes the learning a duplicate of that one (the partial
 * unique index decides, also against concurrent batches).
 */
async function storeRest(
  m: EntityManager,
  items: Prepared[],
): Promise<{ outcomes: Map<Prepared, StoreOutcome>; committed: CommittedEvent[] }> {
  const existing: { id: string }[] = await m.query(`SELECT id FROM learnings WHERE id = ANY($1::uuid[])`, [
    items.map((i) => i.row.id),
  ]);
  const seen = new Set(existing.map((r) => r.id));
  const results = new Map<Prepared, StoreOutcome>();
  const fresh: Prepared[] = [];
  for (const item of items) {
    if (seen.has(item.row.id)) results.set(item, 'already-stored');
    else {
      seen.add(item.row.id); // the same message twice in one batch
      fresh.push(item);
    }
  }

  // One candidate per content: the first of a batch; later ones are duplicates of the winner.
  const candidates = new Map<string, Prepared>();
  for (const item of fresh) {
    const key = `${item.row.model_id}|${item.row.content_hash}`;
    if (!item.quarantine && !candidates.has(key)) candidates.set(key, item);
  }
  const accepted: { id: string }[] = await insertRows(
    m,
    [...candidates.values()].map((i) => ({ ...i.row, status: 'accepted' })),
    `ON CONFLICT (model_id, content_hash) WHERE status = 'accepted' DO NOTHING`,
  );
  const acceptedIds = new Set(accepted.map((r) => r.id));
  const originals = await acceptedOriginals(
    m,
    fresh.filter((i) => !i.quarantine && !acceptedIds.has(i.row.id)),
  );

  const others: Row[] = [];
  const events: PendingEvent[] = [];
  const storedAt = new Date().toISOString();
  for (const item of fresh) {
    const { event, row, quarantine } = item;
    if (acceptedIds.has(row.id)) {
      results.set(item, 'accepted');
      events.push(storedEvent(item, storedAt));
    } else if (quarantine) {
      results.set(item, 'quarantined');
      others.push(quarantinedRow(row, quarantine));
      events.push(rejectedEvent(event, { status: 'quarantined', reason: quarantine }));
    } else {
      const original = originals.get(`${row.model_id}|${row.content_hash}`)!;
      results.set(item, 'duplicate');
      others.push(withoutText(row, { status: 'duplicate', duplicate_of: original }));
      events.push(
        rejectedEvent(event, {
          status: 'duplicate',
          duplicate_of: original,
          reason: {
            code: 'DUPLICATE_CONTENT',
            message: `same normalised content as learning ${original}`,
          },
        }),
      );
    }
  }
  await insertRows(m, others);
  return { outcomes: results, committed: await enqueueEvents(m, events) };
}

/** What could not be cleaned is not kept: only the metadata and the reason. */
function quarantinedRow(row: Row, quarantine: QuarantineReason): Row {
  return withoutText(row, {
    status: 'quarantined',
    quarantine_reason: `${quarantine.code}: ${quarantine.message}`,
  });
}

/** A row kept without its text (a duplicate or quarantined learning): what it is and why. */
function withoutText(row: Row, what: Partial<Row>): Row {
  return { ...row, context: null, model_output: null, correction: null, tests: null, ...what };
}

/** `model_id|content_hash` → id of the accepted learning with that content. */
async function acceptedOriginals(m: EntityManager, items: Prepared[]): Promise<Map<string, string>> {
  if (items.length === 0) return new Map();
  const rows: { id: string; model_id: string; content_hash: string }[] = await m.query(
    `SELECT l.id, l.model_id, l.content_hash FROM learnings l
     JOIN unnest($1::text[], $2::text[]) AS k(model_id, content_hash)
       ON l.model_id = k.model_id AND l.content_hash = k.content_hash
     WHERE l.status = 'accepted'`,
    [items.map((i) => i.row.model_id), items.map((i) => i.row.content_hash)],
  );
  return new Map(rows.map((r) => [`${r.model_id}|${r.content_hash}`, r.id]));
}

function storedEvent({ event, row }: Prepared, storedAt: string) {
  const data: LearningStoredV1 = {
    learning_id: row.id,
    model_id: row.model_id,
    kind: event.data.kind,
    source: row.source as string,
    ...(row.language ? { language: row.language as string } : {}),
    content_hash: row.content_hash,
    redactions: Number(row.redaction_count ?? 0),
    stored_at: storedAt,
  };
  return {
    subject: SUBJECTS.learningStored,
    envelope: followUp(event, SUBJECTS.learningStored, data, { source: 'learner' }),
  };
}

function rejectedEvent(
  event: EventEnvelope<LearningCapturedV1>,
  rejection: Omit<LearningRejectedV1, 'learning_id' | 'model_id'>,
) {
  const data: LearningRejectedV1 = {
    learning_id: event.data.learning_id,
    model_id: event.data.model_id,
    ...rejection,
  };
  return {
    subject: SUBJECTS.learningRejected,
    envelope: followUp(event, SUBJECTS.learningRejected, data, { source: 'learner' }),
  };
}

/**
 * Cleans every text of every learning (one secret-scan pass for the whole batch; metadata keys and values,
 * source, language and produced_by included), applies the quarantine policy, hashes the cleaned content.
 * Nothing raw goes past this point: the row and the follow-up event hold only cleaned values.
 */
async function prepareAll(
  events: EventEnvelope<LearningCapturedV1>[],
  rules: SecretRuleSet,
): Promise<Prepared[]> {
  const scans = await cleanWithCurrentRules(
    events.map(({ data: d }) => ({
      context: d.context,
      model_output: d.model_output,
      correction: d.correction,
      tests: d.tests,
      source: d.source,
      language: d.language,
      produced_by: d.produced_by,
      metadata: d.metadata,
    })),
    rules,
  );
  return events.map((event, i) => prepare(event, scans[i]!));
}

function prepare(event: EventEnvelope<LearningCapturedV1>, scan: LearningScan): Prepared {
  const d = event.data;
  const c = scan.cleaned;
  const row: Row = {
    id: d.learning_id,
    model_id: d.model_id,
    kind: d.kind,
    source: c.source ?? '[REDACTED]',
    language: c.language?.toLowerCase() ?? null,
    context: c.context ?? null,
    model_output: c.model_output ?? null,
    correction: c.correction ?? null,
    tests: c.tests ?? null,
    produced_by: c.produced_by ?? null,
    metadata: c.metadata ?? {},
    content_hash: learningContentHash({
      model_id: d.model_id,
      kind: d.kind,
      language: c.language,
      context: c.context,
      model_output: c.model_output,
      correction: c.correction ?? '',
    }),
    redaction_count: scan.redactions,
    secret_rule_set: scan.ruleSetVersion,
    event_id: event.id,
    captured_at: d.received_at,
  };
  return { event, row, quarantine: scan.quarantine };
}

const COLUMNS = [
  'id',
  'model_id',
  'kind',
  'source',
  'language',
  'context',
  'model_output',
  'correction',
  'tests',
  'produced_by',
  'metadata',
  'content_hash',
  'status',
  'duplicate_of',
  'quarantine_reason',
  'redaction_count',
  'secret_rule_set',
  'event_id',
  'captured_at',
] as const;

/** The learnings columns as `json_to_recordset` reads them: one JSON parameter for a whole batch. */
const LEARNING_RECORD = `r(id uuid, model_id text, kind text, source text, language text, context text,
  model_output text, correction text, tests text, produced_by text, metadata jsonb, content_hash text,
  status text, duplicate_of uuid, quarantine_reason text, redaction_count int, secret_rule_set text,
  event_id uuid, captured_at timestamptz)`;

/** Inserts the rows given as one JSON array in $1 (`JSON.stringify(rows)`). */
const INSERT_LEARNINGS = `INSERT INTO learnings (${COLUMNS.join(', ')})
  SELECT ${COLUMNS.join(', ')} FROM json_to_recordset($1::json) AS ${LEARNING_RECORD}`;

/** Inserts learnings rows in one statement; returns the ids `onConflict` did not swallow. */
async function insertRows(m: EntityManager, rows: Row[], onConflict = ''): Promise<{ id: string }[]> {
  if (rows.length === 0) return [];
  return m.query(`${INSERT_LEARNINGS} ${onConflict} RETURNING id`, [JSON.stringify(rows)]);
}
