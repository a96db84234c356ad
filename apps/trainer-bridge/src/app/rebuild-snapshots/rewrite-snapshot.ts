import { sha256, snapshotRecord, type SnapshotLearning } from '../build-snapshot/snapshot';

export interface RewrittenSnapshot {
  jsonl: string;
  sha256: string;
  changed: boolean;
  /** Learning ids of the records kept, in order. */
  learningIds: string[];
  replayRecords: number;
  /** Affected learnings whose record was rendered again (their text changed) or dropped. */
  rewritten: string[];
  dropped: string[];
}

/**
 * A snapshot's JSONL with every record of an affected learning rendered again from its cleaned
 * row, or dropped when the row is no longer trainable (quarantined, forgotten, gone). Records of
 * other learnings keep their exact bytes and the order stays, so the rewrite of a snapshot that
 * was already rewritten is the same text (a redelivery changes nothing). `affected` maps each
 * affected learning id to its row now (null: drop it).
 */
export function rewriteSnapshot(
  jsonl: string,
  affected: ReadonlyMap<string, SnapshotLearning | null>,
  /** An eval set: its records keep the learning's tests (ADR 0016). */
  evalSet = false,
): RewrittenSnapshot {
  const lines: string[] = [];
  const learningIds: string[] = [];
  const rewritten: string[] = [];
  const dropped: string[] = [];
  let replayRecords = 0;
  for (const line of jsonl.split('\n')) {
    if (line === '') continue;
    const record = JSON.parse(line) as { learning_id: string; replay?: boolean };
    let out = line;
    if (affected.has(record.learning_id)) {
      const row = affected.get(record.learning_id);
      if (!row) {
        dropped.push(record.learning_id);
        continue;
      }
      out = JSON.stringify(snapshotRecord(row, record.replay === true, evalSet));
      if (out !== line) rewritten.push(record.learning_id);
    }
    lines.push(out);
    learningIds.push(record.learning_id);
    if (record.replay === true) replayRecords++;
  }
  const text = lines.length ? `${lines.join('\n')}\n` : '';
  return {
    jsonl: text,
    sha256: sha256(text),
    changed: text !== jsonl,
    learningIds,
    replayRecords,
    rewritten,
    dropped,
  };
}
