import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { isUniqueViolation, Outbox } from '@genesis/persistence';
import { AuthGuard, RequireScope, type AuthedRequest } from '../auth/auth.guard';
import { modelIdParam } from '../improvement/model-id';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { ProblemError, problems } from '../problem/problem';
import { UUID } from '../http/query-params';
import { rescanStatusUrl, rescanView } from './rescan-view';
import { failStalled, startRescan } from './start-rescan';

const DEFAULT_REASON = 'rescan with the current rule set';

/**
 * POST /api/v1/admin/learnings/rescan starts a rescan of every stored learning with the current
 * secret rules (ADR 0017): one at a time (a second request gets 409 with the running one's id);
 * GET …/rescans/:id follows it, forget jobs included.
 */
@Controller('api/v1/admin/learnings')
@UseGuards(AuthGuard, RateLimitGuard)
export class RescanController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  @Post('rescan')
  @HttpCode(202)
  @RequireScope('admin')
  async rescan(
    @Body() body: unknown,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const input = (body ?? {}) as { model_id?: unknown; reason?: unknown };
    const errors: { path: string; message: string }[] = [];
    if (typeof input !== 'object' || Array.isArray(input))
      errors.push({ path: '/', message: 'must be an object' });
    else {
      for (const key of Object.keys(input))
        if (!['model_id', 'reason'].includes(key))
          errors.push({ path: `/${key}`, message: 'is not a known field' });
      if (
        input.reason !== undefined &&
        (typeof input.reason !== 'string' || input.reason.trim() === '' || input.reason.length > 1000)
      )
        errors.push({ path: '/reason', message: 'must be a string of 1 to 1000 characters' });
    }
    if (errors.length)
      throw problems.validation('the body is {"model_id"?: string, "reason"?: string}', errors);
    // No model_id: every model's learnings.
    const modelId = input.model_id === undefined ? null : modelIdParam(input.model_id, '/model_id');
    await failStalled(this.dataSource, `kind = 'rescan'`);
    let id: string;
    try {
      id = await startRescan(this.dataSource, {
        kind: 'rescan',
        modelId,
        reason: (input.reason as string | undefined) ?? DEFAULT_REASON,
        requestedBy: req.apiKey?.id ?? 'unknown',
      });
    } catch (err) {
      if (!isUniqueViolation(err, 'learning_rescans_one_active_uq')) throw err;
      const [running] = await this.dataSource.query(
        `SELECT id FROM learning_rescans WHERE kind = 'rescan' AND status IN ('pending', 'scanning', 'purging')`,
      );
      throw new ProblemError(
        409,
        'RESCAN_ALREADY_RUNNING',
        'Rescan already running',
        'one rescan runs at a time',
        {
          rescan_id: running?.id ?? null,
          status_url: running ? rescanStatusUrl(running.id) : null,
        },
      );
    }
    this.outbox.kick();
    void reply.header('location', rescanStatusUrl(id));
    return rescanView(this.dataSource, id);
  }

  @Get('rescans/:id')
  @RequireScope('admin')
  async status(@Param('id') id: string) {
    const view = UUID.test(id) ? await rescanView(this.dataSource, id) : undefined;
    if (!view) throw problems.notFound('RESCAN_NOT_FOUND', `no rescan or forget job ${id}`);
    return view;
  }
}
