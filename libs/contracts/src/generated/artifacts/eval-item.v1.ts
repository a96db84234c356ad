/* Generated from libs/contracts/schemas/artifacts/eval-item.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * One line of an evaluation suite (JSONL, UTF-8): a prompt, its reference correction, optional tests
 *
 * The prompt is built exactly as for training (instruction + context (+ model_output)); the model's greedy output is compared with correction. tests, when present, is Python source run after the generated code in a sandbox (no network, CPU/memory/wall limits): the item passes iff it exits 0.
 */
export type EvalItemV1 = (
  | {
      instruction: unknown;
      [k: string]: unknown;
    }
  | {
      context: unknown;
      [k: string]: unknown;
    }
) & {
  item_id: string;
  split: 'in_domain' | 'regression';
  learning_id?: string;
  kind?: 'correction' | 'pattern' | 'error_fix';
  language?: string;
  instruction?: string;
  context?: string;
  model_output?: string;
  correction: string;
  tests?: string;
  [k: string]: unknown;
};
