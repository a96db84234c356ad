import { CliError, InterruptedError } from '../errors';
import { EXIT } from '../exit-codes';

/** An RFC 9457 problem as the gateway sends it. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  code?: string;
  detail?: string;
  errors?: { path: string; message: string }[];
  [key: string]: unknown;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** The gateway answered with an error. */
export class ApiError extends CliError {
  constructor(
    message: string,
    readonly status: number,
    readonly problem: Problem,
    readonly headers: Headers,
  ) {
    super(message, status === 401 || status === 403 ? EXIT.auth : EXIT.failed, {
      ...problem,
      status,
      code: problem.code ?? `HTTP_${status}`,
    });
  }

  get code(): string {
    return this.problem.code ?? `HTTP_${this.status}`;
  }
}

/** The gateway could not be reached, or did not answer in time. */
export class UnreachableError extends CliError {
  constructor(message: string, cause: string) {
    super(message, EXIT.unreachable, { code: 'UNREACHABLE', cause });
  }
}

export interface ApiClientOptions {
  baseUrl: string;
  apiKey?: string;
  /** Where the key came from, for error messages ("--api-key", "GENESIS_API_KEY", a file). */
  keySource?: string;
  /** The command line (`genesis trigger`) and the scope it needs, for 403 messages. */
  command: string;
  scope?: string;
  timeoutMs: number;
  /** Aborted by Ctrl-C. */
  signal: AbortSignal;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** The gateway's REST API over fetch: JSON in and out, every failure a CliError with its exit code. */
export class ApiClient {
  constructor(readonly options: ApiClientOptions) {}

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  url(path: string, query: RequestOptions['query'] = {}): string {
    // Relative to the base URL, so a gateway behind a path prefix (https://host/genesis) works too.
    const url = new URL(path.replace(/^\/+/, ''), `${this.options.baseUrl}/`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  get<T>(path: string, query?: RequestOptions['query']): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path, { query });
  }

  post<T>(path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>> {
    return this.request<T>('POST', path, { body, headers });
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
    const timeoutMs = opts.timeoutMs ?? this.options.timeoutMs;
    const signal = AbortSignal.any([this.options.signal, AbortSignal.timeout(timeoutMs)]);
    const url = this.url(path, opts.query);
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...this.authHeader(),
      ...opts.headers,
    };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal,
      });
      const text = await res.text();
      const body = parseJson(text);
      if (!res.ok) throw this.apiError(res, body, text);
      if (body === undefined && text !== '') throw this.notTheGateway(res, url);
      return { status: res.status, headers: res.headers, body: body as T };
    } catch (err) {
      throw this.translate(err, timeoutMs);
    }
  }

  /** Opens a streaming response (Server-Sent Events); only the wait for the headers is timed. */
  async open(path: string, opts: RequestOptions & { signal: AbortSignal }): Promise<Response> {
    const timeoutMs = opts.timeoutMs ?? this.options.timeoutMs;
    const headerTimeout = new AbortController();
    const timer = setTimeout(
      () => headerTimeout.abort(new DOMException('timed out', 'TimeoutError')),
      timeoutMs,
    );
    try {
      const res = await fetch(this.url(path, opts.query), {
        headers: { accept: 'text/event-stream', ...this.authHeader(), ...opts.headers },
        signal: AbortSignal.any([this.options.signal, opts.signal, headerTimeout.signal]),
      });
      if (!res.ok) {
        const text = await res.text();
        throw this.apiError(res, parseJson(text), text);
      }
      if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        await res.body?.cancel();
        throw this.notTheGateway(res, this.url(path, opts.query));
      }
      return res;
    } catch (err) {
      throw this.translate(err, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }

  private authHeader(): Record<string, string> {
    return this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {};
  }

  /** Network failures, timeouts and Ctrl-C as CliErrors; CliErrors pass through. */
  translate(err: unknown, timeoutMs = this.options.timeoutMs): CliError {
    if (err instanceof CliError) return err;
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (this.options.signal.aborted) return new InterruptedError();
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      return new UnreachableError(
        `no answer from the gateway at ${this.baseUrl} within ${Math.round(timeoutMs / 1000)}s`,
        'TIMEOUT',
      );
    }
    const cause = e.cause?.code ?? e.cause?.message ?? e.message;
    return new UnreachableError(
      `cannot reach the gateway at ${this.baseUrl} (${cause}); is \`npm start\` running? ` +
        `(set --url or GENESIS_URL for another address)`,
      cause,
    );
  }

  private apiError(res: Response, body: unknown, text: string): ApiError {
    const problem: Problem =
      body && typeof body === 'object' && !Array.isArray(body)
        ? (body as Problem)
        : { title: res.statusText, detail: text.slice(0, 200) || undefined };
    return new ApiError(this.describe(res.status, problem), res.status, problem, res.headers);
  }

  private describe(status: number, problem: Problem): string {
    const detail = problem.detail ?? problem.title ?? `HTTP ${status}`;
    const cmd = `\`${this.options.command}\``;
    if (status === 401) {
      if (!this.options.apiKey) {
        return (
          `no API key: pass --api-key, set GENESIS_API_KEY, or run from the checkout where ` +
          `\`npm start\` wrote .genesis/admin.key (${detail})`
        );
      }
      return `the gateway refused the API key from ${this.options.keySource ?? 'the command line'}: ${detail}`;
    }
    if (status === 403) {
      if (!this.options.scope) return detail;
      const scope = this.options.scope;
      const source = this.options.keySource ? ` from ${this.options.keySource}` : '';
      const server = detail.includes(scope) ? '' : ` (${detail})`;
      return `the API key${source} lacks the "${scope}" scope that ${cmd} needs; an "admin" key has every scope${server}`;
    }
    const errors = (problem.errors ?? [])
      .slice(0, 10)
      .map((e) => `\n  ${e.path} ${e.message}`)
      .join('');
    return `${problem.code ?? `HTTP ${status}`}: ${detail}${errors}`;
  }

  private notTheGateway(res: Response, url: string): CliError {
    return new CliError(
      `unexpected answer from ${url}: HTTP ${res.status} (${res.headers.get('content-type') ?? 'no content type'}); ` +
        `is ${this.baseUrl} a Genesis gateway?`,
      EXIT.failed,
      { code: 'UNEXPECTED_RESPONSE', status: res.status },
    );
  }
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Worth retrying with the same request (and Idempotency-Key): the gateway or the bus is busy or away. */
export function isTransient(err: unknown): boolean {
  if (err instanceof UnreachableError) return true;
  if (!(err instanceof ApiError)) return false;
  return err.status >= 500 || err.status === 429 || err.code === 'IDEMPOTENCY_IN_PROGRESS';
}

/** The Retry-After of an error response, in ms (undefined when absent). */
export function retryAfterMs(err: unknown): number | undefined {
  if (!(err instanceof ApiError)) return undefined;
  const value = Number(err.headers.get('retry-after'));
  return Number.isFinite(value) && value > 0 ? Math.min(value, 60) * 1000 : undefined;
}
