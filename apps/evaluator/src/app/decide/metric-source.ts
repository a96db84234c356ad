import type { EvalItemResult } from '@genesis/contracts';

/**
 * Which correctness decided the primary metric (ADR 0016): an in-domain item that carries tests is
 * correct iff its tests pass against the generated code in the sandbox (functional), any other iff
 * its normalised output equals the reference (exact match).
 */
export function describeMetricSource(
  inDomain: readonly { candidate: Pick<EvalItemResult, 'functional'> }[],
): string {
  const functional = inDomain.filter((p) => p.candidate.functional !== null).length;
  const exact = inDomain.length - functional;
  if (inDomain.length === 0) return 'accuracy on no in-domain items';
  if (functional === 0) return `accuracy by exact match on all ${exact} in-domain items`;
  if (exact === 0) return `accuracy by functional tests on all ${functional} in-domain items`;
  return `accuracy by functional tests on ${functional} and exact match on ${exact} in-domain items`;
}
