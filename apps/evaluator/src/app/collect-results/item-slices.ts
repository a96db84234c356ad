import type { EntityManager } from 'typeorm';
import type { ItemSlices } from '../decide/slices';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The topic slice of every in-domain item (a held-out learning) in the clustering of the cycle's
 * snapshot (ADR 0020; the trainer-bridge writes learning_slices and dataset_snapshots.slicing).
 * No clustering is not an error: the gate reports why there are no slices.
 */
export async function loadItemSlices(
  m: EntityManager,
  cycleId: string,
  itemIds: readonly string[],
): Promise<ItemSlices> {
  const [snapshot] = (await m.query(
    `SELECT s.slicing FROM improvement_cycles c JOIN dataset_snapshots s ON s.id = c.snapshot_id WHERE c.id = $1`,
    [cycleId],
  )) as { slicing: { status: string; version?: string; reason?: string } | null }[];
  const none = (note: string): ItemSlices => ({ clusteringVersion: null, byItem: new Map(), note });
  if (!snapshot) return none('the cycle has no snapshot');
  const slicing = snapshot.slicing;
  if (!slicing) return none('the snapshot was built before topic slices');
  if (slicing.status !== 'sliced' || !slicing.version) return none(slicing.reason ?? 'the snapshot has none');
  const ids = itemIds.filter((id) => UUID.test(id));
  const rows = (
    ids.length
      ? await m.query(
          `SELECT learning_id::text AS learning_id, slice_id, slice_label FROM learning_slices
           WHERE clustering_version = $1 AND learning_id = ANY($2::uuid[])`,
          [slicing.version, ids],
        )
      : []
  ) as { learning_id: string; slice_id: string; slice_label: string }[];
  return {
    clusteringVersion: slicing.version,
    byItem: new Map(rows.map((r) => [r.learning_id, { slice_id: r.slice_id, label: r.slice_label }])),
  };
}
