import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { ArtifactStore } from '@genesis/messaging';
import { planSuiteVersion, type SuiteGrowthPolicy } from './suite-version';

export interface FrozenInDomainSuite {
  /** 0 when nothing is frozen yet (an empty held-out pool). */
  version: number;
  /** The version's items as snapshot eval records (JSONL), in suite order. */
  jsonl: string;
  /** What happened, for the cycle's reason. */
  note: string;
}

interface VersionRow {
  version: number;
  sha256: string;
  bucket: string;
  key: string;
  learning_ids: string[];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function records(jsonl: string): { id: string; line: string }[] {
  return jsonl
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => ({ id: String((JSON.parse(line) as { learning_id: unknown }).learning_id), line }));
}

async function load(artifacts: ArtifactStore, row: VersionRow): Promise<string> {
  const bytes = await artifacts.get(row.bucket, row.key);
  if (!bytes) throw new Error(`suite version ${row.version} (${row.key}) is not in ${row.bucket}`);
  const text = new TextDecoder().decode(bytes);
  if (sha256(text) !== row.sha256.trim())
    throw new Error(`suite version ${row.version} (${row.key}) does not match its sha256 ${row.sha256}`);
  return text;
}

/**
 * The in-domain suite version this cycle is evaluated on (ADR 0016): the model's latest frozen
 * version, or a new one cut from the snapshot's held-out pool when that has grown enough. The
 * `suite_versions` table owns the versions (only the evaluator writes it); a version's items and
 * bytes never change once written. Idempotent: a redelivery plans the same version from the same
 * pool, and the insert keeps the first row.
 */
export async function frozenInDomainSuite(
  dataSource: DataSource,
  artifacts: ArtifactStore,
  args: { modelId: string; cycleId: string; pool: string; bucket: string; policy: SuiteGrowthPolicy },
): Promise<FrozenInDomainSuite> {
  const pool = records(args.pool);
  const [latest] = (await dataSource.query(
    `SELECT version, sha256, bucket, key, learning_ids FROM suite_versions
     WHERE model_id = $1 ORDER BY version DESC LIMIT 1`,
    [args.modelId],
  )) as VersionRow[];
  const plan = planSuiteVersion(
    latest ? { version: latest.version, itemIds: latest.learning_ids } : null,
    pool.map((r) => r.id),
    args.policy,
  );
  if (plan.action === 'keep') {
    if (!latest) return { version: 0, jsonl: '', note: 'no held-out items to freeze yet' };
    return {
      version: latest.version,
      jsonl: await load(artifacts, latest),
      note: `in-domain suite v${latest.version} kept (${plan.fresh} new held-out items, ${plan.needed} needed for a new version)`,
    };
  }
  const byId = new Map(pool.map((r) => [r.id, r.line]));
  const lines = plan.itemIds.map((id) => byId.get(id)!);
  const jsonl = `${lines.join('\n')}\n`;
  const digest = sha256(jsonl);
  const key = `eval-suites/${args.modelId}/in-domain.v${plan.version}.${digest.slice(0, 16)}.jsonl`;
  await artifacts.putIfAbsent(args.bucket, key, jsonl);
  await dataSource.query(
    `INSERT INTO suite_versions (model_id, version, sha256, bucket, key, items, learning_ids, cycle_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7::uuid[], $8) ON CONFLICT (model_id, version) DO NOTHING`,
    [args.modelId, plan.version, digest, args.bucket, key, plan.itemIds.length, plan.itemIds, args.cycleId],
  );
  const [stored] = (await dataSource.query(
    `SELECT version, sha256, bucket, key, learning_ids FROM suite_versions WHERE model_id = $1 AND version = $2`,
    [args.modelId, plan.version],
  )) as VersionRow[];
  const what =
    plan.version === 1
      ? `in-domain suite v1 frozen with ${plan.itemIds.length} items`
      : `in-domain suite v${plan.version} cut with ${plan.itemIds.length} items (${plan.fresh} new${plan.dropped ? `, ${plan.dropped} gone` : ''})`;
  return {
    version: plan.version,
    jsonl: stored!.sha256.trim() === digest ? jsonl : await load(artifacts, stored!),
    note: what,
  };
}
