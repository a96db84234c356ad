import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reapAtExit, stopChild } from './children';
import { freePort, portOpen } from './ports';
import { waitFor } from './wait';

export interface TestNatsServerOptions {
  /** A nats-server config file (`-c`); host, port and store dir still come from the command line. */
  configFile?: string;
  /** Extra environment for nats-server, e.g. the passwords that the config file refers to. */
  env?: Record<string, string>;
}

/**
 * A real nats-server with JetStream, private to one test file (its own port and store), so a test
 * can restart or kill it without disturbing others. Data survives restart() like a real server.
 */
export class TestNatsServer {
  private process?: ChildProcess;
  private output = '';
  readonly url: string;

  private constructor(
    readonly port: number,
    readonly storeDir: string,
    private readonly options: TestNatsServerOptions,
  ) {
    this.url = `nats://127.0.0.1:${port}`;
  }

  static async start(options: TestNatsServerOptions = {}): Promise<TestNatsServer> {
    const dir = mkdtempSync(join(tmpdir(), 'genesis-nats-'));
    const server = new TestNatsServer(await freePort(), dir, options);
    await server.boot();
    return server;
  }

  /** What nats-server logged lately (errors such as permission violations are logged by default). */
  get logs(): string {
    return this.output;
  }

  /** The server's pid while it runs (e.g. to read its CPU time from /proc). */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  private async boot(): Promise<void> {
    const bin = process.env['NATS_SERVER_BIN'] ?? 'nats-server';
    // A config file may fix the monitoring port (deploy/nats: 8222): a free one per test server.
    const config = this.options.configFile
      ? ['-c', this.options.configFile, '-m', String(await freePort())]
      : [];
    const args = [...config, '-js', '-sd', this.storeDir, '-a', '127.0.0.1', '-p', String(this.port)];
    this.process = reapAtExit(
      spawn(bin, args, {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, ...this.options.env },
      }),
    );
    this.process.stderr?.on(
      'data',
      (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-200_000)),
    );
    const exited = new Promise<never>((_, reject) =>
      this.process!.once('exit', (code) =>
        reject(new Error(`nats-server exited (${code}): ${this.output.slice(-4000)}`)),
      ),
    );
    exited.catch(() => undefined);
    await Promise.race([waitFor(`nats-server on ${this.port}`, () => portOpen(this.port)), exited]);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.process) await stopChild(this.process, 'nats-server', signal);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.boot();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
