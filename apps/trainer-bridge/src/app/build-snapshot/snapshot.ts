import { createHash } from 'node:crypto';
import {
  correctionKey,
  decontaminationKey,
  type NormalisationLevel,
  type SuiteContaminants,
} from '@genesis/contracts';

/** An accepted learning as the snapshot builder sees it. */
export interface SnapshotLearning {
  id: string;
  content_hash: string;
  kind: string;
  language: string | null;
  context: string | null;
  model_output: string | null;
  correction: string;
  /** Python tests of the correction (e.g. an error_fix's failing test); a held-out item runs them. */
  tests?: string | null;
  /** Set once a training snapshot took it: "earlier" data, eligible for replay. */
  snapshot_id: string | null;
}

/** What the snapshot must never train on besides its own held-out items: the shipped suites' items. */
export type Contaminants = SuiteContaminants;

export const NO_CONTAMINANTS: Contaminants = { itemKeys: new Set(), correctionKeys: new Set() };

/** Why learnings were kept out of training besides being held out (ADR 0016). */
export interface Decontamination {
  /** Held out although their exact content is new: they normalise to another held-out learning. */
  held_out_variants: number;
  /** Their canonical correction is a held-out learning's (the same answer under another prompt). */
  held_out_answer: number;
  /** They normalise to a regression or anchor suite item, or teach its answer. */
  regression: number;
}

export interface SnapshotPolicy {
  /** Share of learnings frozen as the in-domain eval set (by content, so membership never changes). */
  evalFraction: number;
  /** Share of earlier (already snapshotted) learnings replayed next to the new ones; 1 = cumulative. */
  replayShare: number;
  /** Normalisation before comparing with evaluation items; default `identifiers`. */
  level?: NormalisationLevel;
}

export interface BuiltSnapshot {
  jsonl: string;
  sha256: string;
  evalJsonl: string;
  evalSha256: string;
  trainIds: string[];
  replayIds: string[];
  evalIds: string[];
  /** Learnings kept out of training for decontamination, by reason. */
  decontamination: Decontamination;
  /** Ids of the learnings left out of training by decontamination (neither trained nor held out). */
  excludedIds: string[];
}

function unit(hex: string, salt: string): number {
  return parseInt(createHash('sha256').update(`${salt}:${hex}`).digest('hex').slice(0, 8), 16) / 0x100000000;
}

/**
 * Held-out membership is a pure function of the *normalised* content (the decontamination key of
 * @genesis/contracts): a learning and every variant of it (other spacing, comments, renamed
 * identifiers, another model output) fall on the same side, in every cycle, so nothing the
 * evaluator measures on — nor anything that normalises to it — is ever trained on.
 */
export function isHeldOut(decontaminationKeyHex: string, evalFraction: number): boolean {
  return unit(decontaminationKeyHex, 'genesis-heldout') < evalFraction;
}

/**
 * One JSONL record of a snapshot; a rebuilt snapshot (ADR 0017) renders its records with it too.
 * `tests` only for eval records: a held-out item with tests is scored by running them.
 */
export function snapshotRecord(l: SnapshotLearning, replay: boolean, tests = false): Record<string, unknown> {
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
    ...(tests && l.tests ? { tests: l.tests } : {}),
    ...(replay ? { replay: true } : {}),
  };
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const byHash = (a: SnapshotLearning, b: SnapshotLearning) => (a.content_hash < b.content_hash ? -1 : 1);

/**
 * Builds the content-addressed training snapshot: every new learning, a replay share of earlier
 * ones (chosen by content, deterministic), never a held-out one nor anything that normalises to a
 * held-out or regression item or teaches its answer; and the frozen eval set beside it (with each
 * item's tests). The same learnings give the same bytes and so the same sha256.
 */
export function buildSnapshot(
  learnings: SnapshotLearning[],
  policy: SnapshotPolicy,
  contaminants: Contaminants = NO_CONTAMINANTS,
): BuiltSnapshot {
  const sorted = [...learnings].sort(byHash);
  const level = policy.level ?? 'identifiers';
  const keyed = sorted.map((l) => ({
    l,
    key: decontaminationKey(l, level),
    answer: correctionKey(l, level),
  }));
  const heldOut = keyed.filter((k) => isHeldOut(k.key, policy.evalFraction));
  const heldOutAnswers = new Set(heldOut.map((k) => k.answer));
  const firstOfGroup = new Set<string>();
  let heldOutVariants = 0;
  for (const k of heldOut) {
    if (firstOfGroup.has(k.key)) heldOutVariants++;
    firstOfGroup.add(k.key);
  }
  const decontamination: Decontamination = {
    held_out_variants: heldOutVariants,
    held_out_answer: 0,
    regression: 0,
  };
  const excluded: SnapshotLearning[] = [];
  const trainable = keyed
    .filter((k) => !isHeldOut(k.key, policy.evalFraction))
    .filter((k) => {
      if (contaminants.itemKeys.has(k.key) || contaminants.correctionKeys.has(k.answer)) {
        decontamination.regression++;
      } else if (heldOutAnswers.has(k.answer)) {
        decontamination.held_out_answer++;
      } else return true;
      excluded.push(k.l);
      return false;
    })
    .map((k) => k.l);
  const fresh = trainable.filter((l) => l.snapshot_id === null);
  const replay = trainable.filter(
    (l) => l.snapshot_id !== null && unit(l.content_hash, 'genesis-replay') < policy.replayShare,
  );
  const lines = [
    ...fresh.map((l) => snapshotRecord(l, false)),
    ...replay.map((l) => snapshotRecord(l, true)),
  ].map((r) => JSON.stringify(r));
  const evalLines = heldOut.map((k) => JSON.stringify(snapshotRecord(k.l, false, true)));
  const jsonl = lines.length ? `${lines.join('\n')}\n` : '';
  const evalJsonl = evalLines.length ? `${evalLines.join('\n')}\n` : '';
  return {
    jsonl,
    sha256: sha256(jsonl),
    evalJsonl,
    evalSha256: sha256(evalJsonl),
    trainIds: fresh.map((l) => l.id),
    replayIds: replay.map((l) => l.id),
    evalIds: heldOut.map((k) => k.l.id),
    decontamination,
    excludedIds: excluded.map((l) => l.id),
  };
}

/** The snapshot reason's note on what decontamination did ('' when it did nothing). */
export function describeDecontamination(d: Decontamination): string {
  const parts = [
    d.held_out_variants ? `${d.held_out_variants} held out as variants of held-out items` : '',
    d.held_out_answer ? `${d.held_out_answer} left out for teaching a held-out answer` : '',
    d.regression ? `${d.regression} left out for matching a regression or anchor item` : '',
  ].filter(Boolean);
  return parts.length ? `; decontamination: ${parts.join(', ')}` : '';
}
