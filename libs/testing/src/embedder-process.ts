import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { reapAtExit, stopChild } from './children';
import { WORKER_PYTHON } from './worker-process';
import { waitFor } from './wait';

const REPO = join(__dirname, '..', '..', '..', '..');

/**
 * The Python embedder (`python -m trainer_worker.embedding`, request/reply on embeddings.compute)
 * as a real child process with the real bundled all-MiniLM-L6-v2 (offline).
 */
export class EmbedderProcess {
  private process?: ChildProcess;
  private output = '';

  constructor(private readonly env: Record<string, string>) {}

  /** Starts it and waits until it says it is ready (the model loads in a few seconds). */
  async start(): Promise<this> {
    this.output = '';
    this.process = reapAtExit(
      spawn(WORKER_PYTHON, ['-m', 'trainer_worker.embedding'], {
        cwd: REPO,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: process.env['HOME'] ?? '/root',
          HF_HUB_OFFLINE: '1',
          PYTHONPATH: join(REPO, 'apps', 'trainer-worker', 'src'),
          ...this.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-20_000));
    this.process.stdout?.on('data', keep);
    this.process.stderr?.on('data', keep);
    await waitFor(
      'the embedder ready',
      () => {
        if (this.process?.exitCode !== null) throw new Error(`the embedder exited: ${this.output}`);
        return this.output.includes('embedder ready');
      },
      { timeoutMs: 180_000, intervalMs: 200 },
    );
    return this;
  }

  get logs(): string {
    return this.output;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.process) await stopChild(this.process, 'embedder', signal);
  }
}
