import type { EntityManager } from 'typeorm';
import type { AdapterRef } from '@genesis/contracts';
import type { DeployableVersion } from '../targets';

export const CHAMPION = 'champion';

/** The champion alias of a model, locked for the rest of the transaction (null: none yet). */
export async function lockChampion(m: EntityManager, modelId: string): Promise<string | null> {
  // Serialises every alias move of a model, even the very first (no alias row to lock yet).
  await m.query(`SELECT pg_advisory_xact_lock(hashtext('genesis-alias:' || $1))`, [modelId]);
  const [row] = await m.query(`SELECT version FROM model_aliases WHERE model_id = $1 AND alias = $2`, [
    modelId,
    CHAMPION,
  ]);
  return row?.version ?? null;
}

export interface AliasMove {
  modelId: string;
  from: string | null;
  to: string;
  kind: 'promotion' | 'rollback';
  actor: string;
  reason: string;
  deploymentId: string;
}

/**
 * Moves the champion alias and keeps the move in alias_history (never overwritten): the new
 * champion's status becomes `champion`, the one it replaces `retired`. Call under lockChampion.
 */
export async function moveChampion(m: EntityManager, move: AliasMove): Promise<void> {
  await m.query(
    `INSERT INTO model_aliases (model_id, alias, version, updated_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (model_id, alias) DO UPDATE SET version = EXCLUDED.version, updated_at = now()`,
    [move.modelId, CHAMPION, move.to],
  );
  await m.query(
    `INSERT INTO alias_history (model_id, alias, from_version, to_version, kind, actor, reason, deployment_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [move.modelId, CHAMPION, move.from, move.to, move.kind, move.actor, move.reason, move.deploymentId],
  );
  if (move.from && move.from !== move.to)
    await m.query(`UPDATE model_versions SET status = 'retired' WHERE version = $1`, [move.from]);
  await m.query(`UPDATE model_versions SET status = 'champion' WHERE version = $1`, [move.to]);
}

export async function deployableVersion(
  m: EntityManager,
  version: string,
): Promise<DeployableVersion | undefined> {
  const [row] = await m.query(
    `SELECT version, model_id, base_model, artifact FROM model_versions WHERE version = $1`,
    [version],
  );
  if (!row) return undefined;
  const a = row.artifact as AdapterRef;
  return {
    model_id: row.model_id,
    version: row.version,
    base_model: row.base_model,
    artifact: { bucket: a.bucket, key: a.key, config_key: a.config_key, sha256: a.sha256 },
  };
}

/** What the target last served a version as (to retire it), from its last successful deployment. */
export async function servedAs(m: EntityManager, version: string): Promise<string | null> {
  const [row] = await m.query(
    `SELECT served_as FROM deployments WHERE version = $1 AND status = 'succeeded' ORDER BY finished_at DESC LIMIT 1`,
    [version],
  );
  return row?.served_as ?? null;
}
