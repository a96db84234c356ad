import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Log } from '@genesis/observability';
import { ProblemError } from './problem';

const log = new Log('gateway', 'errors');

/** Fastify's own errors (body too large, bad content type …) get stable codes too. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG',
  FST_ERR_BAD_URL: 'BAD_URL',
};

/** Nest's own HttpExceptions (unknown route, body limits …) mapped to stable codes. */
const STATUS_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** Every error leaves the gateway as application/problem+json (RFC 9457) with a stable code. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const problem = toProblem(exception);
    if (problem.status >= 500) log.error('request failed', { url: request.url, error: exception as Error });
    sendProblem(reply, request.url, problem);
  }
}

/** Writes `problem` as application/problem+json: the one shape of every error the gateway sends. */
export function sendProblem(reply: FastifyReply, instance: string, problem: ProblemError): FastifyReply {
  for (const [k, v] of Object.entries(problem.headers)) void reply.header(k, v);
  return reply
    .status(problem.status)
    .header('content-type', 'application/problem+json')
    .send({
      type: `https://genesis.dev/problems/${problem.code.toLowerCase().replace(/_/g, '-')}`,
      title: problem.title,
      status: problem.status,
      code: problem.code,
      ...(problem.detail ? { detail: problem.detail } : {}),
      instance,
      ...problem.extra,
    });
}

export function toProblem(exception: unknown): ProblemError {
  if (exception instanceof ProblemError) return exception;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    return new ProblemError(
      status,
      STATUS_CODES[status] ?? `HTTP_${status}`,
      exception.message,
      exception.message,
    );
  }
  const e = exception as { statusCode?: number; code?: string; message?: string };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code = (e.code && FASTIFY_CODES[e.code]) ?? 'BAD_REQUEST';
    return new ProblemError(e.statusCode, code, 'Bad request', e.message);
  }
  return new ProblemError(
    500,
    'INTERNAL',
    'Internal error',
    'an unexpected error occurred; see the gateway logs',
  );
}
