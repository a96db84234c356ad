import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LEARNING_KINDS } from '@genesis/contracts';
import { LearningEntity } from '@genesis/persistence';
import { AuthGuard, RequireScope } from '../auth/auth.guard';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { problems } from '../problem/problem';
import {
  MODEL_ID,
  UUID,
  badQuery,
  dateTimeParam,
  limitParam,
  patternParam,
  textParam,
} from '../http/query-params';
import { decodeCursor, encodeCursor } from './cursor';
import { learningView } from './learning-view';

const STATUSES = ['accepted', 'duplicate', 'near_duplicate', 'quarantined', 'forgotten'];

@Controller('api/v1/learnings')
@UseGuards(AuthGuard, RateLimitGuard)
export class QueryLearningsController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get(':id')
  @RequireScope('status:read')
  async one(@Param('id') id: string) {
    const found = UUID.test(id)
      ? await this.dataSource.getRepository(LearningEntity).findOneBy({ id })
      : null;
    if (!found) {
      throw problems.notFound(
        'LEARNING_NOT_FOUND',
        `no stored learning with id ${id} (a learning appears here once the learner has stored it)`,
      );
    }
    // Why the learning is not in the vector index, when the embedder refused it (ADR 0018).
    const [failure]: { code: string; reason: string; failed_at: Date }[] = await this.dataSource.query(
      `SELECT code, reason, failed_at FROM learning_embedding_failures WHERE learning_id = $1`,
      [id],
    );
    return {
      ...learningView(found),
      embedding_failure: failure
        ? { code: failure.code, reason: failure.reason, failed_at: failure.failed_at.toISOString() }
        : null,
    };
  }

  /** Newest first, filtered, keyset-paginated. */
  @Get()
  @RequireScope('status:read')
  async list(@Query() q: Record<string, string | undefined>) {
    const limit = limitParam(q['limit']);
    const qb = this.dataSource
      .getRepository(LearningEntity)
      .createQueryBuilder('l')
      .orderBy('l.captured_at', 'DESC')
      .addOrderBy('l.id', 'DESC')
      .limit(limit + 1);
    const modelId = patternParam(q['model_id'], 'model_id', MODEL_ID);
    if (modelId) qb.andWhere('l.model_id = :modelId', { modelId });
    const source = textParam(q['source'], 'source', 200);
    if (source) qb.andWhere('l.source = :source', { source });
    if (q['kind']) {
      if (!LEARNING_KINDS.includes(q['kind'] as never))
        throw badQuery(`kind must be one of ${LEARNING_KINDS.join(', ')}`);
      qb.andWhere('l.kind = :kind', { kind: q['kind'] });
    }
    if (q['status']) {
      if (!STATUSES.includes(q['status'])) throw badQuery(`status must be one of ${STATUSES.join(', ')}`);
      qb.andWhere('l.status = :status', { status: q['status'] });
    }
    const since = dateTimeParam(q['since'], 'since');
    if (since) qb.andWhere('l.captured_at >= :since', { since });
    if (q['cursor']) {
      const c = decodeCursor(q['cursor']);
      qb.andWhere('(l.captured_at, l.id) < (:cAt, :cId)', { cAt: c.capturedAt, cId: c.id });
    }
    const rows = await qb.getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(learningView),
      next_cursor:
        rows.length > limit && last
          ? encodeCursor({ capturedAt: last.capturedAt.toISOString(), id: last.id })
          : null,
    };
  }
}
