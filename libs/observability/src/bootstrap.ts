import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
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
    const adapter = new FastifyAdapter({ bodyLimit: options.bodyLimit ?? 1024 * 1024, trustProxy: true });
    installHttpMetrics(adapter.getInstance());
    const app = await NestFactory.create<NestFastifyApplication>(options.module, adapter, {
      logger: new NestJsonLogger(log),
      abortOnError: false,
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
