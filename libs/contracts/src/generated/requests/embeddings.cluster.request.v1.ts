/* Generated from libs/contracts/schemas/requests/embeddings.cluster.request.v1.schema.json by `npm run contracts:types`: do not edit (ADR 0026). */

/**
 * embeddings.cluster request v1 — stored embeddings to slice into topics (core NATS request/reply)
 *
 * The vectors travel with the request (the embedder owns no database), as base64 float32 little-endian, with each learning's text for the slice labels (ADR 0020). All but items optional.
 */
export interface EmbeddingsClusterRequestV1 {
  /**
   * @minItems 1
   * @maxItems 5000
   */
  items: {
    id: string;
    /**
     * base64 float32 (little-endian)
     */
    vector: string;
    text?: string;
  }[];
  /**
   * How many learnings the items are a sample of (the k rule counts the whole snapshot); at least the number of items.
   */
  population?: number;
  max_k?: number;
  min_size?: number;
  min_silhouette?: number;
  seed?: number;
}
