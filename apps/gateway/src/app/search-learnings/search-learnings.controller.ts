import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { LearningEntity } from '@genesis/persistence';
import {
  EmbedderUnavailable,
  EmbeddingClient,
  EmbeddingRefused,
  rebuildIndex,
  type VectorHit,
  type VectorIndex,
} from '@genesis/vectors';
import { AuthGuard, RequireScope } from '../auth/auth.guard';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { ProblemError, problems } from '../problem/problem';
import { UUID, badQuery } from '../http/query-params';
import { learningView } from '../query-learnings/learning-view';

export const VECTOR_INDEX = Symbol('VECTOR_INDEX');
export const EMBEDDING_CLIENT = Symbol('EMBEDDING_CLIENT');

const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MAX_QUERY_CHARS = 4096;

/**
 * Semantic search over accepted learnings (ADR 0018). `similar` reads the learning's stored vector;
 * `search` embeds the query through the Python embedder (embeddings.compute, request/reply), so the
 * query and the learnings share one embedding model. The index holds accepted originals only.
 */
@Controller('api/v1/learnings')
@UseGuards(AuthGuard, RateLimitGuard)
export class SearchLearningsController {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(VECTOR_INDEX) private readonly index: VectorIndex,
    @Inject(EMBEDDING_CLIENT) private readonly embedder: EmbeddingClient,
  ) {}

  @Get(':id/similar')
  @RequireScope('status:read')
  async similar(@Param('id') id: string, @Query('k') kParam?: string) {
    const k = kValue(kParam);
    const rows: { model_id: string; vector: Buffer | null; embedding_model: string | null }[] = UUID.test(id)
      ? await this.db.query(
          `SELECT l.model_id, v.vector, v.embedding_model
             FROM learnings l LEFT JOIN learning_vectors v ON v.learning_id = l.id WHERE l.id = $1`,
          [id],
        )
      : [];
    const row = rows[0];
    if (!row) throw problems.notFound('LEARNING_NOT_FOUND', `no stored learning with id ${id}`);
    if (!row.vector) {
      throw new ProblemError(
        409,
        'LEARNING_NOT_INDEXED',
        'Not indexed yet',
        `learning ${id} has no embedding yet (the learner embeds stored learnings shortly after storing them)`,
        {},
        { 'retry-after': '5' },
      );
    }
    const copy = new Uint8Array(row.vector.length);
    copy.set(row.vector);
    const hits = await this.index.search({
      modelId: row.model_id,
      vector: Array.from(new Float32Array(copy.buffer)),
      k,
      exclude: [id],
    });
    return { learning_id: id, embedding_model: row.embedding_model, items: await this.views(hits) };
  }

  @Post('search')
  @HttpCode(200)
  @RequireScope('status:read')
  async search(@Body() body: unknown) {
    const input = parseSearch(body);
    let embedded;
    try {
      embedded = await this.embedder.texts([input.query]);
    } catch (err) {
      if (err instanceof EmbeddingRefused) throw problems.validation(err.message, []);
      if (err instanceof EmbedderUnavailable) {
        throw new ProblemError(
          503,
          'EMBEDDER_UNAVAILABLE',
          'Service unavailable',
          err.message,
          {},
          { 'retry-after': '5' },
        );
      }
      throw err;
    }
    const hits = await this.index.search({
      modelId: input.model_id,
      vector: embedded.vectors[0]!,
      k: input.k,
    });
    return {
      query: input.query,
      model_id: input.model_id,
      embedding_model: embedded.model,
      items: await this.views(hits),
    };
  }

  private async views(hits: VectorHit[]) {
    if (hits.length === 0) return [];
    const found = await this.db.getRepository(LearningEntity).findBy({ id: In(hits.map((h) => h.id)) });
    const byId = new Map(found.map((l) => [l.id, l]));
    // The index is derived and may lag: a hit whose learning is gone (forgotten) or no longer
    // accepted (quarantined by a rescan) is left out; `genesis vectors rebuild` drops such entries.
    return hits
      .filter((h) => byId.get(h.id)?.status === 'accepted')
      .map((h) => ({
        similarity: Math.round(h.similarity * 10_000) / 10_000,
        learning: learningView(byId.get(h.id)!),
      }));
  }
}

function kValue(value: string | undefined, fallback = 10): number {
  const k = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(k) || k < 1 || k > 100) throw badQuery('k must be an integer from 1 to 100');
  return k;
}

function parseSearch(body: unknown): { query: string; model_id: string; k: number } {
  const errors: { path: string; message: string }[] = [];
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw problems.validation('the body must be a JSON object', [{ path: '', message: 'must be an object' }]);
  }
  for (const key of Object.keys(b)) {
    if (!['query', 'model_id', 'k'].includes(key))
      errors.push({ path: `/${key}`, message: 'unknown property' });
  }
  const query = b['query'];
  if (typeof query !== 'string' || query.trim() === '' || query.length > MAX_QUERY_CHARS) {
    errors.push({
      path: '/query',
      message: `must be a non-empty string of at most ${MAX_QUERY_CHARS} characters`,
    });
  }
  const modelId = b['model_id'] ?? 'genesis';
  if (typeof modelId !== 'string' || !MODEL_ID.test(modelId)) {
    errors.push({ path: '/model_id', message: 'must match ^[a-z0-9][a-z0-9._-]{0,63}$' });
  }
  const k = b['k'] ?? 10;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 100) {
    errors.push({ path: '/k', message: 'must be an integer from 1 to 100' });
  }
  if (errors.length > 0) throw problems.validation('the search request is invalid', errors);
  return { query: query as string, model_id: modelId as string, k: k as number };
}

/** `genesis vectors rebuild`: the index rebuilt from Postgres (admin only; ADR 0018). */
@Controller('api/v1/vectors')
@UseGuards(AuthGuard, RateLimitGuard)
export class VectorsAdminController {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(VECTOR_INDEX) private readonly index: VectorIndex,
  ) {}

  @Post('rebuild')
  @HttpCode(200)
  @RequireScope('admin')
  rebuild() {
    return rebuildIndex(this.db, this.index);
  }
}
