import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Events written in the same transaction as the change they announce; a relay publishes them. */
@Entity({ name: 'outbox' })
export class OutboxEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('uuid', { name: 'event_id', unique: true }) eventId!: string;
  @Column('text') subject!: string;
  @Column('text') payload!: string;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
  @Column('timestamptz', { name: 'published_at', nullable: true }) publishedAt!: Date | null;
}
