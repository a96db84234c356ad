import type { ChildProcess } from 'node:child_process';

const alive = new Set<ChildProcess>();

/**
 * Kills every child a test started and did not stop when the test process exits, however it exits
 * (an `after` hook that threw, `--test-force-exit`, a timeout): a leaked nats-server or service
 * would otherwise outlive the run and hold its ports.
 */
process.once('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

/** Registers a spawned child to be killed at exit if it is still running then. */
export function reapAtExit<T extends ChildProcess>(child: T): T {
  alive.add(child);
  child.once('exit', () => alive.delete(child));
  return child;
}

/**
 * Sends `signal` and waits for the child to exit; one still running after `graceMs` (a shutdown
 * that hangs) gets SIGKILL, with a warning, so that a test's clean-up cannot wait forever.
 */
export async function stopChild(
  child: ChildProcess,
  name: string,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 20_000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  if (signal === 'SIGKILL') return gone;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
  if ((await Promise.race([gone, late])) === 'late') {
    process.emitWarning(`${name} (pid ${child.pid}) still runs ${graceMs} ms after ${signal}: SIGKILL`);
    child.kill('SIGKILL');
    await gone;
  }
  clearTimeout(timer);
}
