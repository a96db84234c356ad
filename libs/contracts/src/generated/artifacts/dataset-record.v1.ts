/* Generated from libs/contracts/schemas/artifacts/dataset-record.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * One line of a training dataset snapshot (JSONL, UTF-8): an instruction prompt/context → correction
 *
 * The worker trains on prompt = instruction + context (+ model_output), target = correction; prompt tokens are masked out of the loss. At least one of instruction/context must be present.
 */
export type DatasetRecordV1 = {
  [k: string]: unknown;
} & {
  learning_id?: string;
  kind?: 'correction' | 'pattern' | 'error_fix';
  language?: string;
  instruction?: string;
  context?: string;
  model_output?: string;
  correction: string;
  /**
   * true for a replay item from an earlier snapshot.
   */
  replay?: boolean;
  [k: string]: unknown;
};
