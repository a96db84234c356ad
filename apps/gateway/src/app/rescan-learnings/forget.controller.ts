import { Controller, Delete, HttpCode, Inject, Param, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Outbox } from '@genesis/persistence';
import { AuthGuard, RequireScope, type AuthedRequest } from '../auth/auth.guard';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { problems } from '../problem/problem';
import { UUID, badQuery } from '../http/query-params';
import { rescanStatusUrl, rescanView } from './rescan-view';
import { failStalled, startRescan } from './start-rescan';

/**
 * DELETE /api/v1/learnings/:id (admin): forgets a learning on request, by the rescan path (ADR
 * 0017): the row and its duplicates become tombstones without text, the snapshots holding it are
 * rebuilt or deleted, the models trained on it are tainted. 202 with the job; asking again for a
 * learning whose forget job is running or done returns that job.
 */
@Controller('api/v1/learnings')
@UseGuards(AuthGuard, RateLimitGuard)
export class ForgetLearningController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  @Delete(':id')
  @HttpCode(202)
  @RequireScope('admin')
  async forget(
    @Param('id') id: string,
    @Query() q: Record<string, string | undefined>,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const reason = q['reason'] ?? 'forgotten on request';
    if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 1000)
      throw badQuery('reason must be a string of 1 to 1000 characters');
    const [learning] = UUID.test(id)
      ? await this.dataSource.query(`SELECT id FROM learnings WHERE id = $1`, [id])
      : [];
    if (!learning) throw problems.notFound('LEARNING_NOT_FOUND', `no stored learning with id ${id}`);
    await failStalled(this.dataSource, `kind = 'forget' AND learning_ids = ARRAY[$1]::uuid[]`, [id]);
    const [existing] = await this.dataSource.query(
      `SELECT id FROM learning_rescans WHERE kind = 'forget' AND learning_ids = ARRAY[$1]::uuid[]
         AND status <> 'failed' ORDER BY requested_at DESC LIMIT 1`,
      [id],
    );
    const jobId =
      existing?.id ??
      (await startRescan(this.dataSource, {
        kind: 'forget',
        modelId: null,
        learningIds: [id],
        reason,
        requestedBy: req.apiKey?.id ?? 'unknown',
      }));
    this.outbox.kick();
    void reply.header('location', rescanStatusUrl(jobId));
    return rescanView(this.dataSource, jobId);
  }
}
