import { Controller, Get, Inject, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';

/**
 * A dependency of the service. By default one it cannot serve without (NATS, Postgres, Redis …):
 * its failure makes readiness fail (503). An `optional` one (e.g. the vector index, which only
 * delays indexing) makes readiness `degraded` instead: HTTP 200, so the pod keeps its traffic, with
 * the reason and the check's details in the report. `check` may resolve with details to report.
 */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void | Record<string, unknown>>;
  optional?: boolean;
}

/** Thrown by an optional check: its message and details go into the `degraded` report. */
export class ReadinessDegraded extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ReadinessDegraded';
  }
}

const CHECK_TIMEOUT_MS = 2000;

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[],
  ) {}

  /** Liveness stays trivial: a process that answers is alive; dependencies are readiness's job. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check(
      this.checks.map(
        (c) => () =>
          c.optional
            ? this.optional(c)
            : this.indicators
                .check(c.name)
                .attempt(() => c.check())
                .withTimeout(CHECK_TIMEOUT_MS),
      ),
    );
  }

  private async optional(c: ReadinessCheck) {
    const session = this.indicators.check(c.name);
    let timer: NodeJS.Timeout | undefined;
    try {
      const details = await Promise.race([
        c.check(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new ReadinessDegraded(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
            CHECK_TIMEOUT_MS,
          );
        }),
      ]);
      return session.up(details ?? {});
    } catch (err) {
      const details = err instanceof ReadinessDegraded ? err.details : {};
      return session.degraded({ ...details, message: (err as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }
}

@Module({})
export class HealthModule {
  /** `checks` is a provider (usually a factory injecting the connections) yielding ReadinessCheck[]. */
  static register(checks: {
    useFactory: (...deps: never[]) => ReadinessCheck[] | Promise<ReadinessCheck[]>;
    inject: unknown[];
  }): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule],
      controllers: [HealthController],
      providers: [{ provide: READINESS_CHECKS, ...checks } as Provider],
    };
  }
}
