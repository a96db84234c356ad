/* Generated from libs/contracts/schemas/api/learning-input.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * A learning as submitted to POST /api/v1/learnings
 */
export interface LearningInput {
  kind: 'correction' | 'pattern' | 'error_fix';
  model_id?: string;
  source: string;
  language?: string;
  /**
   * The prompt or surrounding code.
   */
  context?: string;
  /**
   * What the model produced.
   */
  model_output?: string;
  /**
   * The fix, the pattern or the error's solution.
   */
  correction: string;
  /**
   * Python tests of the correction (e.g. the failing test of an error_fix), run after the correction's code. When the learning is held out for evaluation, its correctness is functional: the model's output with these tests must pass in the sandbox; otherwise exact match decides.
   */
  tests?: string;
  /**
   * Model version that produced model_output.
   */
  produced_by?: string;
  metadata?: {
    [k: string]: string | number | boolean | null;
  };
}
