import type { AdapterRef } from '@genesis/contracts';
import { aliasedVersions } from './aliases';
import type { ArtifactKind } from './artifact-kinds';
import { iso, type Db } from './db';

export interface StoredArtifact {
  version: string;
  model_id: string;
  kind: ArtifactKind;
  format: string | null;
  bucket: string;
  key: string;
  config_key: string | null;
  sha256: string;
  size_bytes: number | null;
  pruned_at: string | null;
  pruned_reason: string | null;
}

function artifactRow(r: Record<string, unknown>): StoredArtifact {
  return {
    version: r['version'] as string,
    model_id: r['model_id'] as string,
    kind: r['kind'] as ArtifactKind,
    format: (r['format'] as string | null) ?? null,
    bucket: r['bucket'] as string,
    key: r['key'] as string,
    config_key: (r['config_key'] as string | null) ?? null,
    sha256: r['sha256'] as string,
    size_bytes: r['size_bytes'] === null || r['size_bytes'] === undefined ? null : Number(r['size_bytes']),
    pruned_at: iso(r['pruned_at'] as Date | null),
    pruned_reason: (r['pruned_reason'] as string | null) ?? null,
  };
}

export async function artifactOf(db: Db, version: string): Promise<StoredArtifact | undefined> {
  const [row] = await db.query(`SELECT * FROM model_artifacts WHERE version = $1`, [version]);
  return row ? artifactRow(row) : undefined;
}

/** A version as a serving target or an evaluation job needs it: base model plus its artifact. */
export interface ServableVersion {
  model_id: string;
  version: string;
  base_model: string;
  kind: ArtifactKind;
  artifact: AdapterRef;
  size_bytes: number | null;
  /** Set when retention removed the artifact's objects: nothing left to serve. */
  pruned_at: string | null;
}

export async function servableVersion(db: Db, version: string): Promise<ServableVersion | undefined> {
  const [row] = await db.query(
    `SELECT v.version, v.model_id, v.base_model, a.kind, a.bucket, a.key, a.config_key, a.sha256, a.size_bytes, a.pruned_at
     FROM model_versions v JOIN model_artifacts a ON a.version = v.version WHERE v.version = $1`,
    [version],
  );
  if (!row) return undefined;
  return {
    model_id: row.model_id,
    version: row.version,
    base_model: row.base_model,
    kind: row.kind,
    artifact: { bucket: row.bucket, key: row.key, config_key: row.config_key, sha256: row.sha256 },
    size_bytes: row.size_bytes === null ? null : Number(row.size_bytes),
    pruned_at: iso(row.pruned_at),
  };
}

/** A version's model and the gate's word on it; undefined when no such version. */
export async function versionFacts(
  db: Db,
  version: string,
): Promise<{ model_id: string; status: 'candidate' | 'rejected' | 'promoted' } | undefined> {
  const [row] = await db.query(`SELECT model_id, status FROM model_versions WHERE version = $1`, [version]);
  return row;
}

/** A deployed version kept as a backup: restorable (a rollback to it) until retention prunes it. */
export interface Backup extends StoredArtifact {
  last_deployed_at: string | null;
  /** Aliases pointing at it now: never pruned. */
  aliases: string[];
  restorable: boolean;
}

/**
 * Every version of the model that was ever deployed (an alias moved onto it), newest deployment
 * first, with its artifact and whether it can still be restored.
 */
export async function listBackups(db: Db, modelId: string): Promise<Backup[]> {
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT a.*, d.last_deployed_at,
       coalesce((SELECT array_agg(al.alias ORDER BY al.alias) FROM model_aliases al WHERE al.version = a.version), '{}') AS aliases
     FROM model_artifacts a
     JOIN (SELECT to_version, max(moved_at) AS last_deployed_at FROM alias_history WHERE model_id = $1 GROUP BY to_version) d
       ON d.to_version = a.version
     WHERE a.model_id = $1
     ORDER BY d.last_deployed_at DESC, a.version DESC`,
    [modelId],
  );
  return rows.map((r) => ({
    ...artifactRow(r),
    last_deployed_at: iso(r['last_deployed_at'] as Date),
    aliases: r['aliases'] as string[],
    restorable: r['pruned_at'] === null,
  }));
}

/**
 * Retention (GENESIS_BACKUP_RETENTION = N): the N most recently deployed versions keep their
 * artifacts; older deployed versions are marked pruned and returned, so the caller deletes their
 * objects after the transaction commits. A version an alias points at is never pruned, whatever
 * its age; versions never deployed (candidates, rejected) are not backups and are left alone.
 * Call under lockAlias, so no alias moves onto a version while it is being pruned.
 */
export async function pruneBackups(m: Db, modelId: string, retention: number): Promise<StoredArtifact[]> {
  const backups = await listBackups(m, modelId);
  const protectedVersions = new Set(await aliasedVersions(m, modelId));
  const pruned: StoredArtifact[] = [];
  for (const [i, b] of backups.entries()) {
    if (i < retention || protectedVersions.has(b.version) || b.pruned_at) continue;
    const [row] = await m.query(
      // Through a CTE: TypeORM answers a bare UPDATE … RETURNING with [rows, count], a SELECT with rows.
      `WITH u AS (UPDATE model_artifacts SET pruned_at = now(), pruned_reason = $2
         WHERE version = $1 AND pruned_at IS NULL RETURNING *) SELECT * FROM u`,
      [b.version, `older than the ${retention} most recently deployed versions (GENESIS_BACKUP_RETENTION)`],
    );
    if (row) pruned.push(artifactRow(row));
  }
  return pruned;
}

/**
 * Objects a pruned artifact still shares with a live one (content addressing may give two versions
 * the same key) must stay: the keys among `candidates` that no unpruned artifact uses.
 */
export async function unreferencedKeys(
  db: Db,
  candidates: { bucket: string; key: string }[],
): Promise<string[]> {
  if (candidates.length === 0) return [];
  const rows: { key: string }[] = await db.query(
    `SELECT DISTINCT k AS key FROM unnest($1::text[]) AS k
     WHERE NOT EXISTS (SELECT 1 FROM model_artifacts a WHERE a.pruned_at IS NULL AND (a.key = k OR a.config_key = k))`,
    [candidates.map((c) => c.key)],
  );
  return rows.map((r) => r.key);
}
