import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { reapAtExit, waitFor } from '@genesis/testing';

/** The built CLI (dist/apps/cli/main.js), as a user runs it. */
export const CLI_MAIN = join(__dirname, '..', 'main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `genesis …` as a child process whose output is collected while it runs. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly done: Promise<CliResult>;
  private readonly child: ChildProcess;

  constructor(args: string[], env: Record<string, string>, cwd: string, stdin?: string) {
    this.child = reapAtExit(
      spawn(process.execPath, [CLI_MAIN, ...args], {
        cwd,
        env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1', ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    this.child.stdin!.end(stdin ?? '');
    this.child.stdout!.on('data', (c: Buffer) => (this.stdout += c.toString()));
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.done = new Promise((resolve) =>
      this.child.once('close', (code, signal) =>
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }),
      ),
    );
  }

  /** Waits until stdout or stderr matches. */
  async until(pattern: RegExp, where: 'stdout' | 'stderr' = 'stderr', timeoutMs = 15_000): Promise<void> {
    await waitFor(
      `${pattern} on ${where} (${where === 'stdout' ? this.stdout : this.stderr})`,
      () => pattern.test(this[where]),
      {
        timeoutMs,
        intervalMs: 5,
      },
    );
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/** Runs `genesis …` to completion (killed after `timeoutMs`). */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  { stdin, timeoutMs = 30_000 }: { stdin?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const p = new CliProcess(args, env, cwd, stdin);
  const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
  try {
    return await p.done;
  } finally {
    clearTimeout(timer);
  }
}

/** The one JSON document on stdout (--json). */
export function json<T = Record<string, unknown>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}
