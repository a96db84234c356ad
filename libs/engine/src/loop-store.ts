import type { DataSource, EntityManager } from 'typeorm';

/** The loop's switch (engine_loop, one row): persisted, so a restarted planner keeps it. */
export interface LoopState {
  running: boolean;
  changed_at: string;
  changed_by: string;
  reason: string | null;
}

export async function readLoop(q: DataSource | EntityManager): Promise<LoopState> {
  const [row] = await q.query(`SELECT running, changed_at, changed_by, reason FROM engine_loop WHERE id = 1`);
  // The migration writes the row; a missing one (hand-edited database) reads as the default: running.
  if (!row)
    return { running: true, changed_at: new Date(0).toISOString(), changed_by: 'default', reason: null };
  return { ...row, changed_at: (row.changed_at as Date).toISOString() };
}

/** Starts or stops the loop; returns the state and whether it changed. */
export async function setLoop(
  q: DataSource | EntityManager,
  running: boolean,
  by: string,
  reason: string | null,
): Promise<{ state: LoopState; changed: boolean }> {
  const [rows]: [{ id: number }[], number] = await q.query(
    `UPDATE engine_loop SET running = $1, changed_at = now(), changed_by = $2, reason = $3
     WHERE id = 1 AND running <> $1 RETURNING id`,
    [running, by, reason],
  );
  return { state: await readLoop(q), changed: rows.length > 0 };
}

/**
 * Claims this interval's iteration for one planner replica (ADR 0027): the interval iterations
 * are a lease on the loop row. The holder renews it with every tick; another replica takes it
 * over only when the holder has been silent for 1.5 intervals (it died or stalled), so however
 * many replicas tick, one interval is one planning pass and one history row. `takeOver` claims
 * regardless (a replica's boot check: crash recovery must not wait a lease out).
 */
export async function claimIntervalIteration(
  q: DataSource | EntityManager,
  { holder, intervalSeconds, takeOver }: { holder: string; intervalSeconds: number; takeOver: boolean },
): Promise<boolean> {
  const [rows]: [{ id: number }[], number] = await q.query(
    `UPDATE engine_loop SET interval_holder = $1, interval_claimed_at = clock_timestamp()
     WHERE id = 1 AND ($3 OR interval_holder IS NULL OR interval_holder = $1
       OR interval_claimed_at < clock_timestamp() - make_interval(secs => $2 * 1.5))
     RETURNING id`,
    [holder, intervalSeconds, takeOver],
  );
  if (rows.length > 0) return true;
  // No loop row at all (a hand-edited database; readLoop reads it as running): nothing to share.
  const [row] = await q.query(`SELECT 1 FROM engine_loop WHERE id = 1`);
  return !row;
}

/**
 * Claims one engine.iteration_requested by its event id: true the first time only, so a
 * redelivered request (or the same one reaching two replicas) plans and records one iteration.
 */
export async function claimIterationRequest(
  q: DataSource | EntityManager,
  requestId: string,
  by: string,
): Promise<boolean> {
  const rows: unknown[] = await q.query(
    `INSERT INTO engine_iteration_requests (request_id, claimed_by, claimed_at) VALUES ($1, $2, clock_timestamp())
     ON CONFLICT (request_id) DO NOTHING RETURNING request_id`,
    [requestId, by],
  );
  // A redelivery comes within minutes (JetStream's ack wait × max deliveries): a week is plenty.
  if (rows.length > 0)
    await q.query(
      `DELETE FROM engine_iteration_requests WHERE claimed_at < clock_timestamp() - interval '7 days'`,
    );
  return rows.length > 0;
}
