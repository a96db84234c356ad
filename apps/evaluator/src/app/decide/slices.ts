import type { EvalItemResult, SliceGateResult, SliceResult } from '@genesis/contracts';
import { mcnemarExact } from './paired-test';

/**
 * The slice gate (ADR 0020): a candidate that is better on average can still be much worse on one
 * topic — the average hides it when that topic is a small share of the suite. The in-domain items
 * are grouped by the topic slice of the snapshot's clustering; on each slice the same one-sided
 * exact McNemar test as the main gate asks the opposite question (is the *champion* better here?),
 * and Holm–Bonferroni over the tested slices keeps the chance of rejecting a candidate for a slice
 * that only regressed by noise at most alpha, however many slices there are.
 */
export interface SlicePolicy {
  /** false: per-slice results are reported but decide nothing. */
  enabled: boolean;
  /** Family-wise error rate over the slices' tests. */
  alpha: number;
}

/** Which slice each in-domain item (learning id) belongs to, from the snapshot's clustering. */
export interface ItemSlices {
  clusteringVersion: string | null;
  /** item_id → slice; an item missing here is unsliced (reported, never dropped silently). */
  byItem: ReadonlyMap<string, { slice_id: string; label: string }>;
  /** Why there is no clustering, when there is none. */
  note?: string;
}

type Pair = {
  item_id: string;
  candidate: Pick<EvalItemResult, 'correct'>;
  champion: Pick<EvalItemResult, 'correct'>;
};

/**
 * Holm's step-down adjustment: sorted ascending, p(i) becomes max over j ≤ i of (m − j + 1)·p(j),
 * capped at 1. Rejecting every hypothesis whose adjusted p is below alpha controls the family-wise
 * error rate at alpha under any dependence between the tests (the slices share a model, so their
 * results are not independent), and it is uniformly more powerful than plain Bonferroni.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p || a.i - b.i);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

/**
 * A slice of n items is too small to test when even all n going the champion's way could not give
 * p < alpha (exact McNemar: the smallest p is ½ⁿ). Decided on the slice's size alone, before its
 * outcome is looked at, so leaving it out of the Holm family does not bias the family.
 */
export function testable(items: number, alpha: number): boolean {
  return items > 0 && 0.5 ** items < alpha;
}

/** Per-slice paired results of the in-domain pairs and, when enabled, the slices that regressed. */
export function sliceResults(
  inDomain: readonly Pair[],
  slices: ItemSlices,
  policy: SlicePolicy,
): SliceGateResult {
  const groups = new Map<string, { label: string; pairs: Pair[] }>();
  let unsliced = 0;
  for (const p of inDomain) {
    const s = slices.byItem.get(p.item_id);
    if (!s) {
      unsliced++;
      continue;
    }
    const group = groups.get(s.slice_id) ?? { label: s.label, pairs: [] };
    group.pairs.push(p);
    groups.set(s.slice_id, group);
  }
  const rows: SliceResult[] = [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([sliceId, g]) => {
      const n = g.pairs.length;
      const b = g.pairs.filter((p) => p.candidate.correct && !p.champion.correct).length;
      const c = g.pairs.filter((p) => !p.candidate.correct && p.champion.correct).length;
      const candidate = g.pairs.filter((p) => p.candidate.correct).length / n;
      const champion = g.pairs.filter((p) => p.champion.correct).length / n;
      const canTest = testable(n, policy.alpha);
      return {
        slice_id: sliceId,
        label: g.label,
        items: n,
        candidate_accuracy: candidate,
        champion_accuracy: champion,
        delta: candidate - champion,
        candidate_only: b,
        champion_only: c,
        // The champion's side of the test: P(X ≥ c) for X ~ Bin(b + c, ½).
        p_value: canTest ? mcnemarExact(c, b) : null,
        adjusted_p: null,
        status: canTest ? 'ok' : 'too_small',
      };
    });
  const tested = rows.filter((r) => r.p_value !== null);
  holmAdjust(tested.map((r) => r.p_value!)).forEach((adjusted, i) => {
    const row = tested[i]!;
    row.adjusted_p = adjusted;
    if (adjusted < policy.alpha) row.status = 'regressed';
  });
  return {
    enabled: policy.enabled,
    alpha: policy.alpha,
    method: 'holm',
    clustering_version: slices.clusteringVersion,
    ...(slices.note ? { note: slices.note } : {}),
    slices: rows,
    unsliced_items: unsliced,
    tested: tested.length,
    regressed: rows.filter((r) => r.status === 'regressed').map((r) => r.slice_id),
  };
}

const acc = (x: number) => x.toFixed(4);
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;
const pText = (p: number) => (p > 0 && p < 0.0001 ? p.toExponential(2) : String(Number(p.toPrecision(3))));

function describeSlice(r: SliceResult): string {
  return (
    `slice ${r.slice_id} "${r.label}" (${r.items} items) ${acc(r.champion_accuracy)} → ` +
    `${acc(r.candidate_accuracy)} (${signed(r.delta)}; ${r.candidate_only} vs ${r.champion_only} discordant)`
  );
}

/**
 * The reason's clause on the slices: which regressed, with its n, the deltas and the adjusted p;
 * otherwise how many were tested; and always the ones too small to test and the unsliced items.
 */
export function describeSlices(s: SliceGateResult): string {
  if (s.clustering_version === null) return `slices: none (${s.note ?? 'the snapshot has no clustering'})`;
  const prefix = s.enabled ? '' : 'not gated: ';
  const regressed = s.slices.filter((r) => r.status === 'regressed');
  const main = regressed.length
    ? `${s.enabled ? 'slice_regression' : 'slices regressed'}: ${prefix}${regressed
        .map((r) => `${describeSlice(r)}, Holm-adjusted p=${pText(r.adjusted_p!)} < ${s.alpha}`)
        .join('; ')}`
    : `slices: ${prefix}${s.tested} of ${s.slices.length} tested, none significantly worse (Holm, α=${s.alpha})`;
  const small = s.slices.filter((r) => r.status === 'too_small');
  const extra = [
    small.length
      ? `too small to test: ${small.map((r) => `${r.slice_id} (${r.items} items, ${signed(r.delta)})`).join(', ')}`
      : '',
    s.unsliced_items ? `${s.unsliced_items} in-domain items in no slice` : '',
  ].filter(Boolean);
  return extra.length ? `${main}; ${extra.join('; ')}` : main;
}
