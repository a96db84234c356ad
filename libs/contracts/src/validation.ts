import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import envelopeSchema from '../schemas/envelope.schema.json';
import learningInputSchema from '../schemas/api/learning-input.schema.json';
import learningCapturedV1 from '../schemas/events/learning.captured.v1.schema.json';
import learningStoredV1 from '../schemas/events/learning.stored.v1.schema.json';
import learningRejectedV1 from '../schemas/events/learning.rejected.v1.schema.json';
import type { EventEnvelope, LearningInput } from './events';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, useDefaults: true });
addFormats(ajv, ['uuid', 'date-time']);

/** `type@version` → schema of `data`. Python loads the same files (libs/contracts/schemas). */
const DATA_SCHEMAS: Record<string, object> = {
  'learning.captured@1': learningCapturedV1,
  'learning.stored@1': learningStoredV1,
  'learning.rejected@1': learningRejectedV1,
};

const validateEnvelopeShape = ajv.compile(envelopeSchema);
const dataValidators = new Map<string, ValidateFunction>(
  Object.entries(DATA_SCHEMAS).map(([key, schema]) => [key, ajv.compile(schema)]),
);
const validateLearningInputFn = ajv.compile<LearningInput>(learningInputSchema);

export interface ValidationIssue {
  path: string;
  message: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

function issues(errors: ErrorObject[] | null | undefined, prefix = ''): ValidationIssue[] {
  return (errors ?? []).map((e) => {
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${String((e.params as { additionalProperty: string }).additionalProperty)})`
        : e.keyword === 'enum'
          ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`
          : '';
    if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return { path: `${prefix}${e.instancePath}/${missing}`, message: 'is required' };
    }
    return { path: `${prefix}${e.instancePath || '/'}`, message: `${e.message ?? 'is invalid'}${extra}` };
  });
}

export function hasSchema(type: string, version: number): boolean {
  return dataValidators.has(`${type}@${version}`);
}

/** Validates an envelope and, when its type is known, its data. Unknown types are an issue. */
export function validateEnvelope(value: unknown): ValidationResult<EventEnvelope> {
  if (!validateEnvelopeShape(value)) return { ok: false, issues: issues(validateEnvelopeShape.errors) };
  const envelope = value as unknown as EventEnvelope;
  const validateData = dataValidators.get(`${envelope.type}@${envelope.version}`);
  if (!validateData) {
    return {
      ok: false,
      issues: [{ path: '/type', message: `no schema for ${envelope.type} v${envelope.version}` }],
    };
  }
  if (!validateData(envelope.data)) return { ok: false, issues: issues(validateData.errors, '/data') };
  return { ok: true, value: envelope };
}

/** Validates (and fills defaults of) one learning as posted to the API. Mutates `value`. */
export function validateLearningInput(value: unknown, prefix = ''): ValidationResult<LearningInput> {
  if (!validateLearningInputFn(value)) return { ok: false, issues: issues(validateLearningInputFn.errors, prefix) };
  return { ok: true, value };
}

export function formatIssues(list: ValidationIssue[]): string {
  return list.map((i) => `${i.path} ${i.message}`).join('; ');
}
