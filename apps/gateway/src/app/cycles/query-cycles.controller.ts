import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  CYCLE_STATUSES,
  cycleTimeline,
  cycleView,
  findCycle,
  isCycleStatus,
  listCycles,
} from '@genesis/cycles';
import { AuthGuard, RequireScope } from '../auth/auth.guard';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { problems } from '../problem/problem';
import { UUID, badQuery, limitParam } from '../http/query-params';

const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Improvement cycles: newest first, and one with its timeline (every transition and event). */
@Controller('api/v1/cycles')
@UseGuards(AuthGuard, RateLimitGuard)
export class QueryCyclesController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get()
  @RequireScope('status:read')
  async list(@Query() q: Record<string, string | undefined>) {
    const limit = limitParam(q['limit']);
    const status = q['status'];
    if (status !== undefined && !isCycleStatus(status)) {
      throw badQuery(`status must be one of ${CYCLE_STATUSES.join(', ')}`);
    }
    const modelId = q['model_id'];
    if (modelId !== undefined && !MODEL_ID.test(modelId))
      throw badQuery(`model_id must match ${MODEL_ID.source}`);
    const rows = await listCycles(this.dataSource, { modelId, status, limit });
    return { items: rows.map(cycleView) };
  }

  @Get(':id')
  @RequireScope('status:read')
  async one(@Param('id') id: string) {
    const cycle = UUID.test(id) ? await findCycle(this.dataSource, id) : undefined;
    if (!cycle) throw problems.notFound('CYCLE_NOT_FOUND', `no improvement cycle with id ${id}`);
    return {
      ...cycleView(cycle),
      training: await this.training(id),
      timeline: await cycleTimeline(this.dataSource, id),
    };
  }

  /** The cycle's training jobs, newest attempt first, with the worker's latest progress report. */
  private async training(cycleId: string) {
    const jobs: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT id AS job_id, attempt, status, progress, CASE WHEN error IS NULL THEN NULL ELSE (error->>'code') || ': ' || (error->>'message') END AS failure, deadline, created_at, updated_at
       FROM jobs WHERE cycle_id = $1 AND kind = 'training' ORDER BY attempt DESC`,
      [cycleId],
    );
    return jobs;
  }
}
