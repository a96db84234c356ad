/* Generated from libs/contracts/schemas/requests/embeddings.compute.request.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * embeddings.compute request v1 — texts, learnings or a page of a shipped suite to embed (core NATS request/reply)
 *
 * Exactly one of texts, learnings or suite. The embedder (apps/trainer-worker, trainer_worker.embedding) checks it and answers EMBEDDING_BAD_REQUEST otherwise (ADR 0018).
 */
export interface EmbeddingsComputeRequestV1 {
  /**
   * Search queries, embedded as they are.
   *
   * @minItems 1
   * @maxItems 256
   */
  texts?: string[];
  /**
   * Learnings, each embedded as the text the embedder composes from its context and correction (calibration and indexing embed the same thing); a long one is cut.
   *
   * @minItems 1
   * @maxItems 256
   */
  learnings?: {
    context?: string;
    correction?: string;
  }[];
  /**
   * A page of a shipped evaluation suite whose text only the embedder has (HumanEval), each item embedded as a learning: for decontamination.
   */
  suite?: {
    name: string;
    version: string;
    offset?: number;
    limit?: number;
  };
}
