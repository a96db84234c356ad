import weaviate, { type Collection, type WeaviateClient } from 'weaviate-client';
import {
  VectorIndexError,
  checkSearch,
  normalise,
  type VectorHit,
  type VectorIndex,
  type VectorRecord,
  type VectorSearch,
} from './vector-index';

export interface WeaviateVectorIndexOptions {
  /** http(s)://host:port of Weaviate's REST API. */
  url: string;
  /** Its gRPC port (the v3 client queries and imports over gRPC); default 50051. */
  grpcPort?: number;
  /** Required outside tests (ADR 0018): Weaviate runs with API-key authentication there. */
  apiKey?: string;
  /** The collection; default GenesisLearningVector. */
  collection?: string;
}

interface Properties {
  modelId: string;
  [key: string]: string;
}

/**
 * The Weaviate adapter, through the maintained `weaviate-client` v3 (its predecessor
 * `weaviate-ts-client` is unmaintained). One collection, no vectorizer (Genesis brings its own
 * vectors), HNSW with cosine distance; the learning id is the object's uuid, so an upsert is a
 * batch import of the same uuid (Weaviate replaces it) and the contract's idempotency holds.
 * HNSW is approximate: search is exact-enough, not exact (the contract test's tolerance).
 */
export class WeaviateVectorIndex implements VectorIndex {
  readonly kind = 'weaviate';
  private client?: WeaviateClient;
  private readonly name: string;

  constructor(private readonly options: WeaviateVectorIndexOptions) {
    this.name = options.collection ?? 'GenesisLearningVector';
  }

  async ping(): Promise<void> {
    let ready = false;
    let reason = 'not ready';
    try {
      ready = await (await this.connect()).isReady();
    } catch (err) {
      reason = (err as Error).message;
    }
    if (!ready) {
      // A client made before an outage may hold dead connections: the next call makes a new one.
      await this.close().catch(() => undefined);
      throw new VectorIndexError('VECTOR_INDEX_UNAVAILABLE', `weaviate at ${this.options.url}: ${reason}`);
    }
  }

  async ensure(): Promise<void> {
    const client = await this.connect();
    if (await client.collections.exists(this.name)) return;
    try {
      await client.collections.create<Properties>({
        name: this.name,
        properties: [{ name: 'modelId', dataType: 'text', tokenization: 'field', indexFilterable: true }],
        vectorizers: weaviate.configure.vectorizer.none({
          vectorIndexConfig: weaviate.configure.vectorIndex.hnsw({ distanceMetric: 'cosine' }),
        }),
      });
    } catch (err) {
      // Two processes ensuring at once: the loser finds the winner's collection.
      if (!(await client.collections.exists(this.name))) throw err;
    }
  }

  async upsert(records: readonly VectorRecord[]): Promise<void> {
    if (records.length === 0) return;
    const collection = await this.collection();
    const result = await collection.data.insertMany(
      records.map((r) => ({
        id: r.id,
        properties: { modelId: r.modelId },
        vectors: Array.from(normalise(r.vector)),
      })),
    );
    if (result.hasErrors) {
      const first = Object.values(result.errors)[0];
      const message = first?.message ?? 'unknown error';
      throw new VectorIndexError(
        /dimension|vector lengths|length/i.test(message)
          ? 'VECTOR_DIMENSION_MISMATCH'
          : 'VECTOR_INDEX_UNAVAILABLE',
        `weaviate refused ${Object.keys(result.errors).length} of ${records.length} vectors: ${message}`,
      );
    }
  }

  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const collection = await this.collection();
    await collection.data.deleteMany(collection.filter.byId().containsAny([...ids]));
  }

  async search(query: VectorSearch): Promise<VectorHit[]> {
    checkSearch(query);
    const collection = await this.collection();
    const exclude = new Set(query.exclude ?? []);
    let result;
    try {
      result = await collection.query.nearVector(Array.from(normalise(query.vector)), {
        limit: query.k + exclude.size,
        filters: collection.filter.byProperty('modelId').equal(query.modelId),
        returnMetadata: ['distance'],
      });
    } catch (err) {
      const message = (err as Error).message;
      if (/dimension|vector lengths/i.test(message)) {
        throw new VectorIndexError('VECTOR_DIMENSION_MISMATCH', message);
      }
      throw err;
    }
    return result.objects
      .filter((o) => !exclude.has(o.uuid))
      .slice(0, query.k)
      .map((o) => ({ id: o.uuid, similarity: 1 - (o.metadata?.distance ?? 1) }));
  }

  async count(modelId?: string): Promise<number> {
    const collection = await this.collection();
    const { totalCount } = await collection.aggregate.overAll(
      modelId === undefined ? {} : { filters: collection.filter.byProperty('modelId').equal(modelId) },
    );
    return totalCount;
  }

  async clear(): Promise<void> {
    const client = await this.connect();
    if (await client.collections.exists(this.name)) await client.collections.delete(this.name);
    await this.ensure();
  }

  async close(): Promise<void> {
    await this.client?.close();
    this.client = undefined;
  }

  private async collection(): Promise<Collection<Properties>> {
    return (await this.connect()).collections.get<Properties>(this.name);
  }

  private async connect(): Promise<WeaviateClient> {
    if (this.client) return this.client;
    const url = new URL(this.options.url);
    const secure = url.protocol === 'https:';
    this.client = await weaviate.connectToCustom({
      httpHost: url.hostname,
      httpPort: Number(url.port || (secure ? 443 : 80)),
      httpSecure: secure,
      grpcHost: url.hostname,
      grpcPort: this.options.grpcPort ?? 50051,
      grpcSecure: secure,
      authCredentials: this.options.apiKey ? new weaviate.ApiKey(this.options.apiKey) : undefined,
    });
    return this.client;
  }
}
