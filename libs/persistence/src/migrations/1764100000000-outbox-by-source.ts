import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each service's outbox relay publishes only the events its service wrote (envelope `source`),
 * because each service's NATS user may publish only its own subjects (ADR 0006). This index keeps
 * that lookup cheap when one service has a backlog.
 */
export class OutboxBySource1764100000000 implements MigrationInterface {
  name = 'OutboxBySource1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX outbox_pending_source_ix ON outbox (((payload::jsonb) ->> 'source'), id) WHERE published_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX outbox_pending_source_ix`);
  }
}
