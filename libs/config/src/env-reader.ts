/**
 * A small typed reader over environment variables that collects every problem before failing,
 * so a misconfigured service reports all of its bad settings in one line instead of one per boot.
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

export type EnvSource = Record<string, string | undefined>;

export class EnvReader {
  private readonly problems: string[] = [];

  constructor(private readonly source: EnvSource) {}

  private raw(name: string): string | undefined {
    const value = this.source[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  str(name: string, fallback?: string): string {
    const value = this.raw(name) ?? fallback;
    if (value === undefined) {
      this.problems.push(`${name} is required`);
      return '';
    }
    return value;
  }

  optionalStr(name: string): string | undefined {
    return this.raw(name);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name) ?? fallback;
    if (!allowed.includes(value as T)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
      return fallback;
    }
    return value as T;
  }

  int(name: string, fallback: number, bounds: { min?: number; max?: number } = {}): number {
    return this.number(name, fallback, bounds, true);
  }

  float(name: string, fallback: number, bounds: { min?: number; max?: number } = {}): number {
    return this.number(name, fallback, bounds, false);
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(value.toLowerCase())) return true;
    if (['0', 'false', 'no', 'off'].includes(value.toLowerCase())) return false;
    this.problems.push(`${name} must be true or false (got "${value}")`);
    return fallback;
  }

  url(name: string, fallback: string, protocols: readonly string[]): string {
    const value = this.raw(name) ?? fallback;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
        this.problems.push(`${name} must use ${protocols.join(' or ')}:// (got "${parsed.protocol}//…")`);
      }
    } catch {
      this.problems.push(`${name} is not a valid URL`);
    }
    return value;
  }

  /** Parses JSON and hands it to `parse`, which throws an Error with a readable message on bad shapes. */
  json<T>(name: string, fallback: T, parse: (value: unknown) => T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    try {
      return parse(JSON.parse(value));
    } catch (err) {
      this.problems.push(`${name} is invalid: ${(err as Error).message}`);
      return fallback;
    }
  }

  /** Records a cross-field problem found by the caller. */
  fail(problem: string): void {
    this.problems.push(problem);
  }

  done(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }

  private number(name: string, fallback: number, bounds: { min?: number; max?: number }, integer: boolean) {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    const kind = integer ? 'an integer' : 'a number';
    if (!Number.isFinite(parsed) || (integer && !Number.isInteger(parsed))) {
      this.problems.push(`${name} must be ${kind} (got "${value}")`);
      return fallback;
    }
    if (
      (bounds.min !== undefined && parsed < bounds.min) ||
      (bounds.max !== undefined && parsed > bounds.max)
    ) {
      this.problems.push(
        `${name} must be between ${bounds.min ?? '-∞'} and ${bounds.max ?? '∞'} (got ${parsed})`,
      );
      return fallback;
    }
    return parsed;
  }
}

/** Builds a config object from the environment; throws ConfigError listing every problem. */
export function readConfig<T>(build: (env: EnvReader) => T, source: EnvSource = process.env): T {
  const env = new EnvReader(source);
  const config = build(env);
  env.done();
  return config;
}

/** Like readConfig, but a bad setting ends the process with one clear line and exit code 1. */
export function loadConfigOrExit<T>(service: string, build: (env: EnvReader) => T): T {
  try {
    return readConfig(build);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`[genesis:${service}] ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
