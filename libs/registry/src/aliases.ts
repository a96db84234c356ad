import { iso, type Db } from './db';

/** Alias names: `champion` serves; `canary` is reserved for a later partial rollout. */
export const CHAMPION = 'champion';
export type AliasName = 'champion' | 'canary';

/**
 * The version an alias points at, with every move of the model's aliases serialised for the rest
 * of the transaction — even the very first move, when there is no alias row to lock yet.
 */
export async function lockAlias(m: Db, modelId: string, alias: AliasName = CHAMPION): Promise<string | null> {
  await m.query(`SELECT pg_advisory_xact_lock(hashtext('genesis-alias:' || $1))`, [modelId]);
  return aliasTarget(m, modelId, alias);
}

/** Who is champion: the alias, and nothing else (not a version's status, not a deployed cycle). */
export async function aliasTarget(
  db: Db,
  modelId: string,
  alias: AliasName = CHAMPION,
): Promise<string | null> {
  const [row] = await db.query(`SELECT version FROM model_aliases WHERE model_id = $1 AND alias = $2`, [
    modelId,
    alias,
  ]);
  return row?.version ?? null;
}

export const championOf = (db: Db, modelId: string) => aliasTarget(db, modelId, CHAMPION);

export interface AliasMove {
  modelId: string;
  alias?: AliasName;
  from: string | null;
  to: string;
  kind: 'promotion' | 'rollback';
  actor: string;
  reason: string;
  deploymentId: string | null;
}

/**
 * Moves an alias and keeps the move in alias_history (never overwritten). The version it now
 * points at is marked `promoted` (it passed the gate or was served before); "champion" and
 * "retired" are read from the alias, never stored. Call under lockAlias.
 */
export async function moveAlias(m: Db, move: AliasMove): Promise<void> {
  const alias = move.alias ?? CHAMPION;
  await m.query(
    `INSERT INTO model_aliases (model_id, alias, version, updated_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (model_id, alias) DO UPDATE SET version = EXCLUDED.version, updated_at = now()`,
    [move.modelId, alias, move.to],
  );
  await m.query(
    `INSERT INTO alias_history (model_id, alias, from_version, to_version, kind, actor, reason, deployment_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [move.modelId, alias, move.from, move.to, move.kind, move.actor, move.reason, move.deploymentId],
  );
  await m.query(`UPDATE model_versions SET status = 'promoted' WHERE version = $1`, [move.to]);
}

/** The version the alias pointed at before its last move onto `current` (a rollback's default target). */
export async function previousTarget(
  db: Db,
  modelId: string,
  current: string | null,
  alias: AliasName = CHAMPION,
): Promise<string | null> {
  if (!current) return null;
  const [row] = await db.query(
    `SELECT from_version FROM alias_history WHERE model_id = $1 AND alias = $2 AND to_version = $3
     ORDER BY id DESC LIMIT 1`,
    [modelId, alias, current],
  );
  return row?.from_version ?? null;
}

/** Every alias move of a model, newest first, with the deployment that carried it. */
export async function aliasHistory(db: Db, modelId: string, limit = 100): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT h.alias, h.model_id, h.from_version, h.to_version, h.kind, h.actor, h.reason, h.moved_at,
       d.target, d.served_as
     FROM alias_history h LEFT JOIN deployments d ON d.id = h.deployment_id
     WHERE h.model_id = $1 ORDER BY h.id DESC LIMIT $2`,
    [modelId, limit],
  );
  return rows.map((r) => ({ ...r, moved_at: iso(r['moved_at'] as Date) }));
}

/** Every version any alias of the model points at now (pruning never touches these). */
export async function aliasedVersions(db: Db, modelId: string): Promise<string[]> {
  const rows: { version: string }[] = await db.query(
    `SELECT version FROM model_aliases WHERE model_id = $1`,
    [modelId],
  );
  return rows.map((r) => r.version);
}
