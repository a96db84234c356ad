import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyServerOptions } from 'fastify';
import type { DynamicModule, Type } from '@nestjs/common';
import { Log, NestJsonLogger } from './logger';
import { initMetrics } from './metrics';
import { installHttpMetrics } from './http-metrics';

export interface BootstrapOptions {
  service: string;
  module: Type<unknown> | DynamicModule;
  port: number;
  host: string;
  bodyLimit?: number;
  /**
   * Which proxies' X-Forwarded-For to believe (Fastify's `trustProxy`: addresses / CIDRs, comma
   * separated). Default none: the socket's address is the client's, so a client cannot pick its
   * own address (and with it, its own rate-limit bucket) by sending the header.
   */
  trustProxy?: string | false;
  /**
   * More Fastify options: e.g. `clientErrorHandler` and `frameworkErrors`, for the answers Node and
   * Fastify's router give before any route runs (Fastify's own JSON by default).
   */
  fastify?: Partial<Pick<FastifyServerOptions, 'clientErrorHandler' | 'frameworkErrors'>>;
  /** Nest's default body parsers (JSON and URL-encoded forms); off when `configure` installs its own. */
  bodyParser?: boolean;
  /** Hook to register parsers, filters, docs … before listening. */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
}

/**
 * Starts a service's Nest app on Fastify with JSON logs, /metrics, RED metrics and shutdown hooks.
 * A boot failure (infra unreachable, consumer not provisioned) exits 1 with one clear line.
 */
export async function bootstrapService(options: BootstrapOptions): Promise<NestFastifyApplication> {
  initMetrics(options.service);
  const log = new Log(options.service);
  try {
    const adapter = new FastifyAdapter({
      bodyLimit: options.bodyLimit ?? 1024 * 1024,
      trustProxy: options.trustProxy || false,
      ...options.fastify,
    });
    installHttpMetrics(adapter.getInstance());
    const app = await NestFactory.create<NestFastifyApplication>(options.module, adapter, {
      logger: new NestJsonLogger(log),
      abortOnError: false,
      bodyParser: options.bodyParser ?? true,
    });
    app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
    await options.configure?.(app);
    await app.listen(options.port, options.host);
    log.info('listening', { port: options.port, host: options.host, pid: process.pid });
    return app;
  } catch (err) {
    process.stderr.write(`[genesis:${options.service}] failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
