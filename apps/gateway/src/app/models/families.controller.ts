import { Body, Controller, Get, Inject, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import {
  FAMILY_ID_PATTERN,
  getFamily,
  listBackups,
  listFamilies,
  modelPerformance,
  parseFamilyInput,
  registerFamily,
} from '@genesis/registry';
import { AuthGuard, RequireScope, type AuthedRequest } from '../auth/auth.guard';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { problems } from '../problem/problem';
import { limitParam } from '../http/query-params';
import { RegisteredModels } from './registered-models';
import { refuseSecrets } from '../http/refuse-secrets';

/**
 * The registry's models (ADR 0022): families registered by config or here, each model's
 * performance (the seed's get_model_performance) and its backups (deployed versions kept).
 */
@Controller('api/v1/models')
@UseGuards(AuthGuard, RateLimitGuard)
export class FamiliesController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(RegisteredModels) private readonly registered: RegisteredModels,
  ) {}

  @Get('families')
  @RequireScope('status:read')
  async list() {
    const items = await listFamilies(this.dataSource);
    return { items, count: items.length };
  }

  /** Registers a family, or replaces its definition: 201 the first time, 200 after. */
  @Post('families')
  @RequireScope('admin')
  async register(
    @Body() body: unknown,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { family, errors } = parseFamilyInput(body);
    if (!family)
      throw problems.validation(
        `${errors.length} problem(s): ${errors
          .slice(0, 3)
          .map((e) => `${e.path} ${e.message}`)
          .join('; ')}`,
        errors,
      );
    await refuseSecrets(body, 'the model family');
    const r = await registerFamily(this.dataSource, family, `api:${req.apiKey?.id ?? 'unknown'}`);
    this.registered.remember([family.id]);
    void reply.status(r.created ? 201 : 200).header('location', `/api/v1/models/families/${family.id}`);
    return r.family;
  }

  @Get('families/:id')
  @RequireScope('status:read')
  async one(@Param('id') id: string) {
    const family = FAMILY_ID_PATTERN.test(id) ? await getFamily(this.dataSource, id) : undefined;
    if (!family) throw problems.notFound('MODEL_NOT_REGISTERED', `no registered model family ${id}`);
    return family;
  }

  /** The champion's current metrics and the model's metrics history, straight from the registry. */
  @Get(':id/performance')
  @RequireScope('status:read')
  async performance(@Param('id') id: string, @Query() q: Record<string, string | undefined>) {
    const limit = limitParam(q['limit'], 200, 1000);
    return modelPerformance(this.dataSource, await this.registeredId(id), limit);
  }

  /** Deployed versions whose artifacts are kept: restoring one is a rollback to it. */
  @Get(':id/backups')
  @RequireScope('status:read')
  async backups(@Param('id') id: string) {
    const modelId = await this.registeredId(id);
    const items = await listBackups(this.dataSource, modelId);
    return { model_id: modelId, items };
  }

  private async registeredId(id: string): Promise<string> {
    if (!FAMILY_ID_PATTERN.test(id) || !(await getFamily(this.dataSource, id)))
      throw problems.notFound('MODEL_NOT_REGISTERED', `no registered model family ${id}`);
    return id;
  }
}
