import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ARTIFACT_KINDS, isArtifactKind, type ArtifactKind } from './artifact-kinds';
import { iso, type Db } from './db';

/** A model id: the path segment, label value and version-name prefix every service uses. */
export const FAMILY_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** What a version of the family must satisfy to be deployed (checked by the deployer). */
export interface FamilyConstraints {
  /** The artifact's stored size at most this many bytes. */
  max_size_bytes?: number;
  /** The mean generation latency per evaluated item the family aims at (reported, not yet a gate). */
  latency_target_ms?: number;
}

/** The family's own trigger thresholds, overriding the global GENESIS_* defaults (snake_case as in env). */
export interface FamilyThresholds {
  learning_threshold?: number;
  time_threshold_days?: number;
  performance_threshold?: number;
  feedback_window?: number;
  feedback_min_samples?: number;
  min_new_evidence?: number;
}

export const THRESHOLD_KEYS = [
  'learning_threshold',
  'time_threshold_days',
  'performance_threshold',
  'feedback_window',
  'feedback_min_samples',
  'min_new_evidence',
] as const satisfies readonly (keyof FamilyThresholds)[];

/**
 * The range each threshold may take, the same as its GENESIS_* variable's: a family's thresholds are
 * read by every planning iteration, so a value the checks cannot use (a feedback window of 2.5 or
 * 1e308 goes into a LIMIT and fails the query) must be refused when it is registered, and skipped if
 * an older row holds one, or one family stops the planning of every model.
 */
export const THRESHOLD_RANGES: Readonly<
  Record<(typeof THRESHOLD_KEYS)[number], { integer: boolean; min: number; max: number }>
> = {
  learning_threshold: { integer: true, min: 1, max: 1_000_000_000 },
  time_threshold_days: { integer: false, min: 0, max: 36_500 },
  performance_threshold: { integer: false, min: 0, max: 1 },
  feedback_window: { integer: true, min: 1, max: 100_000 },
  feedback_min_samples: { integer: true, min: 1, max: 100_000 },
  min_new_evidence: { integer: true, min: 0, max: 1_000_000_000 },
};

/** Why `n` cannot be the threshold `key`, or null when it can. */
export function thresholdProblem(key: string, n: unknown): string | null {
  const range = THRESHOLD_RANGES[key as keyof typeof THRESHOLD_RANGES];
  if (!range) return `is not one of ${THRESHOLD_KEYS.join(', ')}`;
  const what = `${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}`;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < range.min || n > range.max)
    return `must be ${what}`;
  if (range.integer && !Number.isInteger(n)) return `must be ${what}`;
  return null;
}

const CONSTRAINT_KEYS = ['max_size_bytes', 'latency_target_ms'] as const;

export interface FamilyInput {
  id: string;
  /** null: the deployment's GENESIS_BASE_MODEL. */
  base_model: string | null;
  artifact_kind: ArtifactKind;
  constraints: FamilyConstraints;
  thresholds: FamilyThresholds;
  description: string | null;
}

export interface ModelFamily extends FamilyInput {
  /** `default`, `config`, `api:<key id>`, `auto` (GENESIS_MODEL_AUTO_REGISTER) or `migration`. */
  registered_by: string;
  created_at: string | null;
  updated_at: string | null;
}

export interface FieldIssue {
  path: string;
  message: string;
}

/**
 * A family as posted or written in the GENESIS_MODEL_FAMILIES file: every problem found, with its
 * JSON path, so one answer names them all.
 */
export function parseFamilyInput(value: unknown, at = ''): { family?: FamilyInput; errors: FieldIssue[] } {
  const errors: FieldIssue[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { errors: [{ path: at || '/', message: 'must be an object' }] };
  const v = value as Record<string, unknown>;
  const known = ['id', 'base_model', 'artifact_kind', 'constraints', 'thresholds', 'description'];
  for (const k of Object.keys(v))
    if (!known.includes(k)) errors.push({ path: `${at}/${k}`, message: 'is not a known field' });
  if (typeof v['id'] !== 'string' || !FAMILY_ID_PATTERN.test(v['id']))
    errors.push({ path: `${at}/id`, message: `is required and must match ${FAMILY_ID_PATTERN.source}` });
  const base = v['base_model'];
  if (
    base !== undefined &&
    base !== null &&
    (typeof base !== 'string' || base.length < 1 || base.length > 200)
  )
    errors.push({ path: `${at}/base_model`, message: 'must be a string of 1 to 200 characters, or null' });
  const kind = v['artifact_kind'] ?? 'lora-adapter';
  if (!isArtifactKind(kind))
    errors.push({ path: `${at}/artifact_kind`, message: `must be one of ${ARTIFACT_KINDS.join(', ')}` });
  const constraints = numbers(v['constraints'], CONSTRAINT_KEYS, `${at}/constraints`, errors, () => null);
  const thresholds = numbers(v['thresholds'], THRESHOLD_KEYS, `${at}/thresholds`, errors, thresholdProblem);
  const description = v['description'];
  if (
    description !== undefined &&
    description !== null &&
    (typeof description !== 'string' || description.length > 1000)
  )
    errors.push({ path: `${at}/description`, message: 'must be a string of at most 1000 characters' });
  if (errors.length) return { errors };
  return {
    errors,
    family: {
      id: v['id'] as string,
      base_model: (base as string | null | undefined) ?? null,
      artifact_kind: kind as ArtifactKind,
      constraints: constraints as FamilyConstraints,
      thresholds: thresholds as FamilyThresholds,
      description: (description as string | null | undefined) ?? null,
    },
  };
}

function numbers(
  value: unknown,
  keys: readonly string[],
  at: string,
  errors: FieldIssue[],
  extra: (key: string, n: number) => string | null,
): Record<string, number> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    errors.push({ path: at, message: 'must be an object' });
    return {};
  }
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(value as Record<string, unknown>)) {
    if (!keys.includes(k)) errors.push({ path: `${at}/${k}`, message: `is not one of ${keys.join(', ')}` });
    else if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
      errors.push({ path: `${at}/${k}`, message: 'must be a number ≥ 0' });
    else {
      const problem = extra(k, n);
      if (problem) errors.push({ path: `${at}/${k}`, message: problem });
      else out[k] = n;
    }
  }
  return out;
}

/**
 * GENESIS_MODEL_FAMILIES: a JSON or YAML file holding a list of families (or `{families: [...]}`).
 * Any problem is thrown with the file and the field, so a service refuses to boot on a bad file.
 */
export function readFamiliesFile(path: string): FamilyInput[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`GENESIS_MODEL_FAMILIES: cannot read ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new Error(
      `GENESIS_MODEL_FAMILIES: ${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(err as Error).message}`,
    );
  }
  const list = Array.isArray(doc) ? doc : (doc as { families?: unknown } | null)?.families;
  if (!Array.isArray(list)) throw new Error(`GENESIS_MODEL_FAMILIES: ${path} must hold a list of families`);
  const families: FamilyInput[] = [];
  const errors: FieldIssue[] = [];
  list.forEach((entry, i) => {
    const r = parseFamilyInput(entry, `/${i}`);
    if (r.family) families.push(r.family);
    errors.push(...r.errors);
  });
  const ids = families.map((f) => f.id);
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (twice.length)
    errors.push({ path: '/', message: `families listed twice: ${[...new Set(twice)].join(', ')}` });
  if (errors.length)
    throw new Error(
      `GENESIS_MODEL_FAMILIES: ${path}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
    );
  return families;
}

function familyRow(r: Record<string, unknown>): ModelFamily {
  return {
    id: r['id'] as string,
    base_model: (r['base_model'] as string | null) ?? null,
    artifact_kind: r['artifact_kind'] as ArtifactKind,
    constraints: r['constraints'] as FamilyConstraints,
    thresholds: r['thresholds'] as FamilyThresholds,
    description: (r['description'] as string | null) ?? null,
    registered_by: r['registered_by'] as string,
    created_at: iso(r['created_at'] as Date),
    updated_at: iso(r['updated_at'] as Date),
  };
}

export async function listFamilies(db: Db): Promise<ModelFamily[]> {
  const rows: Record<string, unknown>[] = await db.query(`SELECT * FROM model_families ORDER BY id`);
  return rows.map(familyRow);
}

export async function getFamily(db: Db, id: string): Promise<ModelFamily | undefined> {
  const [row] = await db.query(`SELECT * FROM model_families WHERE id = $1`, [id]);
  return row ? familyRow(row) : undefined;
}

export async function isRegistered(db: Db, id: string): Promise<boolean> {
  const [row] = await db.query(`SELECT 1 FROM model_families WHERE id = $1`, [id]);
  return !!row;
}

/**
 * Registers a family or replaces its definition (posting the same body twice changes nothing but updated_at). `created` tells
 * a first registration from a change. Versions already trained keep what they were trained with.
 */
export async function registerFamily(
  db: Db,
  f: FamilyInput,
  registeredBy: string,
): Promise<{ family: ModelFamily; created: boolean }> {
  const [row] = await db.query(
    `INSERT INTO model_families (id, base_model, artifact_kind, constraints, thresholds, description, registered_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (id) DO UPDATE SET base_model = EXCLUDED.base_model, artifact_kind = EXCLUDED.artifact_kind,
       constraints = EXCLUDED.constraints, thresholds = EXCLUDED.thresholds, description = EXCLUDED.description,
       registered_by = EXCLUDED.registered_by, updated_at = now()
     RETURNING *, (xmax = 0) AS created`,
    [
      f.id,
      f.base_model,
      f.artifact_kind,
      JSON.stringify(f.constraints),
      JSON.stringify(f.thresholds),
      f.description,
      registeredBy,
    ],
  );
  return { family: familyRow(row), created: row.created === true };
}

/**
 * A family that must exist without a definition of its own (the default model, or a model first
 * seen under GENESIS_MODEL_AUTO_REGISTER): inserted with the defaults, never overwriting one.
 */
export async function ensureFamily(db: Db, id: string, registeredBy: string): Promise<void> {
  await db.query(
    `INSERT INTO model_families (id, registered_by) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
    [id, registeredBy],
  );
}

/**
 * At boot: the default model always, then every family of the GENESIS_MODEL_FAMILIES file (the
 * file is the definition of the families it names: it replaces what an API call changed).
 */
export async function registerConfiguredFamilies(
  db: Db,
  defaultModelId: string,
  configured: FamilyInput[],
): Promise<void> {
  await ensureFamily(db, defaultModelId, 'default');
  for (const f of configured) await registerFamily(db, f, 'config');
}
