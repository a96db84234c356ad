import fc from 'fast-check';
import type { Schema } from './openapi';

/**
 * Values a hostile client sends where a field's schema says otherwise: wrong types, NUL, lone
 * surrogates, control characters, very long or deeply nested values, huge numbers.
 */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', '\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '\u0001\u001f', '../../etc/passwd', '%00'),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => `lone ${String.fromCharCode(c)}`),
  fc.constantFrom('k'.repeat(300), 'x'.repeat(40_000)),
  fc.double(),
  fc.constantFrom(1e308, -1, 0, 2 ** 53 + 1, true, null, [], {}),
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer({ min: 1, max: 40 }).map((n) => JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`) as unknown),
);

const DATE_MIN = new Date('1971-01-01T00:00:00Z');
const DATE_MAX = new Date('2100-01-01T00:00:00Z');

/** Values that follow `schema` (the subset of JSON Schema docs/openapi.yaml uses). */
export function fromSchema(schema: Schema | undefined): fc.Arbitrary<unknown> {
  if (!schema) return fc.jsonValue({ maxDepth: 2 });
  if (Array.isArray(schema['enum'])) return fc.constantFrom(...(schema['enum'] as unknown[]));
  if (Array.isArray(schema['allOf'])) {
    return fc
      .tuple(...(schema['allOf'] as Schema[]).map(fromSchema))
      .map((parts) => Object.assign({}, ...parts.filter((p) => p && typeof p === 'object')) as unknown);
  }
  const types = ([] as unknown[]).concat(schema['type'] ?? 'object') as string[];
  return fc.oneof(...types.map((t) => ofType(t, schema)));
}

function ofType(type: string, s: Schema): fc.Arbitrary<unknown> {
  switch (type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: (s['minimum'] as number) ?? -1000, max: (s['maximum'] as number) ?? 1000 });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'string':
      return stringOf(s);
    case 'array': {
      const minLength = (s['minItems'] as number) ?? 0;
      return fc.array(fromSchema(s['items'] as Schema), {
        minLength,
        maxLength: Math.min((s['maxItems'] as number) ?? 5, minLength + 4),
      });
    }
    default:
      return objectOf(s);
  }
}

function stringOf(s: Schema): fc.Arbitrary<string> {
  if (s['format'] === 'uuid') return fc.uuid();
  if (s['format'] === 'date-time')
    return fc.date({ min: DATE_MIN, max: DATE_MAX, noInvalidDate: true }).map((d) => d.toISOString());
  if (typeof s['pattern'] === 'string') return fc.stringMatching(new RegExp(s['pattern']));
  const minLength = (s['minLength'] as number) ?? 0;
  const maxLength = Math.min((s['maxLength'] as number) ?? 60, 200);
  return fc.string({ unit: 'grapheme', minLength, maxLength }).filter((v) => v.length <= maxLength);
}

function objectOf(s: Schema): fc.Arbitrary<unknown> {
  const properties = (s['properties'] as Record<string, Schema> | undefined) ?? {};
  const required = (s['required'] as string[] | undefined) ?? [];
  const extra = s['additionalProperties'];
  const known = fc.record(
    Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, fromSchema(v)])),
    { requiredKeys: required.filter((k) => k in properties) },
  );
  if (!extra || extra === true || Object.keys(properties).length > 0) return known;
  const maxKeys = Math.min((s['maxProperties'] as number) ?? 5, 5);
  return fc.dictionary(fc.string({ maxLength: 30 }), fromSchema(extra as Schema), { maxKeys });
}

/**
 * Hostile text for query and path parameters: the values above plus NUL-bearing strings, dates
 * outside what a database holds, and opaque tokens (base64url JSON, as cursors are) holding them.
 */
export const hostileText: fc.Arbitrary<unknown> = fc.oneof(
  hostileValue,
  fc.constantFrom('\u0000', 'a\u0000b', '-271821-04-20', '+275760-09-13T00:00:00Z', '0', '-'.repeat(36)),
  fc
    .array(
      fc.oneof(
        fc.constantFrom('-271821-04-20T00:00:00Z', '+275760-09-13T00:00:00Z', '-'.repeat(36), '\u0000'),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.uuid(),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      { maxLength: 3 },
    )
    .map((parts) => Buffer.from(JSON.stringify(parts)).toString('base64url')),
);

/** 5,000 nested arrays around a `\u` escape: deep enough to overflow a recursive walk. */
export const DEEP_JSON = `${'['.repeat(5000)}"\\u0041"${']'.repeat(5000)}`;

/** `value` with a key of just over 1 MiB added to its most deeply nested object. */
export function withHugeKey(value: unknown): unknown {
  let deepest: Record<string, unknown> | undefined;
  let best = -1;
  const walk = (v: unknown, depth: number) => {
    if (v === null || typeof v !== 'object') return;
    if (!Array.isArray(v) && depth > best) {
      best = depth;
      deepest = v as Record<string, unknown>;
    }
    for (const child of Object.values(v)) walk(child, depth + 1);
  };
  walk(value, 0);
  if (deepest) deepest['k'.repeat(1024 * 1024 + 1)] = 'v';
  return value;
}

/** `value` as an HTML form body (what a browser or curl -d sends), optionally with a NUL in it. */
export function formEncoded(value: unknown, withNul: boolean): string {
  const form = new URLSearchParams();
  const entries: [string, unknown][] =
    value !== null && typeof value === 'object' ? Object.entries(value) : [['value', value]];
  for (const [k, v] of entries) form.append(k, typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
  if (withNul) form.append('correction', 'a\u0000b');
  return form.toString();
}
