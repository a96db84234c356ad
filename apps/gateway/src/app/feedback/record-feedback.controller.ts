import { Body, Controller, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DEFAULT_MODEL_ID, SUBJECTS, makeEnvelope, type FeedbackRecordedV1 } from '@genesis/contracts';
import { counter, perModelSeries } from '@genesis/observability';
import { enqueueEvent, Outbox } from '@genesis/persistence';
import { AuthGuard, RequireScope, type AuthedRequest } from '../auth/auth.guard';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { problems } from '../problem/problem';
import { RegisteredModels } from '../models/registered-models';

const recorded = perModelSeries(
  counter('genesis_feedback_recorded_total', 'Feedback outcomes recorded', ['model_id', 'outcome']),
  { outcome: ['accepted', 'corrected'] },
);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const FIELDS = new Set(['id', 'model_id', 'model_version', 'outcome', 'learning_id', 'source']);

interface FeedbackInput {
  id: string;
  model_id: string;
  model_version: string;
  outcome: 'accepted' | 'corrected';
  learning_id?: string;
  source?: string;
}

function parse(body: unknown): FeedbackInput {
  const errors: { path: string; message: string }[] = [];
  const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<
    string,
    unknown
  >;
  if (b !== body) errors.push({ path: '/', message: 'must be an object' });
  for (const key of Object.keys(b))
    if (!FIELDS.has(key)) errors.push({ path: `/${key}`, message: 'is not allowed' });
  const str = (key: string, test: (v: string) => boolean, message: string, required = false) => {
    const v = b[key];
    if (v === undefined) {
      if (required) errors.push({ path: `/${key}`, message: 'is required' });
      return undefined;
    }
    if (typeof v !== 'string' || !test(v)) errors.push({ path: `/${key}`, message });
    return v as string;
  };
  const id = str('id', (v) => UUID.test(v), 'must be a UUID');
  const modelId = str('model_id', (v) => MODEL_ID.test(v), `must match ${MODEL_ID.source}`);
  const version = str(
    'model_version',
    (v) => v.length >= 1 && v.length <= 200,
    'must be 1–200 characters',
    true,
  );
  const outcome = str(
    'outcome',
    (v) => v === 'accepted' || v === 'corrected',
    'must be one of accepted, corrected',
    true,
  );
  const learningId = str('learning_id', (v) => UUID.test(v), 'must be a UUID');
  const source = str('source', (v) => v.length <= 200, 'must be at most 200 characters');
  if (errors.length > 0) {
    throw problems.validation(errors.map((e) => `${e.path} ${e.message}`).join('; '), errors);
  }
  return {
    id: id ?? randomUUID(),
    model_id: modelId ?? DEFAULT_MODEL_ID,
    model_version: version!,
    outcome: outcome as FeedbackInput['outcome'],
    ...(learningId ? { learning_id: learningId } : {}),
    ...(source ? { source } : {}),
  };
}

/**
 * Online feedback on the live model's outputs — accepted as is, or corrected by the user — that
 * feeds the performance trigger. Idempotent when the client sends its own `id`.
 */
@Controller('api/v1/feedback')
@UseGuards(AuthGuard, RateLimitGuard)
export class RecordFeedbackController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(RegisteredModels) private readonly models: RegisteredModels,
  ) {}

  @Post()
  @HttpCode(201)
  @RequireScope('learnings:write')
  async record(
    @Body() body: unknown,
    @Req() req: AuthedRequest,
  ): Promise<{ id: string; recorded_at: string }> {
    const input = parse(body);
    await this.models.require([input.model_id]);
    const correlationId = firstHeader(req.headers['x-request-id']) ?? randomUUID();
    const at = await this.dataSource.transaction(async (m) => {
      const rows: { recorded_at: Date }[] = await m.query(
        `INSERT INTO feedback (id, model_id, model_version, outcome, learning_id, source, api_key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING RETURNING recorded_at`,
        [
          input.id,
          input.model_id,
          input.model_version,
          input.outcome,
          input.learning_id ?? null,
          input.source ?? null,
          req.apiKey?.id ?? null,
        ],
      );
      if (rows.length === 0) {
        // A retry of a recorded outcome: same answer, nothing new.
        const [existing] = await m.query(`SELECT recorded_at FROM feedback WHERE id = $1`, [input.id]);
        return { recordedAt: existing.recorded_at as Date, fresh: false };
      }
      const data: FeedbackRecordedV1 = {
        ...input,
        feedback_id: input.id,
        recorded_at: rows[0]!.recorded_at.toISOString(),
      };
      delete (data as Partial<FeedbackInput>).id;
      await enqueueEvent(
        m,
        SUBJECTS.feedbackRecorded,
        makeEnvelope(SUBJECTS.feedbackRecorded, data, {
          source: 'gateway',
          modelId: input.model_id,
          correlationId,
          causationId: correlationId,
        }),
      );
      return { recordedAt: rows[0]!.recorded_at, fresh: true };
    });
    if (at.fresh) {
      this.outbox.kick();
      recorded.inc({ model_id: input.model_id, outcome: input.outcome });
    }
    return { id: input.id, recorded_at: at.recordedAt.toISOString() };
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v && v.length <= 200 ? v : undefined;
}
