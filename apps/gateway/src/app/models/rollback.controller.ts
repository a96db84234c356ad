import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { MODEL_VERSION_PATTERN, SUBJECTS, makeEnvelope, type RollbackRequestedV1 } from '@genesis/contracts';
import { enqueueEvent, Outbox } from '@genesis/persistence';
import { AuthGuard, RequireScope, type AuthedRequest } from '../auth/auth.guard';
import { modelIdParam } from '../improvement/model-id';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { problems } from '../problem/problem';
import { UUID } from '../http/query-params';
import { refuseSecrets } from '../http/refuse-secrets';

/**
 * POST /api/v1/models/rollback: records the request and rollback.requested in one transaction
 * (outbox); the deployer carries it out and writes the outcome on the request, which
 * GET /api/v1/models/rollbacks/:id shows.
 */
@Controller('api/v1/models')
@UseGuards(AuthGuard, RateLimitGuard)
export class RollbackController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  @Post('rollback')
  @HttpCode(202)
  @RequireScope('admin')
  async rollback(
    @Body() body: unknown,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const input = (body ?? {}) as { model_id?: unknown; version?: unknown; reason?: unknown };
    const errors: { path: string; message: string }[] = [];
    if (typeof input !== 'object' || Array.isArray(input))
      errors.push({ path: '/', message: 'must be an object' });
    for (const key of Object.keys(input))
      if (!['model_id', 'version', 'reason'].includes(key))
        errors.push({ path: `/${key}`, message: 'is not a known field' });
    if (typeof input.reason !== 'string' || input.reason.trim() === '' || input.reason.length > 1000)
      errors.push({ path: '/reason', message: 'is required: a string of 1 to 1000 characters' });
    if (
      input.version !== undefined &&
      (typeof input.version !== 'string' || !MODEL_VERSION_PATTERN.test(input.version))
    )
      errors.push({ path: '/version', message: `must match ${MODEL_VERSION_PATTERN.source}` });
    if (errors.length)
      throw problems.validation(
        'the body is {"reason": string, "version"?: string, "model_id"?: string}',
        errors,
      );
    const modelId = modelIdParam(input.model_id, '/model_id');
    await refuseSecrets(body, 'the rollback request');
    const requestId = randomUUID();
    const requestedBy = req.apiKey?.id ?? 'unknown';
    const data: RollbackRequestedV1 = {
      request_id: requestId,
      ...(input.version ? { version: input.version as string } : {}),
      reason: input.reason as string,
      requested_by: requestedBy,
    };
    await this.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO rollback_requests (request_id, model_id, version, reason, requested_by, status)
         VALUES ($1, $2, $3, $4, $5, 'pending')`,
        [requestId, modelId, data.version ?? null, data.reason, requestedBy],
      );
      await enqueueEvent(
        m,
        SUBJECTS.rollbackRequested,
        makeEnvelope(SUBJECTS.rollbackRequested, data, {
          source: 'gateway',
          modelId,
          correlationId: requestId,
          causationId: requestId,
        }),
      );
    });
    this.outbox.kick();
    const statusUrl = `/api/v1/models/rollbacks/${requestId}`;
    void reply.header('location', statusUrl);
    return { request_id: requestId, model_id: modelId, status: 'pending', status_url: statusUrl };
  }

  @Get('rollbacks/:id')
  @RequireScope('status:read')
  async status(@Param('id') id: string) {
    const [row] = UUID.test(id)
      ? await this.dataSource.query(`SELECT * FROM rollback_requests WHERE request_id = $1`, [id])
      : [];
    if (!row) throw problems.notFound('ROLLBACK_NOT_FOUND', `no rollback request ${id}`);
    return {
      request_id: row.request_id,
      model_id: row.model_id,
      status: row.status,
      requested_version: row.version,
      from_version: row.from_version,
      to_version: row.to_version,
      reason: row.reason,
      requested_by: row.requested_by,
      failure: row.failure,
      requested_at: row.requested_at.toISOString(),
      finished_at: row.finished_at ? row.finished_at.toISOString() : null,
    };
  }
}
