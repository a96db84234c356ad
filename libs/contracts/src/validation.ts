import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventEnvelope, LearningInput } from './events';

/** libs/contracts/schemas — beside src/, and beside its compiled copy (the build copies them to dist/). */
export const SCHEMA_DIR = join(__dirname, '..', 'schemas');

const readSchema = (...parts: string[]): object =>
  JSON.parse(readFileSync(join(SCHEMA_DIR, ...parts), 'utf8'));

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, useDefaults: true });
addFormats(ajv, ['uuid', 'date-time', 'uri']);

/**
 * `type@version` → validator of `data`, one per file `schemas/events/<type>.v<version>.schema.json`.
 * Adding an event is adding its schema file; Python loads the same files.
 */
const dataValidators = new Map<string, ValidateFunction>(
  readdirSync(join(SCHEMA_DIR, 'events'))
    .map((file) => /^(.+)\.v(\d+)\.schema\.json$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [`${m[1]}@${m[2]}`, ajv.compile(readSchema('events', m[0]))]),
);
const validateEnvelopeShape = ajv.compile(readSchema('envelope.schema.json'));
const validateLearningInputFn = ajv.compile<LearningInput>(readSchema('api', 'learning-input.schema.json'));

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
  if (!validateLearningInputFn(value))
    return { ok: false, issues: issues(validateLearningInputFn.errors, prefix) };
  return { ok: true, value };
}

export function formatIssues(list: ValidationIssue[]): string {
  return list.map((i) => `${i.path} ${i.message}`).join('; ');
}
