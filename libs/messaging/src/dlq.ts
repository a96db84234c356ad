/** Headers on every GENESIS_DLQ entry: why it is there and where it came from. */
export const DLQ_HEADERS = {
  code: 'Genesis-Dlq-Code',
  reason: 'Genesis-Dlq-Reason',
  subject: 'Genesis-Original-Subject',
  stream: 'Genesis-Original-Stream',
  sequence: 'Genesis-Original-Sequence',
  consumer: 'Genesis-Consumer',
  deliveries: 'Genesis-Deliveries',
} as const;

/** Published by nats-server when a consumer reaches max_deliver for a message without an ack. */
export function maxDeliveriesAdvisory(stream: string, durable: string): string {
  return `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${durable}`;
}
