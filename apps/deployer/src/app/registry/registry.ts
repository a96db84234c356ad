import type { EntityManager } from 'typeorm';
import { getFamily, type Db, type ServableVersion } from '@genesis/registry';
import type { DeploymentTarget } from '../targets';

/** What the target last served a version as (to retire it), from its last successful deployment. */
export async function servedAs(m: EntityManager, version: string): Promise<string | null> {
  const [row] = await m.query(
    `SELECT served_as FROM deployments WHERE version = $1 AND status = 'succeeded' ORDER BY finished_at DESC LIMIT 1`,
    [version],
  );
  return row?.served_as ?? null;
}

/**
 * Why `target` must not serve `v`, with a stable code, or null. Checked before the target is
 * called, so a kind it cannot serve is a clear refusal, not a half-made deployment: the artifact's
 * kind must be one the target declares, its objects must still exist (not pruned by retention),
 * and its size must respect the family's `max_size_bytes`.
 */
export async function refuseToServe(
  db: Db,
  v: ServableVersion,
  target: DeploymentTarget,
): Promise<{ code: string; message: string } | null> {
  if (!target.artifactKinds.includes(v.kind))
    return {
      code: 'ARTIFACT_KIND_NOT_SERVABLE',
      message: `${v.version} is a ${v.kind} artifact; the ${target.name} target serves only ${target.artifactKinds.join(', ')}`,
    };
  if (v.pruned_at)
    return {
      code: 'ARTIFACT_PRUNED',
      message: `${v.version}'s artifact was pruned by backup retention at ${v.pruned_at}; it cannot be served again`,
    };
  const family = await getFamily(db, v.model_id);
  const max = family?.constraints.max_size_bytes;
  if (max !== undefined && v.size_bytes !== null && v.size_bytes > max)
    return {
      code: 'ARTIFACT_TOO_LARGE',
      message: `${v.version}'s artifact is ${v.size_bytes} bytes; family ${v.model_id} allows at most ${max}`,
    };
  return null;
}
