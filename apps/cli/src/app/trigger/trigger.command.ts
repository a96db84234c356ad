import type { Run } from '../command';
import { CliError } from '../errors';
import { EXIT } from '../exit-codes';
import { ApiError } from '../http/api-client';

/** The spec's trigger response, plus the cycle id taken from the Location header. */
interface TriggerResponse {
  success: boolean;
  message: string;
  triggered_at: string | null;
  error: string | null;
}

/** `genesis trigger`: POST /api/v1/genesis/improvement/trigger (409 while a cycle runs: exit 1). */
export const run: Run = async ({ api, out }, { values }) => {
  const body: Record<string, string> = {};
  if (values['model-id']) body['model_id'] = values['model-id'] as string;
  if (values['reason']) body['reason'] = values['reason'] as string;
  try {
    const res = await api.post<TriggerResponse>('/api/v1/genesis/improvement/trigger', body);
    const cycleId = /\/api\/v1\/cycles\/([^/?#]+)/.exec(res.headers.get('location') ?? '')?.[1] ?? null;
    if (out.json) out.data({ ...res.body, cycle_id: cycleId });
    else {
      out.line(res.body.message);
      if (cycleId) out.line(`follow it: genesis cycles ${cycleId} --watch`);
    }
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ApiError && err.code === 'CYCLE_ALREADY_RUNNING') {
      const running = err.problem['cycle_id'];
      const hint = typeof running === 'string' ? `\nfollow it: genesis cycles ${running} --watch` : '';
      throw new CliError(`${err.problem.detail ?? err.message}${hint}`, err.exitCode, err.details);
    }
    throw err;
  }
};
