import { execFile } from 'node:child_process';
import type { MsgRequest } from '@nats-io/jetstream';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  STREAMS,
  SUBJECTS,
  makeEnvelope,
  type LearningStoredV1,
  type ThresholdReachedV1,
} from '@genesis/contracts';
import { transitionCycle, HAPPY_PATH, type CycleStatus } from '@genesis/cycles';
import { lockAlias, moveAlias } from '@genesis/registry';
import { EventPublisher } from '@genesis/messaging';
import type { TestStack } from '@genesis/testing';

const REPO = join(__dirname, '..', '..', '..', '..');

/**
 * Stores accepted learnings exactly as the learner does (a row, then learning.stored), so the
 * monitor's tests control how many exist and when the nth arrives without running the capture path.
 */
export async function storeLearnings(
  stack: TestStack,
  modelId: string,
  count: number,
  { publish = true, storedAt }: { publish?: boolean; storedAt?: Date } = {},
): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  if (ids.length === 0) return ids;
  await stack.db.query(
    `INSERT INTO learnings (id, model_id, kind, source, correction, content_hash, status, event_id, captured_at, stored_at)
     SELECT id, $2, 'correction', 'monitor-test', 'fix ' || id, encode(sha256(id::text::bytea), 'hex'), 'accepted',
            gen_random_uuid(), COALESCE($3, now()), COALESCE($3, now())
     FROM unnest($1::uuid[]) AS id`,
    [ids, modelId, storedAt ?? null],
  );
  if (publish) {
    const publisher = new EventPublisher(stack.client);
    await Promise.all(
      ids.map((id) => {
        const data: LearningStoredV1 = {
          learning_id: id,
          model_id: modelId,
          kind: 'correction',
          source: 'monitor-test',
          content_hash: createHash('sha256').update(id).digest('hex'),
          redactions: 0,
          stored_at: new Date().toISOString(),
        };
        return publisher.publish(
          SUBJECTS.learningStored,
          makeEnvelope(SUBJECTS.learningStored, data, { source: 'learner', modelId }),
        );
      }),
    );
  }
  return ids;
}

/** threshold.reached events on GENESIS_EVENTS, oldest first (optionally for one model). */
export async function thresholdEvents(
  stack: TestStack,
  modelId?: string,
): Promise<{ data: ThresholdReachedV1; time: Date; id: string }[]> {
  const info = await stack.client.jsm.streams.info(STREAMS.events, {
    subjects_filter: SUBJECTS.thresholdReached,
  });
  const total = info.state.subjects?.[SUBJECTS.thresholdReached] ?? 0;
  const out: { data: ThresholdReachedV1; time: Date; id: string }[] = [];
  let seq = 0;
  for (let i = 0; i < total; i++) {
    // STREAM.MSG.GET with next_by_subj (nats-server ≥ 2.9); the client's type only lists seq/last_by_subj.
    const query = { next_by_subj: SUBJECTS.thresholdReached, seq: seq + 1 } as unknown as MsgRequest;
    const msg = await stack.client.jsm.streams.getMessage(STREAMS.events, query);
    if (!msg) break;
    seq = msg.seq;
    const envelope = msg.json<{ id: string; data: ThresholdReachedV1 }>();
    if (!modelId || envelope.data.model_id === modelId)
      out.push({ data: envelope.data, time: msg.time, id: envelope.id });
  }
  return out;
}

export async function cyclesOf(stack: TestStack, modelId: string) {
  return stack.db.query<{
    id: string;
    status: CycleStatus;
    trigger: string;
    reason: string;
    threshold_event_id: string | null;
  }>(
    `SELECT id, status, trigger, reason, threshold_event_id FROM improvement_cycles WHERE model_id = $1 ORDER BY opened_at`,
    [modelId],
  );
}

/**
 * Plays the later services (trainer-bridge, evaluator, deployer) through the shared transition
 * function: snapshot the waiting learnings, then walk the cycle to `end`.
 */
export async function finishCycle(
  stack: TestStack,
  cycleId: string,
  end: 'deployed' | 'rejected',
  { modelVersion, score, at }: { modelVersion?: string; score?: number; at?: Date } = {},
): Promise<void> {
  await stack.db.dataSource.transaction(async (m) => {
    const [{ model_id }] = await m.query(`SELECT model_id FROM improvement_cycles WHERE id = $1`, [cycleId]);
    const snapshot = randomUUID();
    await m.query(
      `UPDATE learnings SET snapshot_id = $2 WHERE model_id = $1 AND status = 'accepted' AND snapshot_id IS NULL`,
      [model_id, snapshot],
    );
    const path = [
      ...HAPPY_PATH.slice(1, end === 'deployed' ? HAPPY_PATH.length : HAPPY_PATH.indexOf('evaluated') + 1),
    ];
    if (end === 'rejected') path.push('rejected' as never);
    for (const to of path as CycleStatus[]) {
      await transitionCycle(m, cycleId, to, {
        now: at,
        patch: {
          ...(to === 'dataset_ready' ? { snapshot_id: snapshot } : {}),
          ...(to === 'trained' && modelVersion ? { model_version: modelVersion } : {}),
          ...(to === 'evaluated' && score !== undefined ? { score } : {}),
        },
      });
    }
    // The deployer's side of a promotion: the champion is the registry's alias alone (ADR 0022).
    if (end === 'deployed' && modelVersion) {
      await m.query(
        `INSERT INTO model_versions (version, model_id, cycle_id, base_model, status, artifact)
         VALUES ($1, $2, $3, 'tiny', 'candidate', '{}') ON CONFLICT DO NOTHING`,
        [modelVersion, model_id, cycleId],
      );
      const from = await lockAlias(m, model_id);
      await moveAlias(m, {
        modelId: model_id,
        from,
        to: modelVersion,
        kind: 'promotion',
        actor: 'test',
        reason: 'finishCycle',
        deploymentId: null,
      });
    }
  });
}

/** Runs `node dist/apps/monitor/main.js --once …` and returns its exit code and output. */
export function runMonitorOnce(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO, 'dist', 'apps', 'monitor', 'main.js'), '--once', ...args],
      {
        cwd: REPO,
        env: { PATH: process.env['PATH'] ?? '', GENESIS_LOG_LEVEL: 'warn', ...env },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Straight from the tables: what the status document must say. */
export async function countsFromTables(stack: TestStack, modelId: string) {
  const [row] = await stack.db.query<{
    learnings: number;
    runs: number;
    current: string | null;
    last: Date | null;
  }>(
    `SELECT
       (SELECT count(*)::int FROM learnings WHERE model_id = $1 AND status = 'accepted' AND snapshot_id IS NULL) AS learnings,
       (SELECT count(*)::int FROM improvement_cycles WHERE model_id = $1 AND status = 'deployed') AS runs,
       (SELECT model_version FROM improvement_cycles WHERE model_id = $1 AND status = 'deployed'
        ORDER BY deployed_at DESC LIMIT 1) AS current,
       (SELECT max(deployed_at) FROM improvement_cycles WHERE model_id = $1 AND status = 'deployed') AS last`,
    [modelId],
  );
  return {
    learnings_since_training: row!.learnings,
    training_runs: row!.runs,
    current_model: row!.current,
    last_training_time: row!.last?.toISOString() ?? null,
  };
}

/** A labelled sample from a Prometheus text exposition. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}
