import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { reapAtExit, stopChild } from './children';
import { freePort } from './ports';
import { waitFor } from './wait';

const REPO = join(__dirname, '..', '..', '..', '..');
const PORT_VARS: Record<string, string> = {
  gateway: 'GENESIS_GATEWAY_PORT',
  learner: 'GENESIS_LEARNER_PORT',
  monitor: 'GENESIS_MONITOR_PORT',
  'trainer-bridge': 'GENESIS_TRAINER_BRIDGE_PORT',
  evaluator: 'GENESIS_EVALUATOR_PORT',
  deployer: 'GENESIS_DEPLOYER_PORT',
};

/**
 * A built service (`node dist/apps/<app>/main.js`) running as a real child process, so tests can
 * SIGKILL it mid-work and start it again exactly as an orchestrator would.
 */
export class ServiceProcess {
  private process?: ChildProcess;
  private output = '';
  /** Every byte printed since start, when started with keepAllLogs (the last 20 KB otherwise). */
  private allOutput?: string[];
  readonly baseUrl: string;

  private constructor(
    readonly app: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly nodeArgs: string[],
  ) {
    this.baseUrl = `http://127.0.0.1:${port}`;
  }

  static async start(
    app: string,
    env: Record<string, string>,
    { waitReady = true, nodeArgs = [] as string[], keepAllLogs = false } = {},
  ): Promise<ServiceProcess> {
    const port = await freePort();
    const service = new ServiceProcess(app, port, { ...env, [PORT_VARS[app]!]: String(port) }, nodeArgs);
    if (keepAllLogs) service.allOutput = [];
    service.spawn();
    if (waitReady) await service.ready();
    return service;
  }

  /** The running process's pid (e.g. to read its CPU time from /proc). */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  private spawn(): void {
    this.process = reapAtExit(
      spawn(process.execPath, [...this.nodeArgs, join(REPO, 'dist', 'apps', this.app, 'main.js')], {
        cwd: REPO,
        env: {
          PATH: process.env['PATH'] ?? '',
          GENESIS_LOG_LEVEL: 'warn',
          GENESIS_BIND_HOST: '127.0.0.1',
          ...this.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
      this.allOutput?.push(chunk.toString());
    };
    this.process.stdout?.on('data', keep);
    this.process.stderr?.on('data', keep);
  }

  /** Everything the process printed lately (for assertion messages). */
  get logs(): string {
    return this.output;
  }

  /** Everything the process printed since it started (needs `keepAllLogs` at start). */
  get allLogs(): string {
    if (!this.allOutput) throw new Error(`${this.app} was started without keepAllLogs`);
    return this.allOutput.join('');
  }

  get running(): boolean {
    return !!this.process && this.process.exitCode === null && this.process.signalCode === null;
  }

  async ready(timeoutMs = 30_000): Promise<void> {
    const outcome = await waitFor(
      `${this.app} to be ready`,
      async () => {
        if (!this.running) return 'exited';
        const res = await fetch(`${this.baseUrl}/health/ready`, { signal: AbortSignal.timeout(5_000) }).catch(
          () => undefined,
        );
        return res?.status === 200 ? 'ready' : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
    if (outcome === 'exited') throw new Error(`${this.app} exited during start-up: ${this.output}`);
  }

  /** Resolves with the exit code (or signal) once the process has ended. */
  exited(): Promise<number | string> {
    const p = this.process!;
    if (!this.running) return Promise.resolve(p.exitCode ?? p.signalCode ?? -1);
    return new Promise((resolve) => p.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.process) await stopChild(this.process, this.app, signal);
  }

  async restart(): Promise<void> {
    await this.kill('SIGKILL');
    this.output = '';
    this.spawn();
    await this.ready();
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
  }
}
