import type { Run } from '../command';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';

export interface SimilarHit {
  similarity: number;
  learning: { id: string; status: string; language: string | null; correction: string | null };
}

/** `genesis learnings similar ID`: GET /api/v1/learnings/{id}/similar (ADR 0018). */
export const run: Run = async ({ api, out }, { positionals, values }) => {
  const { body } = await api.get<{ items: SimilarHit[] }>(
    `/api/v1/learnings/${encodeURIComponent(positionals[0]!)}/similar`,
    { k: kOption(values['k']) },
  );
  if (out.json) out.data(body);
  else for (const line of formatHits(body.items)) out.line(line);
  return EXIT.ok;
};

export function kOption(value: string | boolean | undefined): string {
  const k = value === undefined ? 10 : Number(value);
  if (!Number.isInteger(k) || k < 1 || k > 100) throw new UsageError('--k must be an integer from 1 to 100');
  return String(k);
}

/** One line per hit: similarity, id, and the first line of the correction. */
export function formatHits(items: SimilarHit[]): string[] {
  if (items.length === 0) return ['no similar learning (the index holds accepted learnings only)'];
  return items.map((h) => {
    const first = (h.learning.correction ?? '').split('\n').find((l) => l.trim()) ?? '';
    return `${h.similarity.toFixed(3)}  ${h.learning.id}  ${first.trim().slice(0, 80)}`;
  });
}
