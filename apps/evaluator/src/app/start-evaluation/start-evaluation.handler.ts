import { Inject, Injectable } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { randomUUID, createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  ANCHOR_SUITE,
  REGRESSION_SUITE_FILE,
  REGRESSION_SUITE_VERSION,
  type EventEnvelope,
  type ModelTrainedV1,
} from '@genesis/contracts';
import { findCycle, transitionCycle } from '@genesis/cycles';
import { ArtifactStore, PermanentError } from '@genesis/messaging';
import { Log } from '@genesis/observability';
import { championOf } from '@genesis/registry';
import { anchorItemsFor, EVALUATOR_CONFIG, type EvaluatorConfig } from '../evaluator.config';
import { modelUnderTest, queueEvaluationJob, type EvaluationRow } from '../evaluation-jobs';
import { buildSuite } from './suite';
import { suiteVersionName } from './suite-version';
import { frozenInDomainSuite } from './suite-version-store';

/**
 * model.trained → the suite (the current frozen version of the in-domain suite, cut from the
 * snapshot's held-out pool when that has grown enough, + the shipped regression set, content-
 * addressed in the artifact store, + the anchor suite the worker loads) → one jobs.evaluate per
 * role (candidate, current champion or the bare base model), so the champion is re-scored on the
 * same suite version every cycle → cycle evaluating. Idempotent: one evaluation per cycle.
 */
@Injectable()
export class StartEvaluationHandler {
  private readonly log = new Log('evaluator', 'start-evaluation');
  private readonly regressionJsonl = readFileSync(REGRESSION_SUITE_FILE, 'utf8');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ArtifactStore) private readonly artifacts: ArtifactStore,
    @Inject(EVALUATOR_CONFIG) private readonly config: EvaluatorConfig,
  ) {}

  async handle(event: EventEnvelope<ModelTrainedV1>): Promise<void> {
    const trained = event.data;
    const cycle = await findCycle(this.dataSource, trained.cycle_id);
    if (!cycle || cycle.status !== 'trained') return; // already evaluating (or ended): nothing to do

    const [snapshot] = await this.dataSource.query(
      `SELECT bucket, eval_key, eval_sha256 FROM dataset_snapshots WHERE id = $1`,
      [trained.snapshot.id],
    );
    if (!snapshot) throw new PermanentError('UNKNOWN_SNAPSHOT', `no dataset snapshot ${trained.snapshot.id}`);
    const heldOut = await this.artifacts.get(snapshot.bucket, snapshot.eval_key);
    if (!heldOut) throw new Error(`eval set ${snapshot.eval_key} is not in ${snapshot.bucket} (yet)`);
    const heldOutText = new TextDecoder().decode(heldOut);
    const actual = createHash('sha256').update(heldOutText).digest('hex');
    if (actual !== snapshot.eval_sha256) {
      await this.fail(
        trained.cycle_id,
        'EVAL_SET_HASH_MISMATCH',
        `eval set ${snapshot.eval_key} has sha256 ${actual}, expected ${snapshot.eval_sha256}`,
      );
      return;
    }
    const bucket = this.config.artifactsBucket;
    const frozen = await frozenInDomainSuite(this.dataSource, this.artifacts, {
      modelId: event.model_id,
      cycleId: trained.cycle_id,
      pool: heldOutText,
      bucket,
      policy: { growth: this.config.suites.growth, minNewItems: this.config.suites.growthMinItems },
    });
    const suite = buildSuite(frozen.jsonl, this.regressionJsonl);
    const anchorItems = anchorItemsFor(this.config.suites, trained.base_model);
    const anchor =
      anchorItems > 0
        ? {
            suite: ANCHOR_SUITE.suite,
            version: ANCHOR_SUITE.version,
            items: anchorItems >= ANCHOR_SUITE.problems ? null : anchorItems,
          }
        : null;
    const suiteVersion = suiteVersionName(
      frozen.version,
      REGRESSION_SUITE_VERSION,
      anchor && { ...anchor, problems: ANCHOR_SUITE.problems },
    );
    const key = `eval-suites/${event.model_id}/${suite.sha256}.jsonl`;
    await this.artifacts.putIfAbsent(bucket, key, suite.jsonl);

    await this.dataSource.transaction(async (m) => {
      const [existing] = await m.query(`SELECT id FROM evaluations WHERE cycle_id = $1`, [trained.cycle_id]);
      if (existing) return;
      const championVersion = await championOf(m, event.model_id);
      const evaluation: EvaluationRow = {
        id: randomUUID(),
        cycle_id: trained.cycle_id,
        model_id: event.model_id,
        candidate_version: trained.model_version,
        champion_version: championVersion,
        base_model: trained.base_model,
        suite: {
          bucket,
          key,
          sha256: suite.sha256,
          items: suite.items,
          in_domain: suite.inDomain,
          regression: suite.regression,
          suite_version: suiteVersion,
          in_domain_version: frozen.version,
          anchor,
        },
        status: 'running',
      };
      await m.query(
        `INSERT INTO evaluations (id, cycle_id, model_id, candidate_version, champion_version, base_model, suite, status, suite_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8)`,
        [
          evaluation.id,
          evaluation.cycle_id,
          evaluation.model_id,
          evaluation.candidate_version,
          championVersion,
          evaluation.base_model,
          JSON.stringify(evaluation.suite),
          suiteVersion,
        ],
      );
      const candidate = await modelUnderTest(m, trained.model_version, trained.base_model);
      const champion = await modelUnderTest(m, championVersion, trained.base_model);
      await queueEvaluationJob(m, this.config, evaluation, 'candidate', candidate, 1, event);
      await queueEvaluationJob(m, this.config, evaluation, 'champion', champion, 1, event);
      await transitionCycle(m, trained.cycle_id, 'evaluating', {
        patch: { evaluation_id: evaluation.id },
        reason: `evaluating ${trained.model_version} against ${championVersion ?? `the base model ${trained.base_model}`} on ${suiteVersion}: ${suite.items} items (${suite.inDomain} held-out, ${suite.regression} regression)${anchor ? ` + ${anchor.items ?? ANCHOR_SUITE.problems} anchor` : ''}; ${frozen.note}`,
      });
      this.log.info('evaluation started', {
        cycle_id: trained.cycle_id,
        evaluation_id: evaluation.id,
        candidate: trained.model_version,
        champion: championVersion,
        items: suite.items,
      });
    });
  }

  private async fail(cycleId: string, code: string, message: string): Promise<void> {
    await this.dataSource.transaction((m) =>
      transitionCycle(m, cycleId, 'failed', { failure: { code, message }, failedEventSource: 'evaluator' }),
    );
  }
}
