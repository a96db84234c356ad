import { Column, Entity, PrimaryColumn } from 'typeorm';

export type LearningStatus = 'accepted' | 'duplicate' | 'near_duplicate' | 'quarantined' | 'forgotten';

/**
 * One captured learning. Every id the gateway hands out gets a row: accepted ones hold the cleaned
 * content; a duplicate keeps only its metadata and points at the accepted original (so it is
 * counted, not stored twice); a quarantined one is kept for review but never trained on; a
 * forgotten one (ADR 0017) is a tombstone without text or metadata.
 */
@Entity({ name: 'learnings' })
export class LearningEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'model_id' }) modelId!: string;
  @Column('text') kind!: string;
  @Column('text') source!: string;
  @Column('text', { nullable: true }) language!: string | null;
  @Column('text', { nullable: true }) context!: string | null;
  @Column('text', { name: 'model_output', nullable: true }) modelOutput!: string | null;
  @Column('text', { nullable: true }) correction!: string | null;
  @Column('text', { name: 'produced_by', nullable: true }) producedBy!: string | null;
  @Column('jsonb', { default: {} }) metadata!: Record<string, unknown>;
  @Column('char', { name: 'content_hash', length: 64 }) contentHash!: string;
  @Column('text') status!: LearningStatus;
  @Column('uuid', { name: 'duplicate_of', nullable: true }) duplicateOf!: string | null;
  @Column('text', { name: 'quarantine_reason', nullable: true }) quarantineReason!: string | null;
  @Column('int', { name: 'redaction_count', default: 0 }) redactionCount!: number;
  /** The secret rule sets and versions that cleaned this row (ADR 0012). */
  @Column('text', { name: 'secret_rule_set', default: 'unknown' }) secretRuleSet!: string;
  @Column('uuid', { name: 'snapshot_id', nullable: true }) snapshotId!: string | null;
  @Column('uuid', { name: 'event_id' }) eventId!: string;
  @Column('timestamptz', { name: 'captured_at' }) capturedAt!: Date;
  @Column('timestamptz', { name: 'stored_at', default: () => 'now()' }) storedAt!: Date;
}
