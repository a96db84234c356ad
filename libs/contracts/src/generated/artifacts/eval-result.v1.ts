/* Generated from libs/contracts/schemas/artifacts/eval-result.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * One line of an evaluation's per-item results (JSONL, in suite order)
 *
 * correct = functional when the item has tests, else exact. nll/tokens: summed negative log-likelihood (nats) of the reference correction's tokens given the prompt, and their count. bleu: sacrebleu sentence BLEU (0-100).
 */
export interface EvalResultV1 {
  item_id: string;
  split: 'in_domain' | 'regression';
  exact: boolean;
  functional: boolean | null;
  correct: boolean;
  nll: number | null;
  tokens: number;
  bleu: number;
  /**
   * The generated text, truncated to 8 KiB.
   */
  output: string;
  /**
   * The item has no tests and its reference correction has more tokens than the generation budget (max_new_tokens): no output can match it.
   */
  unwinnable?: boolean;
  /**
   * Present when tests ran: how the sandboxed run ended.
   */
  sandbox?: {
    outcome?: 'passed' | 'failed' | 'timeout' | 'memory' | 'error';
    exit_code?: number | null;
    duration_seconds?: number;
    stderr_tail?: string;
  };
}
