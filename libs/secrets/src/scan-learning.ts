import { isCredentialName, isPlaceholder } from './genesis-rules';
import { shannonEntropy } from './pattern-scanner';
import {
  quarantineReason,
  redactManyLearningFields,
  type FieldSecretFinding,
  type QuarantineReason,
  type RedactedLearningFields,
  type ScanManyOptions,
} from './redaction';
import { SECRET_RULE_SET_VERSION } from './secretlint-scanner';

/** Every text a learning carries. */
export interface LearningTexts {
  context?: string;
  model_output?: string;
  correction?: string;
  /** Python tests a learning may carry (ADR 0016): cleaned like the code they test. */
  tests?: string;
  source?: string;
  language?: string;
  produced_by?: string;
  /** Keys and string values are scanned, at any depth; numbers, booleans and null pass unchanged. */
  metadata?: Record<string, unknown>;
}

export interface LearningScan {
  /** The learning with every secret replaced by `[REDACTED:<rule>]`, metadata keys included. */
  cleaned: LearningTexts;
  /**
   * One per secret found; `field` is `context`, `source`, `metadata.<cleaned path>` or
   * `metadata.<cleaned path> (key)`; messages never hold the secret. Safe to log and store.
   */
  findings: FieldSecretFinding[];
  /** Markers inserted. */
  redactions: number;
  /** The rule sets that cleaned it, with versions (store it with the learning). */
  ruleSetVersion: string;
  /** Set when the learning must not be used (see quarantineLearning). */
  quarantine?: QuarantineReason;
}

/** Every text field of a learning besides metadata. */
export const TEXT_FIELDS = [
  'context',
  'model_output',
  'correction',
  'tests',
  'source',
  'language',
  'produced_by',
] as const;
/** Fields that name or classify rather than say something: a secret there cannot be cut out. */
export const IDENTIFIER_FIELDS: ReadonlySet<string> = new Set(['source', 'language', 'produced_by']);
const METADATA_FIELD = 'metadata#';
const CREDENTIAL_KEY_MARKER = '[REDACTED:assignment]';

type Path = ReadonlyArray<string | number>;
interface MetadataText {
  kind: 'key' | 'value';
  path: Path;
  text: string;
}

/** Every key and string value of a JSON-like value, depth first, in insertion order. */
function metadataTexts(value: unknown, path: Path = [], out: MetadataText[] = []): MetadataText[] {
  if (typeof value === 'string') out.push({ kind: 'value', path, text: value });
  else if (Array.isArray(value)) value.forEach((v, i) => metadataTexts(v, [...path, i], out));
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      out.push({ kind: 'key', path: [...path, key], text: key });
      metadataTexts(v, [...path, key], out);
    }
  }
  return out;
}

/**
 * Scans and cleans every text of many learnings in one batch (one secretlint pass for the whole batch,
 * see scanManyForSecretsSettled). Element i is the scan of list[i]. Never rejects: a text whose scan
 * failed quarantines its learning. `options` are test hooks.
 */
export async function scanLearnings(
  list: readonly LearningTexts[],
  options: ScanManyOptions = {},
): Promise<LearningScan[]> {
  const metadata = list.map((l) => metadataTexts(l.metadata ?? {}));
  const fieldsList = list.map((l, i) => {
    const fields: Record<string, string | undefined> = {};
    for (const name of TEXT_FIELDS) fields[name] = l[name];
    metadata[i]!.forEach((item, n) => (fields[`${METADATA_FIELD}${n}`] = item.text));
    return fields;
  });
  const redacted = await redactManyLearningFields(fieldsList, options);
  return redacted.map((r, i) => {
    const identifiers = [
      ...IDENTIFIER_FIELDS,
      ...metadata[i]!.flatMap((item, n) => (item.kind === 'key' ? [`${METADATA_FIELD}${n}`] : [])),
    ];
    return assemble(list[i]!, metadata[i]!, redactTokenLikeIdentifiers(r, identifiers));
  });
}

/** scanLearnings for one learning. */
export async function scanLearning(
  learning: LearningTexts,
  options: ScanManyOptions = {},
): Promise<LearningScan> {
  return (await scanLearnings([learning], options))[0]!;
}

// In an identifier a credential has no name beside it to recognise it by: a UUID, a long hex string or a
// long random-looking run of base64 characters there is taken for one, and so is a password-like token.
const TOKEN_LIKE =
  /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[A-Za-z0-9+/=]{20,}/g;
const TOKEN_LIKE_MARKER = '[REDACTED:token-like]';
const PASSWORD_LIKE_MARKER = '[REDACTED:password-like]';
// Characters that appear in passwords but not in the names of languages, editors, plugins or models.
const PASSWORD_SYMBOL = /[!$%^*~,;=&+?]/; // not `@`: `plugin@2.3.1` is a name
// A segment of a name: a word with an optional number (`Qwen2`, `vscode`), a number with an optional
// unit (`1`, `5B`, `4o`), or a capital with a number (`V3`).
const NAME_SEGMENT = /^(?:[A-Za-z]+\d*|\d+[A-Za-z]{0,2}|[A-Z]\d+)$/;

function isTokenLike(run: string): boolean {
  if (run.includes('-')) return true; // the UUID alternative
  if (/^[0-9a-fA-F]{32,}$/.test(run)) return true;
  return /[0-9]/.test(run) && /[A-Za-z]/.test(run) && shannonEntropy(run) >= 3.5;
}

/**
 * A whitespace-free token of 8+ characters that reads like a password rather than a name: it mixes
 * letters or digits with password punctuation (`p7XC!dsEko5Hvm8+`), or it mixes lower case, upper case
 * and digits in a segment no name has (`RPt7oEIvLNv0`). `Objective-C`, `c++`, `Qwen2.5-Coder-1.5B`,
 * `genesis-20260101-000000`, `JetBrains/IntelliJ-2024.2` are names.
 */
export function isPasswordLike(token: string): boolean {
  if (token.length < 8 || /\s/.test(token) || token.includes('[REDACTED')) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((c) => c.test(token)).length;
  if (PASSWORD_SYMBOL.test(token)) return classes >= 2;
  if (classes < 3) return false;
  return !token.split(/[-._/:]+/).every((segment) => segment === '' || NAME_SEGMENT.test(segment));
}

/**
 * Source, language, produced_by and metadata keys are identifiers, not prose: besides the rule sets, a
 * token-like run or a password-like token there is redacted as a suspected credential (and, being in an
 * identifier, quarantines the learning).
 */
function redactTokenLikeIdentifiers(
  r: RedactedLearningFields,
  fields: readonly string[],
): RedactedLearningFields {
  for (const field of fields) {
    const text = r.fields[field];
    if (text === undefined) continue;
    let count = 0;
    const cleaned = text
      .replace(TOKEN_LIKE, (run) => (isTokenLike(run) ? (count++, TOKEN_LIKE_MARKER) : run))
      .replace(/\S+/g, (token) => (isPasswordLike(token) ? (count++, PASSWORD_LIKE_MARKER) : token));
    if (count === 0) continue;
    r.fields[field] = cleaned;
    r.redactions += count;
    r.findings.push({
      field,
      ruleId: 'genesis:identifier-token',
      message: 'genesis:identifier-token: a random-looking or password-like token in an identifier field',
    });
  }
  return r;
}

function assemble(original: LearningTexts, items: MetadataText[], r: RedactedLearningFields): LearningScan {
  const cleaned: LearningTexts = {};
  for (const name of TEXT_FIELDS) {
    if (original[name] !== undefined) cleaned[name] = r.fields[name];
  }
  let redactions = r.redactions;
  const extraFindings: FieldSecretFinding[] = [];

  // The common case: no metadata text changed and no value sits under a credential's name, so the
  // metadata is kept as it came (it is never mutated) and nothing below needs to run.
  const untouched = items.every(
    (item, n) =>
      r.fields[`${METADATA_FIELD}${n}`] === item.text &&
      !(item.kind === 'value' && underCredentialName(item) && !isPlaceholder(item.text)),
  );
  if (untouched) {
    if (original.metadata !== undefined) cleaned.metadata = original.metadata;
    return {
      cleaned,
      findings: r.findings,
      redactions,
      ruleSetVersion: SECRET_RULE_SET_VERSION,
      quarantine: quarantineLearning(r),
    };
  }

  // Rebuild metadata from the cleaned keys and values; a key's cleaned text names its value's path.
  const cleanedItem = (n: number) => r.fields[`${METADATA_FIELD}${n}`];
  const keyPaths = new Map<string, string>(); // JSON of original path -> cleaned dotted path
  const readable = (path: Path): string => {
    const parts: string[] = [];
    for (let k = 1; k <= path.length; k++) {
      const last = path[k - 1]!;
      parts.push(
        typeof last === 'number' ? String(last) : (keyPaths.get(JSON.stringify(path.slice(0, k))) ?? '?'),
      );
    }
    return `metadata.${parts.join('.')}`;
  };
  const names = new Map<string, string>();
  const failed = new Set(r.failedFields);
  let root: unknown = original.metadata === undefined ? undefined : structuredClone(original.metadata);
  const renames: Array<{ path: Path; to: string }> = [];
  items.forEach((item, n) => {
    const field = `${METADATA_FIELD}${n}`;
    const text = cleanedItem(n);
    if (item.kind === 'key') {
      keyPaths.set(JSON.stringify(item.path), text ?? '[UNSCANNED]');
      if (text !== item.text) renames.push({ path: item.path, to: text ?? '[UNSCANNED]' });
      names.set(field, `${readable(item.path)} (key)`);
      return;
    }
    names.set(field, readable(item.path));
    let value = text;
    // A value under a credential's name is a credential, whatever it looks like: {"db_password": "hunter2"}.
    const parentKey = item.path[item.path.length - 1];
    if (
      value !== undefined &&
      typeof parentKey === 'string' &&
      isCredentialName(parentKey) &&
      !isPlaceholder(value) &&
      value !== CREDENTIAL_KEY_MARKER
    ) {
      value = CREDENTIAL_KEY_MARKER;
      redactions++;
      extraFindings.push({
        field,
        ruleId: 'genesis:assignment',
        message: 'genesis:assignment: a metadata value under a credential-named key',
      });
    }
    root = setAt(root, item.path, value ?? null);
  });
  // Keys last, deepest first, so the value paths above stay valid while keys change.
  for (const { path, to } of renames.sort((a, b) => b.path.length - a.path.length))
    root = renameAt(root, path, to);
  if (root !== undefined) cleaned.metadata = root as Record<string, unknown>;

  const rename = (field: string) => names.get(field) ?? field;
  const findings = [...r.findings, ...extraFindings].map((f) => ({ ...f, field: rename(f.field) }));
  const renamed: RedactedLearningFields = {
    fields: Object.fromEntries(Object.entries(r.fields).map(([k, v]) => [rename(k), v])),
    redactions,
    findings,
    failedFields: [...failed].map(rename),
  };
  return {
    cleaned,
    findings,
    redactions,
    ruleSetVersion: SECRET_RULE_SET_VERSION,
    quarantine: quarantineLearning(renamed),
  };
}

/**
 * quarantineReason, plus: a secret in an identifier (source, language, produced_by, a metadata key)
 * quarantines the learning (SECRET_IN_IDENTIFIER). Redacting there would leave a learning that claims a
 * made-up source or language (or a key that collides with another), and such a field is no place for a
 * credential anyway: the whole learning is suspect. The stored row keeps only the redacted forms.
 */
export function quarantineLearning(cleaned: RedactedLearningFields): QuarantineReason | undefined {
  const base = quarantineReason(cleaned);
  if (base?.code === 'SECRET_SCAN_FAILED') return base;
  const inIdentifiers = [
    ...new Set(
      cleaned.findings.map((f) => f.field).filter((f) => IDENTIFIER_FIELDS.has(f) || f.endsWith(' (key)')),
    ),
  ];
  if (inIdentifiers.length > 0) {
    return {
      code: 'SECRET_IN_IDENTIFIER',
      message: `a secret in a field that cannot be redacted: ${inIdentifiers.join(', ')}`,
    };
  }
  return base;
}

function underCredentialName(item: MetadataText): boolean {
  const parentKey = item.path[item.path.length - 1];
  return typeof parentKey === 'string' && isCredentialName(parentKey);
}

function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const container = root as Record<string | number, unknown>;
  // defineProperty, not assignment: a key named `__proto__` from untrusted metadata stays a plain key.
  Object.defineProperty(container, path[0]!, {
    value: setAt(container[path[0]!], path.slice(1), value),
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return root;
}

/** Renames the key at `path`, keeping key order; a colliding name gets a numeric suffix. */
function renameAt(root: unknown, path: Path, to: string): unknown {
  if (path.length > 1) {
    return setAt(
      root,
      [path[0]!],
      renameAt((root as Record<string | number, unknown>)[path[0]!], path.slice(1), to),
    );
  }
  const object = root as Record<string, unknown>;
  const from = path[0] as string;
  let name = to;
  for (let k = 2; name !== from && Object.prototype.hasOwnProperty.call(object, name); k++)
    name = `${to}#${k}`;
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k === from ? name : k, v]));
}
