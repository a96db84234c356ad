import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import {
  SUBJECTS,
  makeEnvelope,
  type CycleFailedV1,
  type EventEnvelope,
  type ThresholdReachedV1,
} from '@genesis/contracts';
import { histogram } from '@genesis/observability';
import { enqueueEvent } from '@genesis/persistence';
import {
  CycleTransitionError,
  phaseColumn,
  planTransition,
  type CycleKind,
  type CycleStatus,
  type TriggerKind,
} from './domain/cycle-state';
import type { TriggerCounts } from './domain/trigger-policy';

const phaseSeconds = histogram(
  'genesis_cycle_phase_duration_seconds',
  'Time an improvement cycle spent in a phase, observed when it left the phase',
  ['model_id', 'phase', 'to'],
  [1, 10, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400],
);

/** A row of improvement_cycles as node-postgres returns it. */
export interface CycleRow {
  id: string;
  model_id: string;
  status: CycleStatus;
  kind: CycleKind;
  trigger: TriggerKind;
  reason: string;
  counts: Partial<TriggerCounts>;
  requested_by: string | null;
  threshold_event_id: string | null;
  snapshot_id: string | null;
  model_version: string | null;
  score: number | null;
  evaluation_id: string | null;
  failed_phase: string | null;
  failure_reason: string | null;
  opened_at: Date;
  dataset_ready_at: Date | null;
  training_at: Date | null;
  trained_at: Date | null;
  evaluating_at: Date | null;
  evaluated_at: Date | null;
  deploying_at: Date | null;
  deployed_at: Date | null;
  rejected_at: Date | null;
  inconclusive_at: Date | null;
  failed_at: Date | null;
  phase_entered_at: Date;
  updated_at: Date;
}

const ACTIVE_SQL = `status NOT IN ('deployed', 'rejected', 'inconclusive', 'failed')`;

export interface OpenCycleInput {
  modelId: string;
  trigger: TriggerKind;
  reason: string;
  counts: Partial<TriggerCounts>;
  now: Date;
  requestedBy?: string;
  /** `training` (default) or `architecture` (ADR 0025). */
  kind?: CycleKind;
  /** Write threshold.reached now (the monitor), or leave it to the monitor (the gateway's manual trigger). */
  announce?: { source: string; cause?: EventEnvelope<unknown> };
}

export type OpenCycleResult = { opened: true; cycle: CycleRow } | { opened: false; active: CycleRow };

/**
 * Opens a cycle inside the caller's transaction. The partial unique index makes a concurrent
 * open wait for the other transaction and then do nothing, so exactly one cycle opens per model
 * however many monitors race; the loser gets the cycle that won.
 */
export async function openCycle(m: EntityManager, input: OpenCycleInput): Promise<OpenCycleResult> {
  const id = randomUUID();
  const rows: CycleRow[] = await m.query(
    `INSERT INTO improvement_cycles (id, model_id, status, trigger, reason, counts, requested_by, opened_at, phase_entered_at, updated_at, kind)
     VALUES ($1, $2, 'opened', $3, $4, $5, $6, $7, $7, $7, $8)
     ON CONFLICT (model_id) WHERE ${ACTIVE_SQL} DO NOTHING
     RETURNING *`,
    [
      id,
      input.modelId,
      input.trigger,
      input.reason,
      JSON.stringify(input.counts),
      input.requestedBy ?? null,
      input.now,
      input.kind ?? 'training',
    ],
  );
  const cycle = rows[0];
  if (!cycle) {
    const [active] = await m.query(`SELECT * FROM improvement_cycles WHERE model_id = $1 AND ${ACTIVE_SQL}`, [
      input.modelId,
    ]);
    // The winner may already have finished between our insert and this read: report it all the same.
    const winner =
      active ??
      (
        await m.query(
          `SELECT * FROM improvement_cycles WHERE model_id = $1 ORDER BY opened_at DESC LIMIT 1`,
          [input.modelId],
        )
      )[0];
    return { opened: false, active: winner as CycleRow };
  }
  await addTimeline(m, cycle.id, null, 'opened', input.now, { reason: input.reason });
  if (input.announce) await announce(m, cycle, input.announce.source, input.now, input.announce.cause);
  return { opened: true, cycle };
}

/**
 * Writes threshold.reached for a cycle that has none yet (a manual cycle opened by the gateway).
 * Idempotent: the event id is recorded on the row under a row lock, so it is written once.
 */
export async function announceCycle(
  m: EntityManager,
  cycleId: string,
  source: string,
  now: Date,
  cause?: EventEnvelope<unknown>,
): Promise<boolean> {
  const [cycle] = (await m.query(`SELECT * FROM improvement_cycles WHERE id = $1 FOR UPDATE`, [
    cycleId,
  ])) as CycleRow[];
  if (!cycle) throw new CycleTransitionError('CYCLE_NOT_FOUND', `no improvement cycle ${cycleId}`);
  if (cycle.threshold_event_id) return false;
  await announce(m, cycle, source, now, cause);
  return true;
}

async function announce(
  m: EntityManager,
  cycle: CycleRow,
  source: string,
  now: Date,
  cause?: EventEnvelope<unknown>,
): Promise<void> {
  const data: ThresholdReachedV1 = {
    cycle_id: cycle.id,
    model_id: cycle.model_id,
    trigger: cycle.trigger,
    reason: cycle.reason,
    ...(cycle.requested_by ? { requested_by: cycle.requested_by } : {}),
    opened_at: cycle.opened_at.toISOString(),
    counts: cycle.counts as ThresholdReachedV1['counts'],
  };
  const envelope = makeEnvelope(SUBJECTS.thresholdReached, data, {
    source,
    modelId: cycle.model_id,
    cycleId: cycle.id,
    time: now,
    correlationId: cause?.correlation_id ?? cycle.id,
    causationId: cause?.id ?? cycle.id,
  });
  await enqueueEvent(m, SUBJECTS.thresholdReached, envelope);
  await m.query(`UPDATE improvement_cycles SET threshold_event_id = $2 WHERE id = $1`, [
    cycle.id,
    envelope.id,
  ]);
  cycle.threshold_event_id = envelope.id;
  await addTimeline(m, cycle.id, cycle.status, cycle.status, now, {
    eventType: SUBJECTS.thresholdReached,
    eventId: envelope.id,
    reason: cycle.reason,
  });
}

export interface TransitionOptions {
  now?: Date;
  reason?: string;
  /** Required when moving to `failed`: why (stable code + message). */
  failure?: { code: string; message: string };
  /** Facts the step produced. */
  patch?: { snapshot_id?: string; model_version?: string; score?: number; evaluation_id?: string };
  /** An event that announces this step, written through the outbox in the same transaction. */
  event?: { subject: string; envelope: EventEnvelope<unknown> };
  /** Where a `cycle.failed` written for a failure says it came from (default: no event). */
  failedEventSource?: string;
}

export interface TransitionResult {
  outcome: 'applied' | 'noop';
  cycle: CycleRow;
}

/**
 * Moves a cycle to `to` under a row lock, idempotently: a repeated or stale step is a no-op, an
 * illegal one throws CycleTransitionError with a stable code. Stamps the phase timestamp, keeps a
 * timeline entry, and writes the announcing event (if any) in the same transaction.
 */
export async function transitionCycle(
  m: EntityManager,
  cycleId: string,
  to: CycleStatus,
  options: TransitionOptions = {},
): Promise<TransitionResult> {
  const now = options.now ?? new Date();
  const [cycle] = (await m.query(`SELECT * FROM improvement_cycles WHERE id = $1 FOR UPDATE`, [
    cycleId,
  ])) as CycleRow[];
  if (!cycle) throw new CycleTransitionError('CYCLE_NOT_FOUND', `no improvement cycle ${cycleId}`);
  if (planTransition(cycle.status, to) === 'noop') return { outcome: 'noop', cycle };

  const failure =
    to === 'failed' ? (options.failure ?? { code: 'FAILED', message: options.reason ?? 'failed' }) : null;
  const p = options.patch ?? {};
  const result: [CycleRow[], number] = await m.query(
    `UPDATE improvement_cycles SET status = $2, ${phaseColumn(to)} = $3, phase_entered_at = $3, updated_at = $3,
       failed_phase = $4, failure_reason = $5,
       snapshot_id = COALESCE($6, snapshot_id), model_version = COALESCE($7, model_version), score = COALESCE($8, score),
       evaluation_id = COALESCE($9, evaluation_id)
     WHERE id = $1 RETURNING *`,
    [
      cycleId,
      to,
      now,
      failure ? cycle.status : null,
      failure ? `${failure.code}: ${failure.message}` : null,
      p.snapshot_id ?? null,
      p.model_version ?? null,
      p.score ?? null,
      p.evaluation_id ?? null,
    ],
  );
  const row = result[0][0]!; // UPDATE … RETURNING comes back as [rows, count]

  let event = options.event;
  if (!event && failure && options.failedEventSource) {
    const data: CycleFailedV1 = {
      cycle_id: cycleId,
      model_id: cycle.model_id,
      // planTransition lets no terminal cycle fail again, so the phase is one the schema names.
      phase: cycle.status as CycleFailedV1['phase'],
      reason: failure,
      failed_at: now.toISOString(),
    };
    event = {
      subject: SUBJECTS.cycleFailed,
      envelope: makeEnvelope(SUBJECTS.cycleFailed, data, {
        source: options.failedEventSource,
        modelId: cycle.model_id,
        cycleId,
        time: now,
        correlationId: cycleId,
        causationId: cycleId,
      }),
    };
  }
  if (event) await enqueueEvent(m, event.subject, event.envelope);
  await addTimeline(m, cycleId, cycle.status, to, now, {
    eventType: event?.subject,
    eventId: event?.envelope.id,
    reason: failure ? `${failure.code}: ${failure.message}` : options.reason,
  });
  phaseSeconds.observe(
    { model_id: cycle.model_id, phase: cycle.status, to },
    Math.max(0, (now.getTime() - cycle.phase_entered_at.getTime()) / 1000),
  );
  return { outcome: 'applied', cycle: row };
}

async function addTimeline(
  m: EntityManager,
  cycleId: string,
  from: string | null,
  to: string,
  at: Date,
  extra: { eventType?: string; eventId?: string; reason?: string },
): Promise<void> {
  await m.query(
    `INSERT INTO cycle_transitions (cycle_id, from_status, to_status, at, event_type, event_id, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [cycleId, from, to, at, extra.eventType ?? null, extra.eventId ?? null, extra.reason ?? null],
  );
}

export async function findCycle(dataSource: DataSource, id: string): Promise<CycleRow | undefined> {
  const [row] = await dataSource.query(`SELECT * FROM improvement_cycles WHERE id = $1`, [id]);
  return row as CycleRow | undefined;
}

export interface TimelineEntry {
  at: string;
  from: string | null;
  to: string;
  event_type: string | null;
  event_id: string | null;
  reason: string | null;
}

export async function cycleTimeline(dataSource: DataSource, id: string): Promise<TimelineEntry[]> {
  const rows: {
    at: Date;
    from_status: string | null;
    to_status: string;
    event_type: string | null;
    event_id: string | null;
    reason: string | null;
  }[] = await dataSource.query(
    `SELECT at, from_status, to_status, event_type, event_id, reason FROM cycle_transitions WHERE cycle_id = $1 ORDER BY id`,
    [id],
  );
  return rows.map((r) => ({
    at: r.at.toISOString(),
    from: r.from_status,
    to: r.to_status,
    event_type: r.event_type,
    event_id: r.event_id,
    reason: r.reason,
  }));
}

export async function listCycles(
  dataSource: DataSource,
  filter: { modelId?: string; status?: CycleStatus; limit: number },
): Promise<CycleRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.modelId) where.push(`model_id = $${params.push(filter.modelId)}`);
  if (filter.status) where.push(`status = $${params.push(filter.status)}`);
  params.push(filter.limit);
  return dataSource.query(
    `SELECT * FROM improvement_cycles ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY opened_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
}

/** Non-terminal cycles, for the stuck-cycle sweep. */
export async function activeCycles(dataSource: DataSource): Promise<CycleRow[]> {
  return dataSource.query(`SELECT * FROM improvement_cycles WHERE ${ACTIVE_SQL} ORDER BY opened_at`);
}

/** The API's view of a cycle. */
export function cycleView(c: CycleRow) {
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    id: c.id,
    model_id: c.model_id,
    status: c.status,
    trigger: c.trigger,
    reason: c.reason,
    counts: c.counts,
    requested_by: c.requested_by,
    snapshot_id: c.snapshot_id,
    model_version: c.model_version,
    score: c.score,
    evaluation_id: c.evaluation_id ?? null,
    failed_phase: c.failed_phase,
    failure_reason: c.failure_reason,
    threshold_event_id: c.threshold_event_id,
    opened_at: c.opened_at.toISOString(),
    phase_entered_at: c.phase_entered_at.toISOString(),
    timestamps: {
      opened: iso(c.opened_at),
      dataset_ready: iso(c.dataset_ready_at),
      training: iso(c.training_at),
      trained: iso(c.trained_at),
      evaluating: iso(c.evaluating_at),
      evaluated: iso(c.evaluated_at),
      deploying: iso(c.deploying_at),
      deployed: iso(c.deployed_at),
      rejected: iso(c.rejected_at),
      inconclusive: iso(c.inconclusive_at),
      failed: iso(c.failed_at),
    },
  };
}
