import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalItemResult, EventEnvelope, LearningInput, WorkerHeartbeatV1 } from './events';
import { findUnstorableText } from './storable-text';

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

/**
 * Validates an envelope and, when its type is known, its data. Unknown types are an issue, and so
 * is text no service could store (U+0000, unpaired surrogates): the bus is an entry point too.
 */
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
  const unstorable = findUnstorableText(envelope.data, '/data');
  if (unstorable) return { ok: false, issues: [unstorable] };
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

/** Evaluation suites shipped with the project (libs/contracts/suites, copied to dist/ by the build). */
export const SUITES_DIR = join(__dirname, '..', 'suites');
export const REGRESSION_SUITE_FILE = join(SUITES_DIR, 'regression.v1.jsonl');

const validateEvalItemFn = ajv.compile(readSchema('artifacts', 'eval-item.v1.schema.json'));
const validateEvalResultFn = ajv.compile(readSchema('artifacts', 'eval-result.v1.schema.json'));

/** One line of an evaluation suite (artifacts/eval-item.v1). */
export function validateEvalItem(value: unknown, prefix = ''): ValidationResult<Record<string, unknown>> {
  return validateEvalItemFn(value)
    ? { ok: true, value: value as Record<string, unknown> }
    : { ok: false, issues: issues(validateEvalItemFn.errors, prefix) };
}

/** One line of a worker's per-item results (artifacts/eval-result.v1). */
export function validateEvalResult(value: unknown, prefix = ''): ValidationResult<EvalItemResult> {
  return validateEvalResultFn(value)
    ? { ok: true, value: value as EvalItemResult }
    : { ok: false, issues: issues(validateEvalResultFn.errors, prefix) };
}

const validateWorkerHeartbeatFn = ajv.compile<WorkerHeartbeatV1>(
  readSchema('messages', 'workers.heartbeat.v1.schema.json'),
);

/** One workers.heartbeat message (messages/workers.heartbeat.v1; ADR 0023). */
export function validateWorkerHeartbeat(value: unknown): ValidationResult<WorkerHeartbeatV1> {
  return validateWorkerHeartbeatFn(value)
    ? { ok: true, value }
    : { ok: false, issues: issues(validateWorkerHeartbeatFn.errors) };
}
