import type { LoggerService } from '@nestjs/common';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

/**
 * Structured JSON logs, one object per line, with the service name and (when the caller has one)
 * the correlation id of the event or request, so one cycle can be followed across services.
 */
export class Log {
  constructor(
    private readonly service: string,
    private readonly context?: string,
    private readonly level: LogLevel = (process.env['GENESIS_LOG_LEVEL'] as LogLevel) ?? 'info',
  ) {}

  child(context: string): Log {
    return new Log(this.service, context, this.level);
  }

  debug(msg: string, fields?: LogFields): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.write('error', msg, fields);
  }

  private write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (ORDER[level] < (ORDER[this.level] ?? ORDER.info)) return;
    const line: LogFields = { time: new Date().toISOString(), level, service: this.service };
    if (this.context) line['context'] = this.context;
    line['msg'] = msg;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) line[k] = v instanceof Error ? errorFields(v) : v;
    }
    (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(
      `${JSON.stringify(line)}\n`,
    );
  }
}

function errorFields(err: Error): LogFields {
  return { name: err.name, message: err.message, code: (err as { code?: unknown }).code, stack: err.stack };
}

/** Nest's logger interface over the same JSON lines. */
export class NestJsonLogger implements LoggerService {
  constructor(private readonly target: Log) {}
  private write(level: LogLevel, message: unknown, params: unknown[]): void {
    const context = typeof params[params.length - 1] === 'string' ? (params.pop() as string) : undefined;
    const target = context ? this.target.child(context) : this.target;
    const fields = params.length > 0 ? { detail: params } : undefined;
    target[level](typeof message === 'string' ? message : JSON.stringify(message), fields);
  }
  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
}
