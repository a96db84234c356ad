import type { Run } from '../command';
import { CliError } from '../errors';
import { EXIT } from '../exit-codes';
import { ApiError } from '../http/api-client';
import { modelPath } from './studies.command';

interface Started {
  cycle_id: string;
  study: string;
  url: string;
}

function positive(values: Record<string, unknown>, name: string): number | undefined {
  const raw = values[name] as string | undefined;
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`--${name} must be a positive number`, EXIT.usage);
  return n;
}

/** `genesis studies start`: POST /api/v1/models/{id}/studies (409 while a cycle runs: exit 1). */
export const run: Run = async ({ api, out }, { values }) => {
  const trials = positive(values, 'trials');
  const seconds = positive(values, 'worker-seconds');
  const budget = {
    ...(trials !== undefined ? { trials } : {}),
    ...(seconds !== undefined ? { worker_seconds: seconds } : {}),
  };
  const body = {
    ...(Object.keys(budget).length ? { budget } : {}),
    ...(values['reason'] ? { reason: values['reason'] as string } : {}),
  };
  try {
    const res = await api.post<Started>(modelPath(values), body);
    if (out.json) out.data(res.body);
    else {
      out.line(`architecture study ${res.body.study} started (cycle ${res.body.cycle_id})`);
      out.line(
        `follow it: genesis cycles ${res.body.cycle_id} --watch; then genesis studies show ${res.body.study}`,
      );
    }
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ApiError && err.code === 'CYCLE_ALREADY_RUNNING') {
      throw new CliError(err.problem.detail ?? err.message, err.exitCode, err.details);
    }
    throw err;
  }
};
