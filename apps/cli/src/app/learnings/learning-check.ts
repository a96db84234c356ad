import { formatIssues, validateLearningInput, type LearningInput } from '@genesis/contracts';

/**
 * The gateway's own schema (libs/contracts), checked before anything is sent, so a bad line is
 * reported with its line number instead of failing a whole batch. Returns the problem, if any.
 */
export function learningProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  // The validator fills defaults in place; what is sent stays exactly what the user wrote.
  const result = validateLearningInput(structuredClone(value));
  return result.ok ? undefined : formatIssues(result.issues);
}

export type { LearningInput };
