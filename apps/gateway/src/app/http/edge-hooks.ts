import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type Redis from 'ioredis';
import { findUnstorableText } from '@genesis/contracts';
import { Log } from '@genesis/observability';
import { REDIS } from '@genesis/persistence';
import { ApiKeyRing, type ApiKey } from '../auth/api-keys';
import type { AuthedRequest } from '../auth/auth.guard';
import type { GatewayConfig } from '../gateway.config';
import { ProblemError, problems } from '../problem/problem';
import { sendProblem } from '../problem/problem.filter';
import { countInWindow } from '../rate-limit/fixed-window';
import { rateLimited } from '../rate-limit/rate-limit.guard';
import { addressBucket } from './client-address';
import { badQuery } from './query-params';

const log = new Log('gateway', 'edge');

/** Every route under this prefix needs an API key; the Nest AuthGuard then checks its scope. */
const PROTECTED_PREFIX = '/api/';
/** Probes must never be refused by a limit (a kubelet would restart a healthy gateway). */
const UNLIMITED_PREFIX = '/health/';
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const MAX_QUERY_VALUE = 2048;

/**
 * The gateway's first line, one Fastify `onRequest` hook for every route (so routes added later get
 * it without a line of their own), run before the body is read:
 *   1. a request without a valid key counts against its address's budget (429), and on a protected
 *      route ends there with a 401: anonymous traffic never costs a body read or a parse;
 *   2. a body must be declared `application/json` (UTF-8), else 415 — form bodies included;
 *   3. every query parameter is a single, storable, bounded string, else 400.
 * See docs/adr/0013-hostile-http.md.
 */
export function installEdgeHooks(app: NestFastifyApplication, config: GatewayConfig): void {
  const redis = app.get<Redis>(REDIS);
  const keys = app.get(ApiKeyRing);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.decorateRequest('apiKey', undefined); // one shape for every request object (V8 likes that)

  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions.url;
    if (route?.startsWith(UNLIMITED_PREFIX)) return;
    const refuse = (problem: ProblemError) => sendProblem(reply, request.url, problem);

    const key = presentedKey(request, keys);
    if (key) {
      (request as AuthedRequest).apiKey = key;
    } else {
      if (await overAnonymousBudget(redis, config, request)) return refuse(problems.rateLimited(1));
      if (route?.startsWith(PROTECTED_PREFIX)) {
        return refuse(
          problems.unauthorized(
            request.headers.authorization ? 'unknown API key' : 'send "Authorization: Bearer <api key>"',
          ),
        );
      }
    }
    const problem = mediaTypeProblem(request) ?? queryProblem(request.query);
    if (problem) return refuse(problem);
    return undefined;
  });
}

function presentedKey(request: FastifyRequest, keys: ApiKeyRing): ApiKey | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match ? keys.find(match[1]!) : undefined;
}

/** Counts the request in its address's window; a Redis failure lets it through (then 401 or public). */
async function overAnonymousBudget(redis: Redis, config: GatewayConfig, request: FastifyRequest) {
  if (config.anonymousRateLimitPerSecond === 0) return false;
  const count = await countInWindow(redis, `anon:${addressBucket(request.ip)}`).catch((err: Error) => {
    log.warn('anonymous rate limit unavailable', { error: err.message });
    return 0;
  });
  if (count <= config.anonymousRateLimitPerSecond) return false;
  rateLimited.inc({ key_id: 'anonymous' });
  return true;
}

/** Only `application/json` (in UTF-8) may carry a body: anything else is a 415 before it is read. */
export function mediaTypeProblem(request: FastifyRequest): ProblemError | undefined {
  if (!BODY_METHODS.has(request.method)) return undefined;
  const type = request.headers['content-type'];
  const length = request.headers['content-length'];
  const hasBody =
    (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
  if (type === undefined) {
    return hasBody ? unsupported('a body needs "Content-Type: application/json"') : undefined;
  }
  const [essence = '', ...params] = type.split(';').map((p) => p.trim().toLowerCase());
  if (essence !== 'application/json') {
    return unsupported(`this API accepts application/json only (got "${essence.slice(0, 100)}")`);
  }
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return unsupported(`JSON bodies are UTF-8 (got charset ${charset.slice(0, 50)})`);
  }
  return undefined;
}

const unsupported = (detail: string) =>
  new ProblemError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', detail);

/**
 * Each query parameter at most once (no route takes a list; a repeated one would reach a query as
 * an array), bounded, and text Postgres can compare (no NUL, no lone surrogate). Each route then
 * checks its own parameters' values.
 */
export function queryProblem(query: unknown): ProblemError | undefined {
  if (query === null || typeof query !== 'object') return undefined;
  for (const [name, value] of Object.entries(query as Record<string, unknown>)) {
    const shown = JSON.stringify(name.slice(0, 50));
    if (name.length > 100 || findUnstorableText(name))
      return badQuery(`query parameter ${shown} is malformed`);
    if (typeof value !== 'string') return badQuery(`query parameter ${shown} may be given once`);
    if (value.length > MAX_QUERY_VALUE)
      return badQuery(`${shown} is longer than ${MAX_QUERY_VALUE} characters`);
    const issue = findUnstorableText(value);
    if (issue) return badQuery(`${shown} ${issue.message}`);
  }
  return undefined;
}
