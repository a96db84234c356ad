/* Generated from libs/contracts/schemas/requests/embeddings.cluster.reply.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * embeddings.cluster reply v1 — the topic slices of the request's items, or an error
 *
 * SLICING_BAD_REQUEST is the request's fault (never retried); SLICING_FAILED the embedder's.
 */
export type EmbeddingsClusterReplyV1 =
  | {
      /**
       * e.g. kmeans-silhouette.v1
       */
      method: string;
      k: number;
      silhouette: number | null;
      /**
       * The silhouette of each k tried, by k.
       */
      scores: {
        [k: string]: number;
      };
      slices: {
        slice_id: string;
        /**
         * The slice's top terms.
         */
        label: string;
        members: string[];
        [k: string]: unknown;
      }[];
      /**
       * One per slice, in the order of slices, base64 float32.
       */
      centroids: string[];
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
