import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { fromStorableJson, toStorableJson, type EvalItemResult } from '@genesis/contracts';
import { ArtifactStore } from '@genesis/messaging';
import { counter, Log } from '@genesis/observability';
import { redactTextsWithCurrentRules } from '@genesis/secrets';
import { BRIDGE_CONFIG, type BridgeConfig } from '../trainer-bridge.config';
import { FORGOTTEN_OUTPUT, rewriteOutputs, rewriteResultsObject, type TextRewrite } from './rewrite-outputs';

const cleaned = counter(
  'genesis_evaluation_outputs_cleaned_total',
  'Per-item evaluation results whose model output a rescan redacted or a forget removed',
  ['kind'],
);

/** The part of a rescan / forget job this step needs. */
export interface OutputCleaningJob {
  id: string;
  kind: 'rescan' | 'forget';
  model_id: string | null;
  rule_set: string | null;
}

interface ItemRow {
  item_id: string;
  candidate: EvalItemResult;
  champion: EvalItemResult;
}

interface ResultsRef {
  bucket: string;
  key: string;
  sha256: string;
  items?: number;
}

/**
 * Model output is kept by evaluations twice: per-item rows (`evaluation_items`, both models side by
 * side) and the worker's results objects (`evaluation_jobs.results`). A rescan runs every output through
 * the current rules (the same GENESIS_SECRET_EXTRA_RULES as the learner) and a forget replaces the
 * outputs on items derived from a forgotten learning (an in-domain item is a learning: its output is
 * the model's attempt at that learning's correction, often the correction itself) — ADR 0017.
 *
 * One evaluation per transaction, its row locked like the evaluator locks it, so the evaluator and this
 * never interleave on one evaluation; the job's `evaluations_cursor` moves in the same transaction, so a
 * redelivered job resumes after the last evaluation it finished. A rewritten results object is put
 * under a new content-addressed key first and the old key is left to the job's purge step.
 */
@Injectable()
export class EvaluationOutputCleaner {
  private readonly log = new Log('trainer-bridge', 'clean-evaluation-outputs');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ArtifactStore) private readonly artifacts: ArtifactStore,
    @Inject(BRIDGE_CONFIG) private readonly config: BridgeConfig,
  ) {}

  /** `forgotten`: the learnings a forget job forgot (unused by a rescan). */
  async clean(job: OutputCleaningJob, forgotten: readonly string[]): Promise<void> {
    if (job.kind === 'forget' && forgotten.length === 0) return;
    const rules = this.config.secretRules;
    if (job.kind === 'rescan' && job.rule_set && job.rule_set !== rules.name) {
      // The learner cleaned the rows with other rules than these: outputs get what this service knows.
      this.log.warn('the learner and the trainer-bridge have different secret rules', {
        rescan_id: job.id,
        learner_rule_set: job.rule_set,
        trainer_bridge_rule_set: rules.name,
      });
    }
    const rewrite: TextRewrite =
      job.kind === 'forget'
        ? async (texts) => texts.map(() => FORGOTTEN_OUTPUT)
        : (texts) => redactTextsWithCurrentRules(texts, rules);
    const forgottenIds = new Set(forgotten);
    const [{ evaluations_cursor: start }] = await this.dataSource.query(
      `SELECT evaluations_cursor FROM learning_rescans WHERE id = $1`,
      [job.id],
    );
    let total = 0;
    for (let cursor: string | null = start; ;) {
      const [next] =
        job.kind === 'rescan'
          ? await this.dataSource.query<{ id: string }[]>(
              `SELECT id FROM evaluations WHERE ($1::uuid IS NULL OR id > $1) AND ($2::text IS NULL OR model_id = $2)
               ORDER BY id LIMIT 1`,
              [cursor, job.model_id],
            )
          : await this.dataSource.query<{ id: string }[]>(
              `SELECT DISTINCT evaluation_id AS id FROM evaluation_items
               WHERE learning_id = ANY($2::uuid[]) AND ($1::uuid IS NULL OR evaluation_id > $1)
               ORDER BY evaluation_id LIMIT 1`,
              [cursor, forgotten],
            );
      if (!next) break;
      total += await this.dataSource.transaction((m) =>
        this.cleanEvaluation(m, job, next.id, rewrite, job.kind === 'forget' ? forgottenIds : undefined),
      );
      cursor = next.id;
    }
    if (total > 0) {
      this.log.info('evaluation outputs cleaned', { rescan_id: job.id, kind: job.kind, items: total });
    }
  }

  /** One evaluation's rows and results objects; returns how many per-item rows changed. */
  private async cleanEvaluation(
    m: EntityManager,
    job: OutputCleaningJob,
    evaluationId: string,
    rewrite: TextRewrite,
    forgotten: ReadonlySet<string> | undefined,
  ): Promise<number> {
    await m.query(`SELECT id FROM evaluations WHERE id = $1 FOR UPDATE`, [evaluationId]);
    const items = await m.query<ItemRow[]>(
      `SELECT item_id, candidate, champion FROM evaluation_items
       WHERE evaluation_id = $1 AND ($2::uuid[] IS NULL OR learning_id = ANY($2::uuid[]))
       ORDER BY item_id`,
      [evaluationId, forgotten ? [...forgotten] : null],
    );
    // Rows hold the storable form (ADR 0014): decoded before the rules see them, encoded again after.
    const decoded = items.flatMap((row) => [fromStorableJson(row.candidate), fromStorableJson(row.champion)]);
    const rewritten = await rewriteOutputs(decoded, rewrite);
    let changedItems = 0;
    for (const [i, row] of items.entries()) {
      const candidate = rewritten[2 * i]!;
      const champion = rewritten[2 * i + 1]!;
      if (!candidate.changed && !champion.changed) continue;
      changedItems++;
      await m.query(
        `UPDATE evaluation_items SET candidate = $3, champion = $4 WHERE evaluation_id = $1 AND item_id = $2`,
        [
          evaluationId,
          row.item_id,
          JSON.stringify(toStorableJson(candidate.value)),
          JSON.stringify(toStorableJson(champion.value)),
        ],
      );
    }

    const jobs = await m.query<{ job_id: string; results: ResultsRef }[]>(
      `SELECT job_id, results FROM evaluation_jobs WHERE evaluation_id = $1 AND results IS NOT NULL`,
      [evaluationId],
    );
    let objects = 0;
    for (const { job_id: jobId, results } of jobs) {
      const bytes = await this.artifacts.get(results.bucket, results.key);
      if (!bytes) continue; // purged with its evaluation's cycle, or replaced by an earlier delivery
      const object = await rewriteResultsObject(
        new TextDecoder().decode(bytes),
        (itemId) => !forgotten || forgotten.has(itemId),
        rewrite,
      );
      if (!object.changed) continue;
      const key = `eval-results/${evaluationId}/${jobId}.${object.sha256.slice(0, 16)}.jsonl`;
      await this.artifacts.putIfAbsent(results.bucket, key, object.jsonl);
      await m.query(`UPDATE evaluation_jobs SET results = $2, updated_at = now() WHERE job_id = $1`, [
        jobId,
        JSON.stringify({ ...results, key, sha256: object.sha256 }),
      ]);
      await m.query(
        `INSERT INTO rescan_purges (rescan_id, bucket, key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [job.id, results.bucket, results.key],
      );
      objects++;
    }
    await m.query(
      `UPDATE learning_rescans SET evaluations_cursor = $2,
         evaluation_outputs_cleaned = evaluation_outputs_cleaned + $3, updated_at = now()
       WHERE id = $1`,
      [job.id, evaluationId, changedItems],
    );
    if (changedItems > 0) cleaned.inc({ kind: job.kind }, changedItems);
    if (changedItems + objects > 0) {
      this.log.info('evaluation outputs rewritten', {
        rescan_id: job.id,
        evaluation_id: evaluationId,
        items: changedItems,
        results_objects: objects,
      });
    }
    return changedItems;
  }
}
