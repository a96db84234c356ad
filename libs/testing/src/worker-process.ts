import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reapAtExit, stopChild } from './children';

const REPO = join(__dirname, '..', '..', '..', '..');
export const WORKER_PYTHON = join(REPO, 'apps', 'trainer-worker', '.venv', 'bin', 'python');

/** Whether the Python worker's environment exists (npm test creates it before the Node tests). */
export function workerAvailable(): boolean {
  return existsSync(WORKER_PYTHON);
}

/** The Python training worker (`python -m trainer_worker`) as a real child process. */
export class WorkerProcess {
  private process?: ChildProcess;
  private output = '';
  readonly workDir = mkdtempSync(join(tmpdir(), 'genesis-worker-'));

  constructor(private readonly env: Record<string, string>) {}

  start(): this {
    // The worker takes its NATS password from a file, never its environment (docs/adr/0011).
    const { NATS_PASSWORD: password, ...env } = this.env;
    if (password !== undefined) {
      env['NATS_PASSWORD_FILE'] = join(this.workDir, 'nats-password');
      writeFileSync(env['NATS_PASSWORD_FILE'], password, { mode: 0o600 });
    }
    this.process = reapAtExit(
      spawn(WORKER_PYTHON, ['-m', 'trainer_worker'], {
        cwd: REPO,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: process.env['HOME'] ?? '/root',
          GENESIS_WORK_DIR: this.workDir,
          // this checkout's worker, whichever checkout the virtualenv was installed from
          PYTHONPATH: join(REPO, 'apps', 'trainer-worker', 'src'),
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-20_000));
    this.process.stdout?.on('data', keep);
    this.process.stderr?.on('data', keep);
    return this;
  }

  get logs(): string {
    return this.output;
  }

  get running(): boolean {
    return !!this.process && this.process.exitCode === null && this.process.signalCode === null;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.process) await stopChild(this.process, 'trainer-worker', signal);
  }
}
