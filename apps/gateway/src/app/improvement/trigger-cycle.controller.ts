import { Body, Controller, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { SUBJECTS, makeEnvelope, type CycleRequestedV1 } from '@genesis/contracts';
import {
  evaluateTriggers,
  loadModelFacts,
  openCycle,
  thresholdsOf,
  type TriggerPolicy,
} from '@genesis/cycles';
import { counter } from '@genesis/observability';
import { endTasksOfEndedCycles, recordStartedTask, requestedPriority } from '@genesis/engine';
import { enqueueEvent, Outbox } from '@genesis/persistence';
import { AuthGuard, RequireScope, type AuthedRequest } from '../auth/auth.guard';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { ProblemError, problems } from '../problem/problem';
import { modelIdParam } from './model-id';
import { TRIGGER_POLICY } from './trigger-policy.provider';
import { RegisteredModels } from '../models/registered-models';
import { refuseSecrets } from '../http/refuse-secrets';

/** A manual trigger starts at once; its priority only orders it in listings. */
const MANUAL_PRIORITY = 1;

const triggers = counter('genesis_manual_triggers_total', 'Manual improvement triggers by outcome', [
  'outcome',
]);

/** The spec's response: {success, message, triggered_at, error}. */
export interface TriggerResponse {
  success: boolean;
  message: string;
  triggered_at: string | null;
  error: string | null;
}

/**
 * The spec's manual trigger: opens a cycle now, whatever the thresholds say. The cycle row and
 * cycle.requested are written in one transaction; the unique index on active cycles turns a
 * second request while one runs into a 409. The monitor announces the cycle (threshold.reached).
 */
@Controller('api/v1/genesis/improvement')
@UseGuards(AuthGuard, RateLimitGuard)
export class TriggerCycleController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TRIGGER_POLICY) private readonly policy: TriggerPolicy,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(RegisteredModels) private readonly models: RegisteredModels,
  ) {}

  @Post('trigger')
  @HttpCode(202)
  @RequireScope('admin')
  async trigger(
    @Body() body: unknown,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TriggerResponse> {
    const input = (body ?? {}) as { model_id?: unknown; reason?: unknown };
    if (typeof input !== 'object' || Array.isArray(input)) {
      throw problems.validation('the body, when present, is {"model_id"?: string, "reason"?: string}', [
        { path: '/', message: 'must be an object' },
      ]);
    }
    // A misspelt field (`modelid`) would otherwise open a cycle for the default model instead.
    const unknown = Object.keys(input).filter((k) => k !== 'model_id' && k !== 'reason');
    if (unknown.length > 0)
      throw problems.validation(
        'the body, when present, is {"model_id"?: string, "reason"?: string}',
        unknown.map((k) => ({ path: `/${k}`, message: 'is not a field of a trigger' })),
      );
    const modelId = modelIdParam(input.model_id, '/model_id');
    await this.models.require([modelId]);
    if (input.reason !== undefined && (typeof input.reason !== 'string' || input.reason.length > 1000)) {
      throw problems.validation('reason must be a string of at most 1000 characters', [
        { path: '/reason', message: 'must be a string of at most 1000 characters' },
      ]);
    }
    await refuseSecrets({ reason: input.reason }, 'the trigger');
    const requestedBy = req.apiKey?.id ?? 'unknown';
    const reason = `Manual trigger by ${requestedBy}${input.reason ? `: ${String(input.reason)}` : ''}`;
    const correlationId = firstHeader(req.headers['x-request-id']) ?? randomUUID();
    const now = new Date();

    const t = await thresholdsOf(this.dataSource, this.policy, modelId);
    const counts = evaluateTriggers(await loadModelFacts(this.dataSource, modelId, t), t, now).counts;
    const result = await this.dataSource.transaction(async (m) => {
      const opened = await openCycle(m, { modelId, trigger: 'manual', reason, counts, now, requestedBy });
      if (opened.opened) {
        // The trigger is a training task of the engine (ADR 0024) that starts at once: it takes over
        // the model's queued training task, if any, and counts against the concurrency limit. The
        // task of the model's previous cycle may not be ended yet (the monitor ends tasks as their
        // cycles end): end it here, in this transaction, so the new one is the only one running.
        await endTasksOfEndedCycles(m, { now, source: 'gateway', modelId });
        await recordStartedTask(m, {
          modelId,
          kind: 'training',
          priority: MANUAL_PRIORITY,
          explanation: requestedPriority(MANUAL_PRIORITY, requestedBy),
          requestedBy,
          reason,
          plan: { trigger: 'manual', counts: { ...counts } },
          cycleId: opened.cycle.id,
          now,
          source: 'gateway',
        });
        const data: CycleRequestedV1 = {
          cycle_id: opened.cycle.id,
          model_id: modelId,
          requested_by: requestedBy,
          reason,
          requested_at: now.toISOString(),
        };
        await enqueueEvent(
          m,
          SUBJECTS.cycleRequested,
          makeEnvelope(SUBJECTS.cycleRequested, data, {
            source: 'gateway',
            modelId,
            cycleId: opened.cycle.id,
            correlationId,
            causationId: correlationId,
            time: now,
          }),
        );
      }
      return opened;
    });

    if (!result.opened) {
      triggers.inc({ outcome: 'conflict' });
      const active = result.active;
      const message = `An improvement cycle is already running for ${modelId}: ${active.id} (${active.status}); wait for it to end`;
      throw new ProblemError(409, 'CYCLE_ALREADY_RUNNING', 'Cycle already running', message, {
        success: false,
        message,
        triggered_at: null,
        error: message,
        cycle_id: active.id,
        cycle_status: active.status,
      });
    }
    this.outbox.kick();
    triggers.inc({ outcome: 'opened' });
    void reply.header('location', `/api/v1/cycles/${result.cycle.id}`).header('x-request-id', correlationId);
    return {
      success: true,
      message: `Improvement cycle ${result.cycle.id} triggered successfully (running in background)`,
      triggered_at: now.toISOString(),
      error: null,
    };
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v && v.length <= 200 ? v : undefined;
}
