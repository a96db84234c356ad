import type { Run } from '../command';
import { EXIT } from '../exit-codes';

interface LoopChange {
  running: boolean;
  changed: boolean;
  changed_by: string;
  changed_at: string;
}

/** `genesis loop start|stop`: POST /api/v1/engine/loop/{start,stop} (persisted; idempotent). */
export const loop =
  (action: 'start' | 'stop'): Run =>
  async ({ api, out }, { values }) => {
    const body = values['reason'] ? { reason: values['reason'] } : {};
    const res = await api.post<LoopChange>(`/api/v1/engine/loop/${action}`, body);
    if (out.json) out.data(res.body);
    else {
      const state = res.body.running ? 'running' : 'stopped';
      out.line(
        res.body.changed
          ? `the improvement loop is ${state} now`
          : `the improvement loop was already ${state}`,
      );
      if (!res.body.running)
        out.line('running tasks finish; custom tasks still run; `genesis loop start` resumes planning');
    }
    return EXIT.ok;
  };
