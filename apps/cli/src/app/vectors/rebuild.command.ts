import type { Run } from '../command';
import { EXIT } from '../exit-codes';

interface RebuildReport {
  store: string;
  indexed: number;
  missing_vectors: number;
  by_model: Record<string, number>;
  took_ms: number;
}

/** `genesis vectors rebuild`: POST /api/v1/vectors/rebuild (ADR 0018). */
export const run: Run = async ({ api, out }) => {
  const { body } = await api.post<RebuildReport>('/api/v1/vectors/rebuild');
  if (out.json) out.data(body);
  else {
    out.line(`rebuilt the ${body.store} index in ${body.took_ms} ms: ${body.indexed} vectors`);
    for (const [model, n] of Object.entries(body.by_model)) out.line(`  ${model}: ${n}`);
    if (body.missing_vectors > 0) {
      out.line(
        `${body.missing_vectors} accepted learnings have no embedding yet (the learner is catching up)`,
      );
    }
  }
  return EXIT.ok;
};
