import type { EntityManager } from 'typeorm';
import type { RescanJob } from './rescan-learnings.handler';

/**
 * "Forget a learning" (ADR 0017): the learnings named by the job and every duplicate pointing at
 * one become tombstones: status `forgotten`, no text, no metadata, no producer, a source that says
 * so, and a content hash no content has (so a later capture of the same text is not taken for a
 * duplicate of nothing). The id, kind, model, language and times stay, so the API still answers
 * for the id and lineage keeps its shape. Returns how many rows changed; run in the job's
 * transaction (a redelivery finds them forgotten already and changes nothing).
 */
export async function forgetLearnings(m: EntityManager, job: RescanJob): Promise<number> {
  const ids = job.learning_ids ?? [];
  // The rows first (an UPDATE … RETURNING answers [rows, count] through TypeORM), then the tombstones.
  const rows: { id: string }[] = await m.query(
    `SELECT id FROM learnings
     WHERE (id = ANY($1::uuid[]) OR duplicate_of = ANY($1::uuid[])) AND status <> 'forgotten' FOR UPDATE`,
    [ids],
  );
  await m.query(
    `UPDATE learnings SET status = 'forgotten', context = NULL, model_output = NULL, correction = NULL, tests = NULL,
       produced_by = NULL, metadata = '{}'::jsonb, source = '[forgotten]', duplicate_of = NULL,
       quarantine_reason = NULL,
       content_hash = encode(sha256(convert_to('forgotten:' || id::text, 'UTF8')), 'hex')
     WHERE id = ANY($1::uuid[])`,
    [rows.map((r) => r.id)],
  );
  // Its embedding goes too (ADR 0018): a vector of the text is the text's shadow. The index entry
  // goes when learning.rescanned reaches the learner's indexer (index-learning/stored-consumer.ts).
  await m.query(`DELETE FROM learning_vectors WHERE learning_id = ANY($1::uuid[])`, [rows.map((r) => r.id)]);
  // And its topic slice memberships (ADR 0020): a forgotten learning is in no evaluation's slice.
  await m.query(`DELETE FROM learning_slices WHERE learning_id = ANY($1::uuid[])`, [rows.map((r) => r.id)]);
  if (rows.length > 0) {
    await m.query(
      `INSERT INTO learning_rescan_changes (rescan_id, learning_id, action)
       SELECT $1::uuid, unnest($2::uuid[]), 'forgotten' ON CONFLICT DO NOTHING`,
      [job.id, rows.map((r) => r.id)],
    );
  }
  await m.query(
    `UPDATE learning_rescans SET status = 'scanning', started_at = coalesce(started_at, now()),
       total = $2, scanned = $2, forgotten = forgotten + $3, updated_at = now() WHERE id = $1`,
    [job.id, ids.length, rows.length],
  );
  return rows.length;
}
