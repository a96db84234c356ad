import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** A JSON Schema (OpenAPI 3.1 schemas are JSON Schema 2020-12), references resolved. */
export type Schema = Record<string, unknown>;

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}

export interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  /** The JSON request body's schema, when the operation takes one. */
  body?: { schema: Schema; required: boolean };
  /** Documented responses by status code: media type → schema (empty when it has no content). */
  responses: Record<string, Record<string, Schema | undefined>>;
  /** False for `security: []` (public) operations. */
  secured: boolean;
}

const REPO = join(__dirname, '..', '..', '..', '..', '..');

/** docs/openapi.yaml with every internal `$ref` inlined (the spec has no recursive schemas). */
export function loadSpec(): Record<string, unknown> {
  const spec = parse(readFileSync(join(REPO, 'docs', 'openapi.yaml'), 'utf8')) as Record<string, unknown>;
  const resolve = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(resolve);
    if (node === null || typeof node !== 'object') return node;
    const ref = (node as { $ref?: unknown }).$ref;
    if (typeof ref === 'string') {
      const target = ref
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((at, part) => (at as Record<string, unknown>)[part], spec);
      return resolve(target);
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v)]));
  };
  return resolve(spec) as Record<string, unknown>;
}

/** Every operation of the spec. */
export function operations(spec: Record<string, unknown>): Operation[] {
  const out: Operation[] = [];
  const globalSecured = Array.isArray(spec['security']) && (spec['security'] as unknown[]).length > 0;
  for (const [path, item] of Object.entries(spec['paths'] as Record<string, Record<string, unknown>>)) {
    for (const [method, raw] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const op = raw as Record<string, unknown>;
      const body = op['requestBody'] as
        { required?: boolean; content?: Record<string, { schema: Schema }> } | undefined;
      const responses: Operation['responses'] = {};
      for (const [status, r] of Object.entries(op['responses'] as Record<string, { content?: object }>)) {
        responses[status] = Object.fromEntries(
          Object.entries((r.content ?? {}) as Record<string, { schema?: Schema }>).map(([type, c]) => [
            type,
            c.schema,
          ]),
        );
      }
      const security = op['security'] as unknown[] | undefined;
      out.push({
        method: method.toUpperCase(),
        path,
        parameters: ((op['parameters'] as Parameter[] | undefined) ?? []).filter((p) => p.schema),
        body: body?.content?.['application/json']
          ? { schema: body.content['application/json'].schema, required: body.required ?? false }
          : undefined,
        responses,
        secured: security ? security.length > 0 : globalSecured,
      });
    }
  }
  return out;
}
