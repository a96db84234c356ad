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

/** The headers of a DLQ entry, by the DLQ_HEADERS names. */
export function dlqHeaders(entry: {
  code: string;
  reason: string;
  subject: string;
  stream: string;
  sequence: number;
  consumer: string;
  deliveries: number;
}): Record<string, string> {
  return {
    [DLQ_HEADERS.code]: entry.code,
    [DLQ_HEADERS.reason]: entry.reason.slice(0, 2000),
    [DLQ_HEADERS.subject]: entry.subject,
    [DLQ_HEADERS.stream]: entry.stream,
    [DLQ_HEADERS.sequence]: String(entry.sequence),
    [DLQ_HEADERS.consumer]: entry.consumer,
    [DLQ_HEADERS.deliveries]: String(entry.deliveries),
  };
}
