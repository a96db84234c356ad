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
