/** Polls `probe` until it returns a truthy value or the deadline passes (then throws with `what`). */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 15_000, intervalMs = 50 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      // A probe that never settles (a request the server accepted but never answers, a query
      // waiting on a lock) would hang the test until the runner's file timeout, with no clue: it
      // gets the time left plus a generous margin (a slow probe under load is not a hang), and
      // then its wait is named in the failure.
      const value = await withinDeadline(Promise.resolve(probe()), deadline + timeoutMs + 30_000, what);
      if (value) return value;
    } catch (err) {
      if (err instanceof ProbeHung) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class ProbeHung extends Error {}

function withinDeadline<T>(pending: Promise<T>, deadline: number, what: string): Promise<T> {
  const left = Math.max(deadline - Date.now(), 0);
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProbeHung(`waiting for ${what}: the probe itself did not answer within ${left} ms`)),
      left,
    );
  });
  return Promise.race([pending, hung]).finally(() => clearTimeout(timer));
}
