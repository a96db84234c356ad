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
