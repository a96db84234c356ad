import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import {
  EmbedderProcess,
  ServiceProcess,
  TEST_ADMIN_KEY,
  TEST_WRITER_KEY,
  TestStack,
} from '@genesis/testing';
import {
  DEEP_JSON,
  formEncoded,
  fromSchema,
  hostileText,
  hostileValue,
  withHugeKey,
} from './fuzz/arbitraries';
import { loadSpec, operations, type Operation, type Schema } from './fuzz/openapi';

/**
 * Property-based fuzzing of every operation in docs/openapi.yaml against the real gateway (real
 * NATS, Postgres, Redis): inputs mostly follow the spec, the rest are hostile (wrong types, NUL,
 * lone surrogates, deep nesting, wrong content types, no key, a key without the scope). Every
 * answer must be a status the spec documents for that operation, never a 5xx, and its body must
 * match the documented schema (problem+json for every error). Why fast-check and not
 * schemathesis: docs/adr/0013-hostile-http.md.
 */
const RUNS = Number(process.env['GENESIS_FUZZ_RUNS'] ?? 60);
const SEED = process.env['GENESIS_FUZZ_SEED'] ? Number(process.env['GENESIS_FUZZ_SEED']) : undefined;

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);

const AUTH = fc.constantFrom<[string, string | undefined]>(
  ...Array.from({ length: 16 }, (): [string, string | undefined] => ['admin', TEST_ADMIN_KEY]),
  ['writer', TEST_WRITER_KEY],
  ['none', undefined],
  ['unknown', 'not-a-key-0123456789abcdef'],
);
const CONTENT_TYPE = fc.constantFrom(
  ...Array.from({ length: 8 }, () => 'application/json'),
  'application/json; charset=utf-8',
  'application/x-www-form-urlencoded',
  'text/plain',
  'application/xml',
);
const HEADER_TEXT = fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.:/ '), maxLength: 250 });

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** A request for `op`: parameters and body from the spec or hostile, with one of the auth variants. */
function requestFor(op: Operation): fc.Arbitrary<Sent> {
  const params = op.parameters.map((p) =>
    fc.record({
      present: p.required || p.in === 'path' ? fc.constant(true) : fc.boolean(),
      value: fc.oneof({ weight: 3, arbitrary: fromSchema(p.schema) }, { weight: 1, arbitrary: hostileText }),
    }),
  );
  // A body and, for some, the content type it must travel with.
  const body: fc.Arbitrary<{ raw: string; type?: string } | undefined> = op.body
    ? fc.oneof(
        { weight: 6, arbitrary: fromSchema(op.body.schema).map((v) => ({ raw: JSON.stringify(v) })) },
        { weight: 1, arbitrary: hostileValue.map((v) => ({ raw: JSON.stringify(v) ?? 'undefined' })) },
        { weight: 1, arbitrary: fc.string({ maxLength: 50 }).map((raw) => ({ raw })) },
        { weight: 1, arbitrary: fc.constant({ raw: DEEP_JSON, type: 'application/json' }) },
        {
          weight: 1,
          arbitrary: fromSchema(op.body.schema).map((v) => ({
            raw: JSON.stringify(withHugeKey(v)),
            type: 'application/json',
          })),
        },
        {
          weight: 1,
          arbitrary: fc.tuple(fromSchema(op.body.schema), fc.boolean()).map(([v, nul]) => ({
            raw: formEncoded(v, nul),
            type: 'application/x-www-form-urlencoded',
          })),
        },
      )
    : fc.constant(undefined);
  return fc
    .tuple(fc.tuple(...params), body, AUTH, CONTENT_TYPE, HEADER_TEXT)
    .map(([values, raw, auth, type, text]) => {
      let path = op.path;
      const query = new URLSearchParams();
      const headers: Record<string, string> = {};
      op.parameters.forEach((p, i) => {
        const { present, value } = values[i]!;
        if (!present) return;
        const asText = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
        // A URL carries UTF-8: a lone surrogate cannot travel in one (the client would send U+FFFD).
        const wellFormed = asText.replace(
          /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
          '\ufffd',
        );
        if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(wellFormed) || 'x');
        else if (p.in === 'query') query.append(p.name, wellFormed);
        else if (p.in === 'header') headers[p.name] = text || 'k';
      });
      if (auth[1]) headers['authorization'] = `Bearer ${auth[1]}`;
      if (raw !== undefined) headers['content-type'] = raw.type ?? type;
      const qs = query.toString();
      return { method: op.method, url: `${path}${qs ? `?${qs}` : ''}`, headers, body: raw?.raw };
    });
}

interface Verdict {
  status: number;
  problem?: string;
}

/** Sends `sent` and checks the answer against what the spec documents for `op`. */
async function check(baseUrl: string, op: Operation, sent: Sent): Promise<Verdict> {
  const controller = new AbortController();
  const res = await fetch(`${baseUrl}${sent.url}`, {
    method: sent.method,
    headers: sent.headers,
    body: sent.body,
    signal: controller.signal,
  });
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  if (type === 'text/event-stream') {
    controller.abort(); // an open event stream never ends by itself
  }
  const text = type === 'text/event-stream' ? '' : await res.text();
  const status = res.status;
  if (status >= 500) return { status, problem: `a ${status}: ${text.slice(0, 300)}` };
  const documented = op.responses[String(status)] ?? op.responses['default'];
  if (!documented) return { status, problem: `${status} is not documented for ${op.method} ${op.path}` };
  if (status >= 400 && type !== 'application/problem+json')
    return { status, problem: `a ${status} as ${type || 'no content type'}, not problem+json` };
  const mediaTypes = Object.keys(documented);
  if (mediaTypes.length === 0) return { status };
  if (!mediaTypes.includes(type))
    return { status, problem: `content type ${type} is not one of ${mediaTypes}` };
  const schema = documented[type];
  if (!schema || type === 'text/event-stream' || type === 'text/plain') return { status };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { status, problem: `the ${status} body is not JSON: ${text.slice(0, 200)}` };
  }
  const validate = ajv.compile(schema as Schema);
  if (!validate(parsed)) {
    return { status, problem: `the ${status} body breaks its schema: ${ajv.errorsText(validate.errors)}` };
  }
  return { status };
}

describe('every route of docs/openapi.yaml, fuzzed against the real gateway', () => {
  let stack: TestStack;
  let gateway: ServiceProcess;
  // The real embedder answers `POST /learnings/search` (a missing one is a 503, which a retry fixes).
  let embedder: EmbedderProcess;
  const seen = new Map<number, number>();
  let requests = 0;

  before(async () => {
    stack = await TestStack.start();
    embedder = await new EmbedderProcess({ NATS_URL: stack.nats.url }).start();
    gateway = await ServiceProcess.start('gateway', stack.env());
  });

  after(async () => {
    const statuses = [...seen].sort(([a], [b]) => a - b).map(([s, n]) => `${n}× ${s}`);
    console.log(`[openapi-fuzz] ${requests} requests: ${statuses.join(', ')}`);
    await gateway?.stop();
    await embedder?.stop();
    await stack?.dispose();
  });

  const spec = loadSpec();
  const ops = operations(spec);

  it('documents 401/403/413/415/429 for every route that can answer them', () => {
    for (const op of ops) {
      const codes = Object.keys(op.responses);
      const need = [
        ...(op.secured ? ['400', '401', '403', '429'] : op.path.startsWith('/health/') ? [] : ['429']),
        ...(op.body ? ['413', '415', '422'] : []),
      ];
      for (const code of need) assert.ok(codes.includes(code), `${op.method} ${op.path} documents ${code}`);
    }
  });

  for (const op of ops) {
    it(`${op.method} ${op.path}: 0 5xx, 0 undocumented statuses, 0 schema mismatches`, async () => {
      const runs = op.path === '/api/v1/events' ? Math.ceil(RUNS / 3) : RUNS;
      await fc.assert(
        fc.asyncProperty(requestFor(op), async (sent) => {
          const verdict = await check(gateway.baseUrl, op, sent);
          requests++;
          seen.set(verdict.status, (seen.get(verdict.status) ?? 0) + 1);
          if (verdict.problem) {
            throw new Error(`${verdict.problem}\n  request: ${JSON.stringify(sent).slice(0, 600)}`);
          }
        }),
        { numRuns: runs, seed: SEED, endOnFailure: false, interruptAfterTimeLimit: 30_000 },
      );
    });
  }
});
