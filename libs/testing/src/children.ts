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
