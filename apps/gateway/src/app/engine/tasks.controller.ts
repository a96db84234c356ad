import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { evaluateTriggers, loadModelFacts, thresholdsOf, type TriggerPolicy } from '@genesis/cycles';
import {
  TASK_KINDS,
  TASK_STATUSES,
  cancelTask,
  enqueueTask,
  findTask,
  isTaskKind,
  listTasks,
  requestedPriority,
  taskView,
  type TaskStatus,
} from '@genesis/engine';
import { Outbox, REDIS } from '@genesis/persistence';
import type Redis from 'ioredis';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { IdempotencyStore } from '../capture-learning/idempotency';
import { AuthGuard, RequireScope, type AuthedRequest } from '../auth/auth.guard';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { ProblemError, problems } from '../problem/problem';
import { MODEL_ID, UUID, badQuery, limitParam, patternParam } from '../http/query-params';
import { TRIGGER_POLICY } from '../improvement/trigger-policy.provider';
import { parseCustomTask, type CustomTaskInput } from './task-input';
import { refuseSecrets } from '../http/refuse-secrets';
import { RegisteredModels } from '../models/registered-models';

/**
 * The engine's tasks (ADR 0024): list them with their priorities and explanations, add a custom
 * one, cancel a queued one. The monitor's scheduler starts a custom task by its priority, also
 * while the loop is stopped (docs/engine.md).
 */
@Controller('api/v1/tasks')
@UseGuards(AuthGuard, RateLimitGuard)
export class TasksController {
  private readonly idempotency: IdempotencyStore;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TRIGGER_POLICY) private readonly policy: TriggerPolicy,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(RegisteredModels) private readonly models: RegisteredModels,
    @Inject(REDIS) redis: Redis,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.idempotency = new IdempotencyStore(redis, config.idempotencyTtlSeconds);
  }

  @Get()
  @RequireScope('status:read')
  async list(@Query() q: Record<string, string | undefined>) {
    const limit = limitParam(q['limit']);
    const status = q['status'];
    if (status !== undefined && !(TASK_STATUSES as readonly string[]).includes(status))
      throw badQuery(`status must be one of ${TASK_STATUSES.join(', ')}`);
    const kind = q['kind'];
    if (kind !== undefined && !isTaskKind(kind))
      throw badQuery(`kind must be one of ${TASK_KINDS.join(', ')}`);
    const modelId = patternParam(q['model_id'], 'model_id', MODEL_ID);
    const rows = await listTasks(this.dataSource, {
      limit,
      modelId,
      ...(status ? { status: status as TaskStatus } : {}),
      ...(kind && isTaskKind(kind) ? { kind } : {}),
    });
    return { items: rows.map(taskView) };
  }

  @Get(':id')
  @RequireScope('status:read')
  async one(@Param('id') id: string) {
    const task = UUID.test(id) ? await findTask(this.dataSource, id) : undefined;
    if (!task) throw problems.notFound('TASK_NOT_FOUND', `no improvement task with id ${id}`);
    return taskView(task);
  }

  @Post()
  @HttpCode(201)
  @RequireScope('admin')
  async add(
    @Body() body: unknown,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    const input = parseCustomTask(body);
    // As the manual trigger: a task for a model nobody registered would open a cycle for it.
    await this.models.require([input.modelId]);
    await refuseSecrets(body, 'the task');
    const by = req.apiKey?.id ?? 'unknown';
    // A client that lost the answer retries with the same Idempotency-Key and gets the task it
    // created, not a 409 from the one-active-task rule against its own first request.
    const view = await this.idempotency.once(`${by}:tasks`, idempotencyKey, body, 201, reply, () =>
      this.create(input, by),
    );
    void reply.header('location', `/api/v1/tasks/${view.id}`);
    return view;
  }

  private async create(input: CustomTaskInput, by: string): Promise<ReturnType<typeof taskView>> {
    const now = new Date();
    // The family's own thresholds, as the manual trigger reads them.
    const t = await thresholdsOf(this.dataSource, this.policy, input.modelId);
    // The counts travel with the cycle's threshold.reached, as for the spec's manual trigger.
    const counts = evaluateTriggers(await loadModelFacts(this.dataSource, input.modelId, t), t, now).counts;
    const result = await this.dataSource.transaction((m) =>
      enqueueTask(m, {
        modelId: input.modelId,
        kind: input.kind,
        priority: input.priority,
        explanation: requestedPriority(input.priority, by),
        requestedBy: by,
        automatic: false,
        reason: `Custom ${input.kind} task by ${by}${input.reason ? `: ${input.reason}` : ''}`,
        plan: { trigger: 'manual', counts: { ...counts } },
        targetMetrics: input.targetMetrics,
        constraints: input.constraints,
        now,
        source: 'gateway',
      }),
    );
    if (!result.created) {
      const e = result.existing;
      throw new ProblemError(
        409,
        'TASK_ALREADY_ACTIVE',
        'Task already queued or running',
        `${input.modelId} already has a ${e.status} ${e.kind} task: ${e.id}`,
        { task_id: e.id, task_status: e.status },
      );
    }
    this.outbox.kick();
    return taskView(result.task);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @RequireScope('admin')
  async cancel(@Param('id') id: string, @Req() req: AuthedRequest) {
    if (!UUID.test(id)) throw problems.notFound('TASK_NOT_FOUND', `no improvement task with id ${id}`);
    const by = req.apiKey?.id ?? 'unknown';
    const result = await this.dataSource.transaction((m) =>
      cancelTask(m, id, { by, now: new Date(), source: 'gateway' }),
    );
    if (result.outcome === 'not_found')
      throw problems.notFound('TASK_NOT_FOUND', `no improvement task with id ${id}`);
    if (result.outcome === 'not_queued') {
      throw new ProblemError(
        409,
        'TASK_NOT_QUEUED',
        'Only a queued task can be cancelled',
        result.task.status === 'running'
          ? `task ${id} is running: a started task runs to the end of its cycle`
          : `task ${id} has already ended (${result.task.status}); only a queued task can be cancelled`,
        { task_status: result.task.status },
      );
    }
    this.outbox.kick();
    return taskView(result.task);
  }
}
