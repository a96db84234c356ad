import { Inject, Injectable } from '@nestjs/common';
import {
  DEFAULT_MODEL_ID,
  LEARNING_KINDS,
  SUBJECTS,
  makeEnvelope,
  validateLearningInput,
  type LearningCapturedV1,
  type LearningInput,
  type ValidationIssue,
} from '@genesis/contracts';
import { EventPublisher } from '@genesis/messaging';
import { counter, Log, perModelSeries } from '@genesis/observability';
import { ProblemError, problems } from '../problem/problem';
import { deterministicId, uuidv7 } from './ids';
import { RegisteredModels } from '../models/registered-models';

const captured = perModelSeries(
  counter('genesis_learnings_captured_total', 'Learnings accepted by the gateway', ['model_id', 'kind']),
  { kind: LEARNING_KINDS },
);
const log = new Log('gateway', 'capture');

export interface CaptureOptions {
  apiKeyId: string;
  correlationId: string;
  /** With an Idempotency-Key the ids derive from it, so a retry republishes the same learnings. */
  idSeed?: string;
}

@Injectable()
export class CaptureLearningService {
  constructor(
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(RegisteredModels) private readonly models: RegisteredModels,
  ) {}

  /** Validates everything first (all or nothing), then publishes; resolves once JetStream acked all. */
  async capture(
    inputs: unknown[],
    pathPrefix: (i: number) => string,
    opts: CaptureOptions,
  ): Promise<string[]> {
    const valid: LearningInput[] = [];
    const issues: ValidationIssue[] = [];
    inputs.forEach((input, i) => {
      const result = validateLearningInput(input, pathPrefix(i));
      if (result.ok) valid.push(result.value);
      else issues.push(...result.issues);
    });
    if (issues.length > 0) {
      const shown = issues.slice(0, 50);
      throw problems.validation(
        `${issues.length} problem(s); nothing was accepted: ${shown
          .map((i) => `${i.path} ${i.message}`)
          .slice(0, 3)
          .join('; ')}`,
        shown,
      );
    }

    // A learning for an unregistered model is refused whole, like an invalid one (ADR 0022).
    await this.models.require(valid.map((v) => v.model_id ?? DEFAULT_MODEL_ID));

    const receivedAt = new Date();
    const envelopes = valid.map((input, i) => {
      const learningId = opts.idSeed
        ? deterministicId(`${opts.idSeed}:${i}:learning`)
        : uuidv7(receivedAt.getTime());
      const data: LearningCapturedV1 = {
        ...input,
        learning_id: learningId,
        model_id: input.model_id ?? DEFAULT_MODEL_ID,
        received_at: receivedAt.toISOString(),
        api_key_id: opts.apiKeyId,
      };
      return makeEnvelope(SUBJECTS.learningCaptured, data, {
        id: opts.idSeed ? deterministicId(`${opts.idSeed}:${i}:event`) : undefined,
        source: 'gateway',
        modelId: data.model_id,
        correlationId: opts.correlationId,
        causationId: opts.correlationId,
        time: receivedAt,
      });
    });

    try {
      await Promise.all(envelopes.map((e) => this.publisher.publish(SUBJECTS.learningCaptured, e)));
    } catch (err) {
      log.warn('publish failed', { correlation_id: opts.correlationId, error: (err as Error).message });
      // Too big for the bus is permanent: a retryable 503 here had clients retry forever. The
      // schema's bounds keep every valid learning under NATS' default 1 MiB; this is the backstop.
      if (/max_payload/i.test((err as Error).message)) {
        throw new ProblemError(
          413,
          'LEARNING_TOO_LARGE',
          'Learning too large',
          'a learning, once encoded, exceeds what the event bus carries; shorten its fields',
        );
      }
      throw problems.unavailable(
        'the event bus did not acknowledge the learning(s); nothing is confirmed — retry the request (with the same Idempotency-Key to be safe)',
      );
    }
    for (const e of envelopes) captured.inc({ model_id: e.data.model_id, kind: e.data.kind });
    return envelopes.map((e) => e.data.learning_id);
  }
}
