/**
 * The versioned in-domain suite (ADR 0016). The held-out pool (every held-out learning of the
 * snapshot) grows every cycle; measuring each cycle on the whole pool would change the suite under
 * every score, so successive champions could not be compared. Instead a version, once frozen, never
 * changes its items; a new version is cut only when the pool holds enough items the current one
 * lacks (or when some of its items are gone: a forgotten learning never stays in a suite).
 */
export interface SuiteGrowthPolicy {
  /** Fresh items needed for a new version, as a share of the current version's size. */
  growth: number;
  /** ... and at least this many. */
  minNewItems: number;
}

export interface FrozenVersion {
  version: number;
  /** Item ids (learning ids) in suite order. */
  itemIds: string[];
}

export type VersionPlan =
  | { action: 'keep'; version: number; itemIds: string[]; fresh: number; needed: number }
  | { action: 'create'; version: number; itemIds: string[]; fresh: number; dropped: number };

/** Fresh items a version of `size` items needs before a new one is cut. */
export function itemsNeeded(size: number, policy: SuiteGrowthPolicy): number {
  return Math.max(policy.minNewItems, Math.ceil(policy.growth * size));
}

/**
 * Keep the current version or cut the next: the next holds the current version's items that are
 * still in the pool (in their order) followed by the fresh ones (in pool order). An empty pool
 * freezes nothing (version 0, no items).
 */
export function planSuiteVersion(
  current: FrozenVersion | null,
  pool: readonly string[],
  policy: SuiteGrowthPolicy,
): VersionPlan {
  if (!current) {
    if (pool.length === 0) return { action: 'keep', version: 0, itemIds: [], fresh: 0, needed: 1 };
    return { action: 'create', version: 1, itemIds: [...pool], fresh: pool.length, dropped: 0 };
  }
  const inPool = new Set(pool);
  const kept = current.itemIds.filter((id) => inPool.has(id));
  const have = new Set(current.itemIds);
  const fresh = pool.filter((id) => !have.has(id));
  const dropped = current.itemIds.length - kept.length;
  const needed = itemsNeeded(current.itemIds.length, policy);
  if (dropped === 0 && fresh.length < needed) {
    return {
      action: 'keep',
      version: current.version,
      itemIds: current.itemIds,
      fresh: fresh.length,
      needed,
    };
  }
  return {
    action: 'create',
    version: current.version + 1,
    itemIds: [...kept, ...fresh],
    fresh: fresh.length,
    dropped,
  };
}

/** The name every score carries: in-domain version + regression set + anchor suite (and subset). */
export function suiteVersionName(
  inDomainVersion: number,
  regression: string,
  anchor: { suite: string; version: string; items: number | null; problems: number } | null,
): string {
  const parts = [`in-domain.v${inDomainVersion}`, regression];
  if (anchor) {
    const subset = anchor.items !== null && anchor.items < anchor.problems ? `@${anchor.items}` : '';
    parts.push(`${anchor.suite}-${anchor.version}${subset}`);
  }
  return parts.join('+');
}
