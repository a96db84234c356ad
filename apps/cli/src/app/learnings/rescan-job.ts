import type { Context } from '../command';
import { CliError, InterruptedError } from '../errors';
import { EXIT, type ExitCode } from '../exit-codes';
import { Progress } from '../output/progress';
import { sleep } from '../sleep';

/** GET /api/v1/admin/learnings/rescans/:id (ADR 0017). */
export interface RescanStatus {
  rescan_id: string;
  kind: 'rescan' | 'forget';
  status: 'pending' | 'scanning' | 'purging' | 'completed' | 'failed';
  rule_set: string | null;
  progress: { total: number | null; scanned: number; fraction: number };
  redacted: number;
  quarantined: number;
  forgotten: number;
  snapshots_rebuilt: number;
  snapshots_deleted: number;
  models_tainted: number;
  tainted_versions: { version: string; reason: string; learning_ids: string[] }[];
  failure: string | null;
  status_url: string;
}

const POLL_MS = 500;

/**
 * Follows a rescan or forget job to its end with a progress bar on stderr (a line every
 * GENESIS_PROGRESS_INTERVAL_MS elsewhere), then prints the summary. Ctrl-C stops watching only.
 */
export async function watchRescan(ctx: Context, first: RescanStatus, noWait: boolean): Promise<ExitCode> {
  const { api, out, signal, env } = ctx;
  if (noWait) {
    if (out.json) out.data(first);
    else out.line(`${first.kind} ${first.rescan_id}: ${first.status}; follow it at ${first.status_url}`);
    return EXIT.ok;
  }
  let status = first;
  let progress: Progress | undefined;
  let shown = '';
  const interval = Number(env['GENESIS_PROGRESS_INTERVAL_MS'] ?? 5000);
  while (status.status !== 'completed' && status.status !== 'failed') {
    const { total, scanned } = status.progress;
    // Redrawn when something moved: the count while scanning, the phase after it.
    const state = `${status.status}:${scanned}`;
    if (total !== null && state !== shown) {
      shown = state;
      progress ??= new Progress(out, `${status.kind} ${status.rescan_id.slice(0, 8)}`, total, interval);
      const phase = status.status === 'purging' ? 'rebuilding snapshots' : status.status;
      progress.update(
        Math.min(scanned, total),
        `${phase}, ${status.redacted} redacted, ${status.quarantined} quarantined`,
      );
    }
    try {
      await sleep(POLL_MS, signal);
    } catch (err) {
      if (err instanceof InterruptedError)
        throw new InterruptedError(`stopped watching; the ${status.kind} goes on: ${status.status_url}`);
      throw err;
    }
    status = (await api.get<RescanStatus>(status.status_url)).body;
  }
  progress?.clear();
  if (status.status === 'failed')
    throw new CliError(
      `${status.kind} ${status.rescan_id} failed: ${status.failure ?? 'no reason given'}`,
      EXIT.failed,
      {
        code: 'RESCAN_FAILED',
        rescan: status,
      },
    );
  if (out.json) out.data(status);
  else out.line(formatRescan(status));
  return EXIT.ok;
}

export function formatRescan(s: RescanStatus): string {
  const lines = [
    `${s.kind} ${s.rescan_id} ${s.status}${s.rule_set ? ` (rules: ${s.rule_set})` : ''}`,
    `  learnings: ${s.progress.scanned} scanned, ${s.redacted} redacted, ${s.quarantined} quarantined, ${s.forgotten} forgotten`,
    `  snapshots: ${s.snapshots_rebuilt} rebuilt, ${s.snapshots_deleted} deleted`,
    `  models tainted: ${s.models_tainted}`,
    ...s.tainted_versions.map((t) => `    ${t.version}: ${t.reason}`),
  ];
  return lines.join('\n');
}
