import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  DEFAULT_MODEL_ID,
  SUBJECTS,
  makeEnvelope,
  type EngineIterationRequestedV1,
} from '@genesis/contracts';
import { engineStatus, iterationView, listHistory, readLoop, setLoop } from '@genesis/engine';
import { enqueueEvent, Outbox } from '@genesis/persistence';
import { AuthGuard, RequireScope, type AuthedRequest } from '../auth/auth.guard';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { problems } from '../problem/problem';
import { limitParam } from '../http/query-params';
import { refuseSecrets } from '../http/refuse-secrets';

/**
 * The seed's engine API (ADR 0024): status, loop start/stop (persisted), force an iteration, and
 * the history of iterations. Stopping the loop stops automatic planning; running tasks finish and
 * tasks a person asked for still start (docs/engine.md).
 */
@Controller('api/v1/engine')
@UseGuards(AuthGuard, RateLimitGuard)
export class EngineController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  @Get('status')
  @RequireScope('status:read')
  async status() {
    return {
      ...(await engineStatus(this.dataSource, [DEFAULT_MODEL_ID])),
      loop: await readLoop(this.dataSource),
    };
  }

  @Get('loop')
  @RequireScope('status:read')
  loop() {
    return readLoop(this.dataSource);
  }

  @Post('loop/start')
  @HttpCode(200)
  @RequireScope('admin')
  async start(@Body() body: unknown, @Req() req: AuthedRequest) {
    const reason = await reasonOf(body);
    const { state, changed } = await setLoop(this.dataSource, true, req.apiKey?.id ?? 'unknown', reason);
    // Planning resumes at once rather than at the next interval.
    if (changed) await this.requestIteration(req.apiKey?.id ?? 'unknown');
    return { ...state, changed };
  }

  @Post('loop/stop')
  @HttpCode(200)
  @RequireScope('admin')
  async stop(@Body() body: unknown, @Req() req: AuthedRequest) {
    const reason = await reasonOf(body);
    const { state, changed } = await setLoop(this.dataSource, false, req.apiKey?.id ?? 'unknown', reason);
    return { ...state, changed };
  }

  @Post('iterations')
  @HttpCode(202)
  @RequireScope('admin')
  async iterate(@Req() req: AuthedRequest) {
    const requested = await this.requestIteration(req.apiKey?.id ?? 'unknown');
    return { requested_at: requested.requested_at, event_id: requested.event_id };
  }

  @Get('history')
  @RequireScope('status:read')
  async history(@Query('limit') limit: string | undefined) {
    const rows = await listHistory(this.dataSource, limitParam(limit, 20, 1000));
    return { items: rows.map(iterationView) };
  }

  /** engine.iteration_requested through the outbox: the monitor runs one iteration when it reads it. */
  private async requestIteration(by: string): Promise<{ requested_at: string; event_id: string }> {
    const now = new Date();
    const data: EngineIterationRequestedV1 = { requested_by: by, requested_at: now.toISOString() };
    const envelope = makeEnvelope(SUBJECTS.engineIterationRequested, data, {
      source: 'gateway',
      modelId: DEFAULT_MODEL_ID,
      time: now,
    });
    await this.dataSource.transaction((m) => enqueueEvent(m, SUBJECTS.engineIterationRequested, envelope));
    this.outbox.kick();
    return { requested_at: data.requested_at, event_id: envelope.id };
  }
}

/** The optional reason of a loop change; it is shown to every reader, so it may hold no secret. */
async function reasonOf(body: unknown): Promise<string | null> {
  if (body === undefined || body === null) return null;
  const reason = (body as { reason?: unknown }).reason;
  if (
    typeof body !== 'object' ||
    Array.isArray(body) ||
    (reason !== undefined && (typeof reason !== 'string' || reason.length > 1000))
  )
    throw problems.validation('the body, when present, is {"reason"?: string}', [
      { path: '/reason', message: 'must be a string of at most 1000 characters' },
    ]);
  // As the API says (additionalProperties: false): a misspelt `reson` is not silently dropped.
  const unknown = Object.keys(body).filter((k) => k !== 'reason');
  if (unknown.length > 0)
    throw problems.validation(
      'the body, when present, is {"reason"?: string}',
      unknown.map((k) => ({ path: `/${k}`, message: 'is not a field of a loop change' })),
    );
  await refuseSecrets({ reason }, 'the reason');
  return (reason as string | undefined) ?? null;
}
