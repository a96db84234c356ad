import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MODEL_VERSION_PATTERN } from '@genesis/contracts';
import { AuthGuard, RequireScope } from '../auth/auth.guard';
import { modelIdParam } from '../improvement/model-id';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { problems } from '../problem/problem';
import { UUID, limitParam } from '../http/query-params';
import { aliasHistory, championOf, getVersion, listVersions, versionView } from '@genesis/registry';
import { evaluationView } from './registry-views';

/** The model registry: versions with lineage and metrics, the champion alias and its history. */
@Controller('api/v1')
@UseGuards(AuthGuard, RateLimitGuard)
export class QueryModelsController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get('models')
  @RequireScope('status:read')
  async list(@Query() q: Record<string, string | undefined>) {
    const modelId = modelIdParam(q['model_id']);
    const limit = limitParam(q['limit']);
    const champion = await championOf(this.dataSource, modelId);
    const rows = await listVersions(this.dataSource, modelId, limit);
    return {
      model_id: modelId,
      champion,
      items: rows.map((r) => versionView(r)),
      alias_history: await aliasHistory(this.dataSource, modelId, 20),
    };
  }

  /** The champion: what serves (the registry target serves straight from here). */
  @Get('models/champion')
  @RequireScope('status:read')
  async champion(@Query() q: Record<string, string | undefined>) {
    const modelId = modelIdParam(q['model_id']);
    const champion = await championOf(this.dataSource, modelId);
    if (!champion)
      throw problems.notFound(
        'NO_CHAMPION',
        `${modelId} has no champion yet: the base model serves until a first promotion`,
      );
    return this.one(champion);
  }

  @Get('models/:version')
  @RequireScope('status:read')
  async one(@Param('version') version: string) {
    const row = MODEL_VERSION_PATTERN.test(version) ? await getVersion(this.dataSource, version) : undefined;
    if (!row) throw problems.notFound('MODEL_VERSION_NOT_FOUND', `no model version ${version}`);
    const [snapshot] = row.snapshot_id
      ? await this.dataSource.query(
          `SELECT id, sha256, bucket, key, train_records, replay_records, eval_records, learning_ids, eval_learning_ids, cutoff,
             decontamination
           FROM dataset_snapshots WHERE id = $1`,
          [row.snapshot_id],
        )
      : [];
    const [evaluation] = await this.dataSource.query(
      `SELECT id, decision, reason, result FROM evaluations WHERE candidate_version = $1 ORDER BY created_at DESC LIMIT 1`,
      [version],
    );
    const history = (await aliasHistory(this.dataSource, row.model_id)).filter(
      (h) => h['to_version'] === version || h['from_version'] === version,
    );
    return {
      ...versionView(row),
      hyperparameters: row.hyperparameters,
      lineage: {
        base_model: row.base_model,
        parent_version: row.parent_version,
        cycle_id: row.cycle_id,
        training_job_id: row.job_id,
        snapshot: snapshot ?? null,
        learning_ids: snapshot?.learning_ids ?? [],
      },
      evaluation: evaluation ? { id: evaluation.id, ...evaluation.result } : null,
      alias_history: history,
    };
  }

  @Get('evaluations/:id')
  @RequireScope('status:read')
  async evaluation(@Param('id') id: string) {
    const view = UUID.test(id) ? await evaluationView(this.dataSource, id) : undefined;
    if (!view) throw problems.notFound('EVALUATION_NOT_FOUND', `no evaluation with id ${id}`);
    return view;
  }
}
