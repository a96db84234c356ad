/* Generated from libs/contracts/schemas/requests/embeddings.compute.reply.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * embeddings.compute reply v1 — the vectors, in the order of the request's items, or an error
 *
 * An error whose code ends in _BAD_REQUEST is the request's fault and never retried; any other (EMBEDDING_FAILED) is the embedder's, and the caller retries later.
 */
export type EmbeddingsComputeReplyV1 =
  | {
      model: string;
      version: string;
      dimensions: number;
      vectors: number[][];
      /**
       * A suite request's items, in the order of vectors.
       */
      ids?: string[];
      /**
       * A suite request: the suite's size.
       */
      total?: number;
      [k: string]: unknown;
    }
  | ErrorReply;

export interface ErrorReply {
  error: {
    code: string;
    message: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}
