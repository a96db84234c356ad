import {
  REQUESTS,
  type EmbeddingsClusterReplyV1,
  type EmbeddingsClusterRequestV1,
  type EmbeddingsComputeReplyV1,
  type RequestErrorReply,
} from '@genesis/contracts';

/** An `embeddings.compute` answer (schemas/requests, ADR 0026). */
export type Embeddings = Pick<
  Exclude<EmbeddingsComputeReplyV1, RequestErrorReply>,
  'model' | 'version' | 'dimensions' | 'vectors'
>;

/** `embeddings.cluster` request: vectors as base64 float32 (little-endian), text for the labels. */
export type ClusterRequest = EmbeddingsClusterRequestV1;

export type ClusterReply = Exclude<EmbeddingsClusterReplyV1, RequestErrorReply>;

export interface SuiteEmbeddings extends Embeddings {
  ids: string[];
  total: number;
}

export interface LearningText {
  context: string | null;
  correction: string | null;
}

/**
 * Asks the Python embedder (`embeddings.compute`, core NATS request/reply, ADR 0018) for vectors.
 * No responder or a timeout is transient (the caller's message is redelivered later); a refused
 * request is permanent. The text that stands for a learning is composed by the embedder, so that
 * calibration and indexing embed the same thing.
 */
/** The part of a NATS connection the client uses (a @nats-io NatsConnection is one). */
export interface Requester {
  request(subject: string, payload: string, opts: { timeout: number }): Promise<{ json<T>(): T }>;
}

export class EmbeddingClient {
  constructor(
    private readonly nats: Requester,
    private readonly timeoutMs: number,
  ) {}

  learnings(items: LearningText[]): Promise<Embeddings> {
    return this.ask({
      learnings: items.map((i) => ({ context: i.context ?? '', correction: i.correction ?? '' })),
    });
  }

  texts(texts: string[]): Promise<Embeddings> {
    return this.ask({ texts });
  }

  /**
   * One page of a shipped suite whose text only the embedder has (HumanEval, in the Python
   * package), each item embedded as a learning; with the items' ids and the suite's size.
   */
  suite(spec: { name: string; version: string; offset: number; limit: number }): Promise<SuiteEmbeddings> {
    return this.ask({ suite: spec }) as Promise<SuiteEmbeddings>;
  }

  /** Topic slices of stored embeddings (`embeddings.cluster`, ADR 0020). */
  async cluster(request: ClusterRequest): Promise<ClusterReply> {
    const body = await this.call<ClusterReply>(REQUESTS.embeddingsCluster, request);
    if (!body.method || !Array.isArray(body.slices) || !Array.isArray(body.centroids))
      throw new EmbedderUnavailable('the embedder answered without method, slices or centroids');
    return body as ClusterReply;
  }

  private async call<T>(subject: string, request: object): Promise<Partial<T>> {
    let reply;
    try {
      reply = await this.nats.request(subject, JSON.stringify(request), { timeout: this.timeoutMs });
    } catch (err) {
      throw new EmbedderUnavailable(`the embedder did not answer (${(err as Error).message})`);
    }
    const body = reply.json<Partial<T> & { error?: { code: string; message: string } }>();
    if (body.error) {
      if (body.error.code.endsWith('_BAD_REQUEST')) throw new EmbeddingRefused(body.error.message);
      throw new EmbedderUnavailable(`${body.error.code}: ${body.error.message}`);
    }
    return body;
  }

  private async ask(request: object): Promise<Embeddings> {
    const body = await this.call<Embeddings>(REQUESTS.embeddingsCompute, request);
    if (!body.model || !body.version || !Array.isArray(body.vectors)) {
      throw new EmbedderUnavailable('the embedder answered without model, version or vectors');
    }
    return body as Embeddings;
  }
}

/** Transient: the embedder is down, busy or broken; the work is retried. */
export class EmbedderUnavailable extends Error {
  readonly code = 'EMBEDDER_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'EmbedderUnavailable';
  }
}

/** Permanent: the embedder refused the request as it is (empty or malformed); retrying cannot help. */
export class EmbeddingRefused extends Error {
  readonly code = 'EMBEDDING_BAD_REQUEST';
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddingRefused';
  }
}
