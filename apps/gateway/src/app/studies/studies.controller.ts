import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
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
import { getFamily } from '@genesis/registry';
import { endTasksOfEndedCycles, recordStartedTask, requestedPriority } from '@genesis/engine';
import { enqueueEvent, Outbox } from '@genesis/persistence';
import { AuthGuard, RequireScope, type AuthedRequest } from '../auth/auth.guard';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { ProblemError, problems } from '../problem/problem';
import { modelIdParam } from '../improvement/model-id';
import { TRIGGER_POLICY } from '../improvement/trigger-policy.provider';
import { UUID } from '../http/query-params';
import { parseStudyRequest } from './study-request';
import { refuseSecrets } from '../http/refuse-secrets';
import { RegisteredModels } from '../models/registered-models';
import { studyView, studyListItem, type StudyRow } from './study-view';

/** The bridge's name for a cycle's study (apps/trainer-bridge architecture-jobs.ts studyName). */
function studyName(modelId: string, cycleId: string): string {
  return `${modelId}-${cycleId}`.replace(/[^a-zA-Z0-9_.:-]/g, '_').slice(0, 200);
}

const STUDY_NAME = /^[a-zA-Z0-9_.:-]{1,200}$/;

/** A requested study starts at once; its priority only orders it in listings (as a manual trigger's). */
const STUDY_PRIORITY = 1;

const STUDY_COLUMNS = `s.id, s.cycle_id, s.model_id, s.study_name, s.status, s.budget, s.search_space, s.baseline,
  s.warm_start, s.requested_by, s.best_trial, s.best_value, s.best_hyperparameters, s.summary, s.progress, s.failure,
  s.created_at, s.updated_at, c.status AS cycle_status, c.model_version,
  (t.study_id = s.id) AS adopted`;
const STUDY_FROM = `FROM architecture_studies s JOIN improvement_cycles c ON c.id = s.cycle_id
  LEFT JOIN model_training_configs t ON t.model_id = s.model_id`;

/**
 * Architecture studies (ADR 0025): start one (an `architecture` cycle, manual until the engine
 * plans them), list a model's studies and its adopted training configuration, show one study with
 * its trials, pruned count, best and parameter importance.
 */
@Controller('api/v1/models/:id')
@UseGuards(AuthGuard, RateLimitGuard)
export class StudiesController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TRIGGER_POLICY) private readonly policy: TriggerPolicy,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(RegisteredModels) private readonly models: RegisteredModels,
  ) {}

  /** Opens an architecture cycle; like the manual trigger, the monitor announces it. */
  @Post('studies')
  @HttpCode(202)
  @RequireScope('admin')
  async start(
    @Param('id') rawModelId: string,
    @Body() body: unknown,
    @Req() req: AuthedRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const modelId = modelIdParam(rawModelId, 'the model id');
    const request = parseStudyRequest(body);
    // As the manual trigger: a study for a model nobody registered would open a cycle for it.
    await this.models.require([modelId]);
    await refuseSecrets(body, 'the study request');
    const requestedBy = req.apiKey?.id ?? 'unknown';
    const reason = `Architecture study requested by ${requestedBy}${request.reason ? `: ${request.reason}` : ''}`;
    const correlationId = randomUUID();
    const now = new Date();
    // The family's own thresholds, as the manual trigger reads them.
    const t = await thresholdsOf(this.dataSource, this.policy, modelId);
    const counts = evaluateTriggers(await loadModelFacts(this.dataSource, modelId, t), t, now).counts;
    const result = await this.dataSource.transaction(async (m) => {
      const opened = await openCycle(m, {
        modelId,
        trigger: 'manual',
        kind: 'architecture',
        reason,
        counts,
        now,
        requestedBy,
      });
      if (!opened.opened) return { opened };
      const cycleId = opened.cycle.id;
      // The study is an architecture task of the engine (ADR 0024), as the manual trigger is a
      // training one: listed in GET /api/v1/tasks, announced by task.started, counted against the
      // concurrency limit, and it takes over the model's queued architecture task, if any.
      await endTasksOfEndedCycles(m, { now, source: 'gateway', modelId });
      await recordStartedTask(m, {
        modelId,
        kind: 'architecture',
        priority: STUDY_PRIORITY,
        explanation: requestedPriority(STUDY_PRIORITY, requestedBy),
        requestedBy,
        reason,
        plan: { trigger: 'manual', counts: { ...counts } },
        cycleId,
        now,
        source: 'gateway',
      });
      const name = studyName(modelId, cycleId);
      // The budget asked for; what is missing the bridge fills from its defaults when it queues.
      await m.query(
        `INSERT INTO architecture_studies (id, cycle_id, model_id, study_name, status, budget, requested_by)
         VALUES ($1, $2, $3, $4, 'requested', $5, $6)`,
        [randomUUID(), cycleId, modelId, name, JSON.stringify(request.budget), requestedBy],
      );
      const data: CycleRequestedV1 = {
        cycle_id: cycleId,
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
          cycleId,
          correlationId,
          causationId: correlationId,
          time: now,
        }),
      );
      return { opened, name };
    });
    if (!result.opened.opened) {
      const active = result.opened.active;
      throw new ProblemError(
        409,
        'CYCLE_ALREADY_RUNNING',
        'Cycle already running',
        `An improvement cycle is already running for ${modelId}: ${active.id} (${active.status}); wait for it to end`,
        { cycle_id: active.id, cycle_status: active.status },
      );
    }
    this.outbox.kick();
    const url = `/api/v1/models/${modelId}/studies/${result.name}`;
    void reply.header('location', url);
    return {
      model_id: modelId,
      cycle_id: result.opened.cycle.id,
      study: result.name,
      status: 'requested',
      budget: request.budget,
      url,
    };
  }

  @Get('studies')
  @RequireScope('status:read')
  async list(@Param('id') rawModelId: string) {
    const modelId = modelIdParam(rawModelId, 'the model id');
    // As performance and backups: a mistyped model is named, not shown as one without studies.
    if (!(await getFamily(this.dataSource, modelId)))
      throw problems.notFound('MODEL_NOT_REGISTERED', `no registered model family ${modelId}`);
    const rows = (await this.dataSource.query(
      `SELECT ${STUDY_COLUMNS} ${STUDY_FROM} WHERE s.model_id = $1 ORDER BY s.created_at DESC LIMIT 100`,
      [modelId],
    )) as StudyRow[];
    return {
      model_id: modelId,
      training_config: await this.trainingConfig(modelId),
      items: rows.map(studyListItem),
    };
  }

  @Get('studies/:study')
  @RequireScope('status:read')
  async one(@Param('id') rawModelId: string, @Param('study') study: string) {
    const modelId = modelIdParam(rawModelId, 'the model id');
    const byId = UUID.test(study);
    // a study is named by the bridge (studyName: letters, digits, _ . : -) or by its id; anything
    // else (a NUL byte, say) names no study and never reaches Postgres
    if (!byId && !STUDY_NAME.test(study))
      throw problems.notFound('STUDY_NOT_FOUND', `${modelId} has no study by that name`);
    const [row] = (await this.dataSource.query(
      `SELECT ${STUDY_COLUMNS} ${STUDY_FROM} WHERE s.model_id = $1 AND ${byId ? 's.id = $2::uuid' : 's.study_name = $2'}`,
      [modelId, study.slice(0, 300)],
    )) as StudyRow[];
    if (!row) throw problems.notFound('STUDY_NOT_FOUND', `${modelId} has no study ${study.slice(0, 300)}`);
    return studyView(row);
  }

  /** What the model's next jobs.train use (ADR 0025): null until an architecture cycle deployed. */
  private async trainingConfig(modelId: string) {
    const [row] = await this.dataSource.query(
      `SELECT hyperparameters, study_id, study_name, best_trial, cycle_id, model_version, adopted_at
       FROM model_training_configs WHERE model_id = $1`,
      [modelId],
    );
    return row ?? null;
  }
}
