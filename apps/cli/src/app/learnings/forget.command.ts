import type { Run } from '../command';
import { UsageError } from '../errors';
import { watchRescan, type RescanStatus } from './rescan-job';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `genesis learnings forget ID`: DELETE /api/v1/learnings/ID, then follows the forget job to its end. */
export const run: Run = async (ctx, { values, positionals }) => {
  const id = positionals[0]!;
  if (!UUID.test(id)) throw new UsageError(`"${id}" is not a learning id (a UUID)`);
  const reason = values['reason'] as string | undefined;
  const { body } = await ctx.api.request<RescanStatus>('DELETE', `/api/v1/learnings/${id}`, {
    query: { reason },
  });
  ctx.out.note(`forgetting ${id} (job ${body.rescan_id})`);
  return watchRescan(ctx, body, values['no-wait'] === true);
};
