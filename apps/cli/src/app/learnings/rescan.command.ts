import type { Run } from '../command';
import { ApiError } from '../http/api-client';
import { watchRescan, type RescanStatus } from './rescan-job';

/**
 * `genesis learnings rescan`: POST /api/v1/admin/learnings/rescan, then a progress bar until the
 * learner has rescanned every stored learning and the trainer-bridge has rebuilt the snapshots.
 * When a rescan already runs, it follows that one.
 */
export const run: Run = async (ctx, { values }) => {
  const body: Record<string, string> = {};
  if (values['model-id']) body['model_id'] = values['model-id'] as string;
  if (values['reason']) body['reason'] = values['reason'] as string;
  let first: RescanStatus;
  try {
    first = (await ctx.api.post<RescanStatus>('/api/v1/admin/learnings/rescan', body)).body;
    ctx.out.note(`rescan ${first.rescan_id} started`);
  } catch (err) {
    const running =
      err instanceof ApiError && err.code === 'RESCAN_ALREADY_RUNNING'
        ? err.problem['status_url']
        : undefined;
    if (typeof running !== 'string') throw err;
    first = (await ctx.api.get<RescanStatus>(running)).body;
    ctx.out.note(`a rescan is already running: following ${first.rescan_id}`);
  }
  return watchRescan(ctx, first, values['no-wait'] === true);
};
