import { createHash } from 'node:crypto';

/** An accepted learning as the snapshot builder sees it. */
export interface SnapshotLearning {
  id: string;
  content_hash: string;
  kind: string;
  language: string | null;
  context: string | null;
  model_output: string | null;
  correction: string;
  /** Set once a training snapshot took it: "earlier" data, eligible for replay. */
  snapshot_id: string | null;
}

export interface SnapshotPolicy {
  /** Share of learnings frozen as the in-domain eval set (by content, so membership never changes). */
  evalFraction: number;
  /** Share of earlier (already snapshotted) learnings replayed next to the new ones; 1 = cumulative. */
  replayShare: number;
}

export interface BuiltSnapshot {
  jsonl: string;
  sha256: string;
  evalJsonl: string;
  evalSha256: string;
  trainIds: string[];
  replayIds: string[];
  evalIds: string[];
}

function unit(hex: string, salt: string): number {
  return parseInt(createHash('sha256').update(`${salt}:${hex}`).digest('hex').slice(0, 8), 16) / 0x100000000;
}

/**
 * Held-out membership is a pure function of the content: the same learning is in the eval set in
 * every cycle, so nothing the evaluator measures on is ever trained on.
 */
export function isHeldOut(contentHash: string, evalFraction: number): boolean {
  return unit(contentHash, 'genesis-heldout') < evalFraction;
}

/** One JSONL record of a snapshot; a rebuilt snapshot (ADR 0017) renders its records with it too. */
export function snapshotRecord(l: SnapshotLearning, replay: boolean): Record<string, unknown> {
  // Fixed key order and only the fields the worker reads: the bytes depend on the data alone.
  return {
    learning_id: l.id,
    kind: l.kind,
    ...(l.language ? { language: l.language } : {}),
    ...(l.context
      ? { context: l.context }
      : { instruction: `Write the ${l.language ?? 'code'} for this ${l.kind}.` }),
    ...(l.model_output ? { model_output: l.model_output } : {}),
    correction: l.correction,
    ...(replay ? { replay: true } : {}),
  };
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const byHash = (a: SnapshotLearning, b: SnapshotLearning) => (a.content_hash < b.content_hash ? -1 : 1);

/**
 * Builds the content-addressed training snapshot: every new learning, a replay share of earlier
 * ones (chosen by content, deterministic), never a held-out one; and the frozen eval set beside it.
 * The same learnings give the same bytes and so the same sha256.
 */
export function buildSnapshot(learnings: SnapshotLearning[], policy: SnapshotPolicy): BuiltSnapshot {
  const sorted = [...learnings].sort(byHash);
  const heldOut = sorted.filter((l) => isHeldOut(l.content_hash, policy.evalFraction));
  const trainable = sorted.filter((l) => !isHeldOut(l.content_hash, policy.evalFraction));
  const fresh = trainable.filter((l) => l.snapshot_id === null);
  const replay = trainable.filter(
    (l) => l.snapshot_id !== null && unit(l.content_hash, 'genesis-replay') < policy.replayShare,
  );
  const lines = [
    ...fresh.map((l) => snapshotRecord(l, false)),
    ...replay.map((l) => snapshotRecord(l, true)),
  ].map((r) => JSON.stringify(r));
  const evalLines = heldOut.map((l) => JSON.stringify(snapshotRecord(l, false)));
  const jsonl = lines.length ? `${lines.join('\n')}\n` : '';
  const evalJsonl = evalLines.length ? `${evalLines.join('\n')}\n` : '';
  return {
    jsonl,
    sha256: sha256(jsonl),
    evalJsonl,
    evalSha256: sha256(evalJsonl),
    trainIds: fresh.map((l) => l.id),
    replayIds: replay.map((l) => l.id),
    evalIds: heldOut.map((l) => l.id),
  };
}
