import type { GateDecisionName } from '@genesis/contracts';
import { describeConstraint, type ConstraintCheck } from '@genesis/engine';

/**
 * The constraint part of the gate (ADR 0027): a candidate that breaks a constraint in force (the
 * family's or its task's, the stricter wins) is rejected whatever its accuracy — a conclusive
 * miss, like a failed guard — and the reason starts with the constraint's code and figures. A
 * constraint whose value was not measured is reported, never judged on a guess.
 */
export function applyConstraints(
  gate: { decision: GateDecisionName; reason: string },
  checks: ConstraintCheck[],
): { decision: GateDecisionName; reason: string; broken: ConstraintCheck[] } {
  if (checks.length === 0) return { ...gate, broken: [] };
  const broken = checks.filter((c) => c.ok === false);
  const decision: GateDecisionName = broken.length > 0 ? 'reject' : gate.decision;
  // The gate's own reason is "<decision>: <parts>"; its parts stay, after the constraints.
  const parts = gate.reason.slice(gate.reason.indexOf(': ') + 2);
  const clauses = [...broken, ...checks.filter((c) => c.ok !== false)].map(describeConstraint);
  return { decision, reason: `${decision}: ${clauses.join('; ')}; ${parts}`, broken };
}
