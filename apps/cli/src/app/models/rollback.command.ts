import type { Run } from '../command';
import { CliError, InterruptedError, UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { parseDuration } from '../output/format';
import { sleep } from '../sleep';
import type { RollbackAccepted, RollbackStatus } from './model';
import { failureText, formatRollback } from './models.format';

const POLL_MS = 1000;

/**
 * `genesis rollback --reason R [--to VERSION]`: POST /api/v1/models/rollback, then polls its
 * status_url until the deployer reports succeeded (exit 0) or failed (exit 1), or --timeout (exit 5).
 */
export const run: Run = async ({ api, out, signal }, { values }) => {
  const reason = values['reason'] as string | undefined;
  if (!reason?.trim()) throw new UsageError('--reason is required: it is recorded in the alias history');
  const timeoutText = (values['timeout'] as string | undefined) ?? '2m';
  const timeout = parseDuration(timeoutText);
  if (timeout === undefined || timeout <= 0)
    throw new UsageError('--timeout must be a duration like 30s or 5m');

  const body: Record<string, string> = { reason };
  if (values['to']) body['version'] = values['to'] as string;
  if (values['model-id']) body['model_id'] = values['model-id'] as string;
  const { body: accepted } = await api.post<RollbackAccepted>('/api/v1/models/rollback', body);
  if (values['no-wait']) {
    if (out.json) out.data(accepted);
    else
      out.line(
        `rollback ${accepted.request_id} requested for ${accepted.model_id}; status: ${accepted.status_url}`,
      );
    return EXIT.ok;
  }
  out.note(`rollback ${accepted.request_id} requested for ${accepted.model_id}; waiting for the deployer…`);

  const deadline = Date.now() + timeout;
  let status: RollbackStatus;
  for (;;) {
    status = (await api.get<RollbackStatus>(accepted.status_url)).body;
    if (status.status !== 'pending') break;
    if (Date.now() + POLL_MS > deadline) {
      throw new CliError(
        `rollback ${accepted.request_id} is still pending after ${timeoutText}; check ${accepted.status_url}`,
        EXIT.timeout,
        { code: 'TIMEOUT', rollback: status, status_url: accepted.status_url },
      );
    }
    try {
      await sleep(POLL_MS, signal);
    } catch (err) {
      if (err instanceof InterruptedError) {
        throw new InterruptedError(`stopped waiting; the rollback goes on: ${accepted.status_url}`);
      }
      throw err;
    }
  }
  if (status.status === 'failed') {
    throw new CliError(
      `rollback of ${accepted.model_id} failed: ${failureText(status.failure)}`,
      EXIT.failed,
      {
        code: 'ROLLBACK_FAILED',
        rollback: status,
      },
    );
  }
  if (out.json) out.data(status);
  else out.line(formatRollback(status, accepted.model_id));
  return EXIT.ok;
};
