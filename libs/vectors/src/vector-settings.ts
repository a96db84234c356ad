import { nearDuplicateCalibration } from '@genesis/contracts';
import type { EnvReader } from '@genesis/config';
import { PostgresVectorIndex } from './postgres-vector-index';
import { WeaviateVectorIndex } from './weaviate-vector-index';
import type { VectorIndex } from './vector-index';
import type { DataSource } from 'typeorm';

/** Semantic memory settings (ADR 0018), shared by the learner (indexing) and the CLI's rebuild. */
export interface VectorSettings {
  store: 'postgres' | 'weaviate';
  weaviateUrl: string;
  weaviateGrpcPort: number;
  weaviateApiKey?: string;
  /** Cosine similarity at or above which a learning is a near-duplicate of an accepted one. */
  nearDuplicateSimilarity: number;
  embeddingTimeoutMs: number;
  indexBatchSize: number;
}

export function readVectorSettings(env: EnvReader): VectorSettings {
  const store = env.oneOf('GENESIS_VECTOR_STORE', ['postgres', 'weaviate'] as const, 'postgres');
  const apiKey = env.optionalStr('GENESIS_WEAVIATE_API_KEY');
  // Weaviate runs with API-key authentication outside tests: no key, no start.
  if (store === 'weaviate' && !apiKey)
    env.fail('GENESIS_WEAVIATE_API_KEY is required when GENESIS_VECTOR_STORE=weaviate');
  return {
    store,
    weaviateUrl: env.url('GENESIS_WEAVIATE_URL', 'http://127.0.0.1:8080', ['http', 'https']),
    weaviateGrpcPort: env.int('GENESIS_WEAVIATE_GRPC_PORT', 50051, { min: 1, max: 65535 }),
    weaviateApiKey: apiKey,
    nearDuplicateSimilarity: env.float(
      'GENESIS_NEAR_DUPLICATE_SIMILARITY',
      nearDuplicateCalibration().similarity,
      {
        min: 0.5,
        max: 1.01, // above 1: near-duplicate detection off
      },
    ),
    embeddingTimeoutMs: env.int('GENESIS_EMBEDDING_TIMEOUT_MS', 30_000, { min: 100, max: 600_000 }),
    indexBatchSize: env.int('GENESIS_INDEX_BATCH_SIZE', 64, { min: 1, max: 256 }),
  };
}

export function createVectorIndex(settings: VectorSettings, db: DataSource): VectorIndex {
  return settings.store === 'weaviate'
    ? new WeaviateVectorIndex({
        url: settings.weaviateUrl,
        grpcPort: settings.weaviateGrpcPort,
        apiKey: settings.weaviateApiKey,
      })
    : new PostgresVectorIndex(db);
}
