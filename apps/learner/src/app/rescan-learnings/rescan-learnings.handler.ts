import { Inject, Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, type EntityManager } from 'typeorm';
import {
  SUBJECTS,
  followUp,
  type EventEnvelope,
  type LearningRescannedV1,
  type LearningRescanRequestedV1,
} from '@genesis/contracts';
import { counter, Log } from '@genesis/observability';
import { enqueueEvent } from '@genesis/persistence';
import { cleanWithCurrentRules } from '../clean-learning';
import { LEARNER_CONFIG, type LearnerConfig } from '../learner.config';
import { forgetLearnings } from './forget-learnings';
import { fieldName, rowFromScan, textsOf, type StoredLearningRow } from './row-fields';

const changedTotal = counter(
  'genesis_learnings_rescan_changes_total',
  'Stored learnings a rescan or forget job changed, by action',
  ['action'],
);

export interface RescanJob {
  id: string;
  kind: 'rescan' | 'forget';
  model_id: string | null;
  learning_ids: string[] | null;
  reason: string;
  status: 'pending' | 'scanning' | 'purging' | 'completed' | 'failed';
  cursor: string | null;
  scanned: number;
  attempts: number;
}

/** A stored learning the current rules changed: what to write and why. */
interface Change {
  row: StoredLearningRow;
  action: 'redacted' | 'quarantined';
  redactions: number;
  rules: string[];
  fields: string[];
  quarantine?: string;
}

/**
 * learning.rescan_requested → the stored learnings cleaned again with the current rule set (or,
 * for a forget job, tombstoned), then learning.rescanned for the trainer-bridge, which rebuilds the
 * snapshots (ADR 0017). A state machine on the job row: pending → scanning → purging. Each batch
 * of learnings is one transaction that also moves the job's cursor, so a learner killed mid-scan
 * resumes after the last committed batch when the message comes back, and a batch is never
 * applied twice. Cleaning is idempotent anyway: a marker is no secret, so a second pass finds
 * nothing new.
 */
@Injectable()
export class RescanLearningsHandler {
  private readonly log = new Log('learner', 'rescan');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(LEARNER_CONFIG) private readonly config: LearnerConfig,
  ) {}

  async handle(event: EventEnvelope<LearningRescanRequestedV1>): Promise<void> {
    const job = await this.start(event.data.rescan_id);
    if (!job) return;
    if (job.kind === 'forget') {
      await this.dataSource.transaction(async (m) => {
        const forgotten = await forgetLearnings(m, job);
        changedTotal.inc({ action: 'forgotten' }, forgotten);
        await this.finishScan(m, job, event);
      });
      this.log.info('learnings forgotten', { rescan_id: job.id, correlation_id: event.correlation_id });
      return;
    }
    if (job.cursor) {
      this.log.info('rescan resumes after its last committed batch', {
        rescan_id: job.id,
        scanned: job.scanned,
        attempt: job.attempts,
      });
    }
    for (;;) {
      const done = await this.dataSource.transaction((m) => this.scanBatch(m, job.id, event));
      if (done) break;
      if (this.config.rescanPauseMs > 0) await sleep(this.config.rescanPauseMs);
    }
    this.log.info('rescan scanned every stored learning', {
      rescan_id: job.id,
      correlation_id: event.correlation_id,
    });
  }

  /** Moves a pending job to scanning (counting what it will scan); null when it is past scanning. */
  private start(id: string): Promise<RescanJob | null> {
    return this.dataSource.transaction(async (m) => {
      const [job] = await m.query<RescanJob[]>(`SELECT * FROM learning_rescans WHERE id = $1 FOR UPDATE`, [
        id,
      ]);
      if (!job || (job.status !== 'pending' && job.status !== 'scanning')) return null;
      if (job.status === 'pending' && job.kind === 'rescan') {
        const [{ n }] = await m.query(
          `SELECT count(*)::int AS n FROM learnings WHERE ($1::text IS NULL OR model_id = $1)`,
          [job.model_id],
        );
        job.status = 'scanning';
        await m.query(
          `UPDATE learning_rescans SET status = 'scanning', total = $2, rule_set = $3, started_at = now(),
             updated_at = now() WHERE id = $1`,
          [id, n, this.config.secretRules.name],
        );
      }
      if (job.status === 'pending') await carryOverStalledChanges(m, id);
      await m.query(`UPDATE learning_rescans SET attempts = attempts + 1 WHERE id = $1`, [id]);
      return { ...job, attempts: job.attempts + 1 };
    });
  }

  /** Cleans the next batch after the job's cursor; true once there is none left (and the job moved on). */
  private async scanBatch(
    m: EntityManager,
    id: string,
    event: EventEnvelope<LearningRescanRequestedV1>,
  ): Promise<boolean> {
    const [job] = await m.query<RescanJob[]>(`SELECT * FROM learning_rescans WHERE id = $1 FOR UPDATE`, [id]);
    if (!job || job.status !== 'scanning') return true;
    const rows = await m.query<StoredLearningRow[]>(
      `SELECT id, status, source, language, context, model_output, correction, tests, produced_by, metadata
       FROM learnings WHERE ($1::uuid IS NULL OR id > $1) AND ($2::text IS NULL OR model_id = $2)
       ORDER BY id LIMIT $3 FOR UPDATE`,
      [job.cursor, job.model_id, this.config.rescanBatchSize],
    );
    if (rows.length === 0) {
      await this.finishScan(m, job, event);
      return true;
    }
    const changes = await this.clean(rows);
    for (const change of changes) await applyChange(m, job.id, change);
    // Every row of the batch is now clean under the current rule set: record which one.
    await m.query(`UPDATE learnings SET secret_rule_set = $2 WHERE id = ANY($1::uuid[])`, [
      rows.map((r) => r.id),
      this.config.secretRules.name,
    ]);
    const count = (action: Change['action']) => changes.filter((c) => c.action === action).length;
    await m.query(
      `UPDATE learning_rescans SET cursor = $2, scanned = scanned + $3, redacted = redacted + $4,
         quarantined = quarantined + $5, updated_at = now() WHERE id = $1`,
      [job.id, rows[rows.length - 1]!.id, rows.length, count('redacted'), count('quarantined')],
    );
    for (const change of changes) changedTotal.inc({ action: change.action });
    return false;
  }

  /** What the current rules change in these rows (unchanged rows are left out). */
  private async clean(rows: StoredLearningRow[]): Promise<Change[]> {
    const scans = await cleanWithCurrentRules(rows.map(textsOf), this.config.secretRules);
    const changes: Change[] = [];
    rows.forEach((row, i) => {
      const scan = scans[i]!;
      const scanFailed = scan.quarantine?.code === 'SECRET_SCAN_FAILED';
      if (scan.redactions === 0 && !scanFailed) return;
      const next = rowFromScan(row, scan);
      const fields = [...new Set(scan.findings.map((f) => fieldName(f.field)))];
      const rules = [...new Set(scan.findings.map((f) => f.ruleId))];
      // The quarantine policy of the capture path; a row that is not accepted is only redacted (it
      // is never trained on, and has no text left but metadata).
      const reason = row.status === 'accepted' ? scan.quarantine : undefined;
      changes.push({
        row: next,
        action: reason ? 'quarantined' : 'redacted',
        redactions: scan.redactions,
        rules,
        fields,
        ...(reason ? { quarantine: `${reason.code}: ${reason.message} (rescan)` } : {}),
      });
    });
    return changes;
  }

  /** scanning → purging, with learning.rescanned for the trainer-bridge in the same transaction. */
  private async finishScan(
    m: EntityManager,
    job: RescanJob,
    event: EventEnvelope<LearningRescanRequestedV1>,
  ): Promise<void> {
    await m.query(
      `UPDATE learning_rescans SET status = 'purging', scanned_at = now(), updated_at = now() WHERE id = $1`,
      [job.id],
    );
    const [state] = await m.query(
      `SELECT scanned, rule_set, (SELECT count(*)::int FROM learning_rescan_changes WHERE rescan_id = $1) AS changed
       FROM learning_rescans WHERE id = $1`,
      [job.id],
    );
    const data: LearningRescannedV1 = {
      rescan_id: job.id,
      kind: job.kind,
      ...(state.rule_set ? { rule_set: state.rule_set as string } : {}),
      scanned: state.scanned,
      changed: state.changed,
    };
    await enqueueEvent(
      m,
      SUBJECTS.learningRescanned,
      followUp(event, SUBJECTS.learningRescanned, data, { source: 'learner' }),
    );
  }
}

/**
 * A job that stalled (failed by the gateway when a new request found it without progress) may have
 * changed rows whose snapshots were never rebuilt, and a new pass finds those rows clean already:
 * its changes become those of the next job of its kind, whose snapshot pass covers them (ADR 0017).
 */
async function carryOverStalledChanges(m: EntityManager, id: string): Promise<void> {
  await m.query(
    `WITH carried AS (
       UPDATE learning_rescans SET carried_into = $1
       WHERE status = 'failed' AND carried_into IS NULL AND id <> $1
         AND kind = (SELECT kind FROM learning_rescans WHERE id = $1)
       RETURNING id
     )
     INSERT INTO learning_rescan_changes (rescan_id, learning_id, action, rules, fields)
     SELECT $1::uuid, c.learning_id, c.action, c.rules, c.fields
     FROM learning_rescan_changes c JOIN carried ON c.rescan_id = carried.id
     ON CONFLICT DO NOTHING`,
    [id],
  );
}

async function applyChange(m: EntityManager, rescanId: string, change: Change): Promise<void> {
  const { row } = change;
  if (change.action === 'quarantined') {
    await m.query(
      `UPDATE learnings SET status = 'quarantined', context = NULL, model_output = NULL, correction = NULL,
         tests = NULL, source = $2, language = $3, produced_by = $4, metadata = $5::jsonb, quarantine_reason = $6,
         redaction_count = redaction_count + $7
       WHERE id = $1`,
      [
        row.id,
        row.source,
        row.language,
        row.produced_by,
        JSON.stringify(row.metadata),
        change.quarantine,
        change.redactions,
      ],
    );
  } else {
    await m.query(
      `UPDATE learnings SET context = $2, model_output = $3, correction = $4, source = $5, language = $6,
         produced_by = $7, metadata = $8::jsonb, redaction_count = redaction_count + $9, tests = $10
       WHERE id = $1`,
      [
        row.id,
        row.context,
        row.model_output,
        row.correction,
        row.source,
        row.language,
        row.produced_by,
        JSON.stringify(row.metadata),
        change.redactions,
        row.tests ?? null,
      ],
    );
  }
  // The embedding was computed from the text before it was cleaned: it goes (ADR 0018), and the
  // indexer, on learning.rescanned, drops the index entry and embeds the cleaned text again.
  await m.query(`DELETE FROM learning_vectors WHERE learning_id = $1`, [row.id]);
  await m.query(
    `INSERT INTO learning_rescan_changes (rescan_id, learning_id, action, rules, fields)
     VALUES ($1, $2, $3, $4::text[], $5::text[]) ON CONFLICT DO NOTHING`,
    [rescanId, row.id, change.action, change.rules, change.fields],
  );
}
